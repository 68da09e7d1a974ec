import { Logger } from '@nestjs/common';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every primary key, unique constraint and foreign key of a table a bank owns leads with
 * `bank_id` (docs/SCALING.md, "Keys led by the bank"), so the schema can be distributed by bank
 * (Citus, with `bank_id` as the distribution column) without another change of keys, and one
 * bank's rows sit together in every key index.
 *
 * - `memory_units`, `entities`, `operations`, `webhooks` and `webhook_deliveries`: primary key
 *   `(id)` becomes `(bank_id, id)`. Queries still look these rows up by id alone, so each keeps a
 *   plain, non-unique index on `id` (not `webhooks`, whose only such lookup, the delivery claim's
 *   join, now joins on the bank too). Nothing relies on `id` being unique on its own: no
 *   `ON CONFLICT (id)` and, after this migration, no foreign key that targets `id` alone.
 * - `memory_units.observation_key`: unique with its bank. The key is derived from the bank among
 *   other things, so the two constraints accept exactly the same rows.
 * - `unit_entities` gets the bank of its memory; primary key `(bank_id, unit_id, entity_id)`, and
 *   its foreign keys `(bank_id, unit_id)` and `(bank_id, entity_id)`, so a memory can no longer
 *   be linked to another bank's entity. The old key stays as a plain index for the lookups by
 *   memory id alone.
 * - `memory_units.superseded_by` and `webhook_deliveries.webhook_id` refer to their target with
 *   the bank. Deleting a successor clears only `superseded_by` (`SET NULL (superseded_by)`, which
 *   needs PostgreSQL 15).
 *
 * Rows that the new foreign keys would refuse are repaired first and counted in the log: an
 * entity link or a supersession pointer across banks, a delivery whose bank is not its webhook's.
 * The code never wrote any.
 */
export class BankLeadingKeys1764700000000 implements MigrationInterface {
  name = 'BankLeadingKeys1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const [{ version }] = (await queryRunner.query(`SELECT current_setting('server_version_num')::int AS version`)) as Array<{
      version: number;
    }>;
    if (version < 150000) {
      throw new Error(
        `PostgreSQL 15 or later is required (this server is ${version}): ` +
          'a supersession pointer is a foreign key with the bank that must clear only the pointer on delete',
      );
    }

    await queryRunner.query(`ALTER TABLE unit_entities ADD COLUMN bank_id text`);
    await queryRunner.query(`UPDATE unit_entities ue SET bank_id = m.bank_id FROM memory_units m WHERE m.id = ue.unit_id`);
    const repaired = {
      crossBankLinks: await affected(
        queryRunner,
        `DELETE FROM unit_entities ue USING entities e WHERE e.id = ue.entity_id AND e.bank_id <> ue.bank_id`,
      ),
      crossBankPointers: await affected(
        queryRunner,
        `UPDATE memory_units m SET superseded_by = NULL, superseded_at = NULL, superseded_by_llm = false
           FROM memory_units s WHERE s.id = m.superseded_by AND s.bank_id <> m.bank_id`,
      ),
      deliveriesMoved: await affected(
        queryRunner,
        `UPDATE webhook_deliveries d SET bank_id = w.bank_id FROM webhooks w WHERE w.id = d.webhook_id AND w.bank_id <> d.bank_id`,
      ),
    };
    if (Object.values(repaired).some((count) => count > 0)) {
      new Logger('Migrations').warn(
        `Rows across banks repaired before the keys led by the bank: ${repaired.crossBankLinks} entity links deleted, ` +
          `${repaired.crossBankPointers} supersession pointers cleared, ${repaired.deliveriesMoved} deliveries given their webhook's bank`,
      );
    }

    await queryRunner.query(`
      ALTER TABLE unit_entities
        ALTER COLUMN bank_id SET NOT NULL,
        DROP CONSTRAINT unit_entities_unit_id_fkey,
        DROP CONSTRAINT unit_entities_entity_id_fkey,
        DROP CONSTRAINT unit_entities_pkey;
      ALTER TABLE memory_units DROP CONSTRAINT memory_units_superseded_by_fkey;
      ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_webhook_id_fkey;

      ALTER TABLE memory_units
        DROP CONSTRAINT memory_units_pkey,
        ADD CONSTRAINT memory_units_pkey PRIMARY KEY (bank_id, id),
        DROP CONSTRAINT memory_units_observation_key_key,
        ADD CONSTRAINT memory_units_bank_id_observation_key_key UNIQUE (bank_id, observation_key);
      ALTER TABLE entities DROP CONSTRAINT entities_pkey, ADD CONSTRAINT entities_pkey PRIMARY KEY (bank_id, id);
      ALTER TABLE operations DROP CONSTRAINT operations_pkey, ADD CONSTRAINT operations_pkey PRIMARY KEY (bank_id, id);
      ALTER TABLE webhooks DROP CONSTRAINT webhooks_pkey, ADD CONSTRAINT webhooks_pkey PRIMARY KEY (bank_id, id);
      ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey, ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (bank_id, id);

      ALTER TABLE unit_entities
        ADD CONSTRAINT unit_entities_pkey PRIMARY KEY (bank_id, unit_id, entity_id),
        ADD CONSTRAINT unit_entities_bank_id_unit_id_fkey FOREIGN KEY (bank_id, unit_id)
          REFERENCES memory_units (bank_id, id) ON DELETE CASCADE,
        ADD CONSTRAINT unit_entities_bank_id_entity_id_fkey FOREIGN KEY (bank_id, entity_id)
          REFERENCES entities (bank_id, id) ON DELETE CASCADE;
      ALTER TABLE memory_units
        ADD CONSTRAINT memory_units_bank_id_superseded_by_fkey FOREIGN KEY (bank_id, superseded_by)
          REFERENCES memory_units (bank_id, id) ON DELETE SET NULL (superseded_by);
      ALTER TABLE webhook_deliveries
        ADD CONSTRAINT webhook_deliveries_bank_id_webhook_id_fkey FOREIGN KEY (bank_id, webhook_id)
          REFERENCES webhooks (bank_id, id) ON DELETE CASCADE;

      CREATE INDEX memory_units_id ON memory_units (id);
      CREATE INDEX entities_id ON entities (id);
      CREATE INDEX operations_id ON operations (id);
      CREATE INDEX webhook_deliveries_id ON webhook_deliveries (id);
      CREATE INDEX unit_entities_unit ON unit_entities (unit_id, entity_id);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP INDEX unit_entities_unit;
      DROP INDEX webhook_deliveries_id;
      DROP INDEX operations_id;
      DROP INDEX entities_id;
      DROP INDEX memory_units_id;

      ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_bank_id_webhook_id_fkey;
      ALTER TABLE memory_units DROP CONSTRAINT memory_units_bank_id_superseded_by_fkey;
      ALTER TABLE unit_entities
        DROP CONSTRAINT unit_entities_bank_id_entity_id_fkey,
        DROP CONSTRAINT unit_entities_bank_id_unit_id_fkey,
        DROP CONSTRAINT unit_entities_pkey;

      ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey, ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);
      ALTER TABLE webhooks DROP CONSTRAINT webhooks_pkey, ADD CONSTRAINT webhooks_pkey PRIMARY KEY (id);
      ALTER TABLE operations DROP CONSTRAINT operations_pkey, ADD CONSTRAINT operations_pkey PRIMARY KEY (id);
      ALTER TABLE entities DROP CONSTRAINT entities_pkey, ADD CONSTRAINT entities_pkey PRIMARY KEY (id);
      ALTER TABLE memory_units
        DROP CONSTRAINT memory_units_bank_id_observation_key_key,
        ADD CONSTRAINT memory_units_observation_key_key UNIQUE (observation_key),
        DROP CONSTRAINT memory_units_pkey,
        ADD CONSTRAINT memory_units_pkey PRIMARY KEY (id);

      ALTER TABLE unit_entities
        DROP COLUMN bank_id,
        ADD CONSTRAINT unit_entities_pkey PRIMARY KEY (unit_id, entity_id),
        ADD CONSTRAINT unit_entities_unit_id_fkey FOREIGN KEY (unit_id) REFERENCES memory_units (id) ON DELETE CASCADE,
        ADD CONSTRAINT unit_entities_entity_id_fkey FOREIGN KEY (entity_id) REFERENCES entities (id) ON DELETE CASCADE;
      ALTER TABLE memory_units
        ADD CONSTRAINT memory_units_superseded_by_fkey FOREIGN KEY (superseded_by) REFERENCES memory_units (id) ON DELETE SET NULL;
      ALTER TABLE webhook_deliveries
        ADD CONSTRAINT webhook_deliveries_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE;
    `);
  }
}

/** Rows a data-changing statement touched; TypeORM's `query` returns them only with `useStructuredResult`. */
async function affected(queryRunner: QueryRunner, statement: string): Promise<number> {
  const result = await queryRunner.query(statement, undefined, true);
  return result.affected ?? 0;
}

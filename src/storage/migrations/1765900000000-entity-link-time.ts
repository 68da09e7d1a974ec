import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each link of a memory to an entity carries the memory's own time (`coalesce(occurred_start,
 * mentioned_at)`, the time recall orders by), and an index walks one entity's links newest first.
 *
 * Recall's entity arm ranked every memory of each person the question names: for a person in 4 %
 * of a 100,000-memory bank that was 4,400 rows read and ranked for 50 returned, the arm's worst
 * case by far. With the time on the link, the arm reads a person's newest few hundred memories
 * through this index and ranks only those (`src/recall/arms/entity-arm.ts`).
 *
 * Triggers keep the copy right whoever writes: a link takes its memory's time when it is inserted
 * (retain, consolidation, imports, the benchmark's bulk load all insert links their own way), and
 * a memory whose time is edited passes it on to its links.
 */
export class EntityLinkTime1765900000000 implements MigrationInterface {
  name = 'EntityLinkTime1765900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE unit_entities ADD COLUMN memory_at timestamptz;
      UPDATE unit_entities ue SET memory_at = coalesce(m.occurred_start, m.mentioned_at)
        FROM memory_units m
       WHERE m.bank_id = ue.bank_id AND m.id = ue.unit_id;
      ALTER TABLE unit_entities ALTER COLUMN memory_at SET NOT NULL;

      CREATE FUNCTION unit_entities_take_memory_time() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        SELECT coalesce(m.occurred_start, m.mentioned_at) INTO NEW.memory_at
          FROM memory_units m
         WHERE m.bank_id = NEW.bank_id AND m.id = NEW.unit_id;
        RETURN NEW;
      END;
      $$;
      CREATE TRIGGER unit_entities_take_memory_time BEFORE INSERT ON unit_entities
        FOR EACH ROW EXECUTE FUNCTION unit_entities_take_memory_time();

      CREATE FUNCTION memory_units_pass_time_to_links() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE unit_entities SET memory_at = coalesce(NEW.occurred_start, NEW.mentioned_at)
         WHERE bank_id = NEW.bank_id AND unit_id = NEW.id;
        RETURN NULL;
      END;
      $$;
      CREATE TRIGGER memory_units_pass_time_to_links AFTER UPDATE OF occurred_start, mentioned_at ON memory_units
        FOR EACH ROW
        WHEN (coalesce(OLD.occurred_start, OLD.mentioned_at) IS DISTINCT FROM coalesce(NEW.occurred_start, NEW.mentioned_at))
        EXECUTE FUNCTION memory_units_pass_time_to_links();

      CREATE INDEX unit_entities_entity_time ON unit_entities (bank_id, entity_id, memory_at DESC, unit_id);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP INDEX unit_entities_entity_time;
      DROP TRIGGER memory_units_pass_time_to_links ON memory_units;
      DROP FUNCTION memory_units_pass_time_to_links();
      DROP TRIGGER unit_entities_take_memory_time ON unit_entities;
      DROP FUNCTION unit_entities_take_memory_time();
      ALTER TABLE unit_entities DROP COLUMN memory_at;
    `);
  }
}

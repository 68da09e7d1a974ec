import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks and their outbox. A delivery row is written in the same transaction as the change it
 * announces, and dispatched later by whichever instance claims it (lease + fencing token, as
 * operations are), so a crash or a shutdown postpones a delivery but never loses it.
 */
export class Webhooks1764200000000 implements MigrationInterface {
  name = 'Webhooks1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE webhooks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        bank_id text NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
        url text NOT NULL,
        secret text,
        event_types text[] NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        http_config jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE INDEX webhooks_bank ON webhooks (bank_id, created_at);

      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        webhook_id uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        bank_id text NOT NULL,
        event_type text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'processing', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        lease_owner text,
        lease_expires_at timestamptz,
        lease_token bigint,
        last_error text,
        last_response_status integer,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        delivered_at timestamptz
      );
      CREATE INDEX webhook_deliveries_claimable ON webhook_deliveries (next_attempt_at)
        WHERE status IN ('pending', 'processing');
      CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at DESC);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE webhook_deliveries;
      DROP TABLE webhooks;
    `);
  }
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per traced LLM call (`GET …/llm-requests`), with Hindsight's columns. Bank-owned, so its
 * keys lead with `bank_id` (see 1764700000000-bank-leading-keys).
 *
 * No foreign key to `banks`: a retain's extraction runs, and is traced, before the retain's
 * transaction creates its bank. The rows go with their bank through a trigger instead.
 */
export class LlmRequests1765400000000 implements MigrationInterface {
  name = 'LlmRequests1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE llm_requests (
        bank_id text NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        operation text,
        scope text,
        trace_id text,
        span_id text,
        parent_span_id text,
        provider text,
        model text,
        status text NOT NULL CHECK (status IN ('success', 'error')),
        started_at timestamptz NOT NULL,
        ended_at timestamptz,
        duration_ms integer,
        input_tokens integer,
        output_tokens integer,
        cached_tokens integer,
        total_tokens integer,
        input jsonb,
        output jsonb,
        error text,
        llm_info jsonb NOT NULL DEFAULT '{}',
        metadata jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (bank_id, id)
      );
      CREATE INDEX llm_requests_by_time ON llm_requests (bank_id, started_at DESC);

      CREATE FUNCTION llm_requests_forget() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM llm_requests WHERE bank_id = OLD.id;
        RETURN OLD;
      END;
      $$;
      CREATE TRIGGER llm_requests_forget AFTER DELETE ON banks FOR EACH ROW EXECUTE FUNCTION llm_requests_forget();
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TRIGGER llm_requests_forget ON banks;
      DROP FUNCTION llm_requests_forget();
      DROP TABLE llm_requests;
    `);
  }
}

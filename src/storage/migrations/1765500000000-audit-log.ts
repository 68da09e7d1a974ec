import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per API request that wrote something, inserted by that write's own transaction.
 *
 * Deliberately no foreign key to `banks`: deleting a bank is itself an audited write, and its
 * entry (with the ones before it) must outlive the bank. The keys still lead with `bank_id`
 * (1764700000000-bank-leading-keys), and the index on `started_at` alone serves the retention
 * sweep, which crosses banks.
 */
export class AuditLog1765500000000 implements MigrationInterface {
  name = 'AuditLog1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_log (
        bank_id text NOT NULL,
        id uuid NOT NULL,
        action text NOT NULL,
        transport text NOT NULL,
        actor text NOT NULL,
        request_id text NOT NULL,
        started_at timestamptz NOT NULL,
        ended_at timestamptz,
        status_code integer,
        request jsonb,
        response jsonb,
        PRIMARY KEY (bank_id, id)
      );
      CREATE INDEX audit_log_by_bank_time ON audit_log (bank_id, started_at DESC);
      CREATE INDEX audit_log_by_time ON audit_log (started_at);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE audit_log`);
  }
}

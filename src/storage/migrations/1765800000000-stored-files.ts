import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Files the server keeps for a while: document-transfer archives, exported for download or
 * uploaded for import. In the database rather than on a disk because any instance of a fleet may
 * serve the download or run the import; in parts of bounded size so that neither writing nor
 * reading one holds a whole archive in memory or in one statement.
 *
 * `key` alone is looked up by the download route (its URL names no bank), hence the plain index;
 * the keys themselves lead with `bank_id` (1764700000000-bank-leading-keys).
 */
export class StoredFiles1765800000000 implements MigrationInterface {
  name = 'StoredFiles1765800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE stored_files (
        bank_id text NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
        key uuid NOT NULL,
        purpose text NOT NULL,
        filename text NOT NULL,
        content_type text NOT NULL,
        byte_size bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (bank_id, key)
      );
      CREATE INDEX stored_files_by_key ON stored_files (key);
      CREATE INDEX stored_files_by_expiry ON stored_files (expires_at);
      CREATE TABLE stored_file_parts (
        bank_id text NOT NULL,
        key uuid NOT NULL,
        seq integer NOT NULL,
        bytes bytea NOT NULL,
        PRIMARY KEY (bank_id, key, seq),
        FOREIGN KEY (bank_id, key) REFERENCES stored_files(bank_id, key) ON DELETE CASCADE
      );
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE stored_file_parts; DROP TABLE stored_files`);
  }
}

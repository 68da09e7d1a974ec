import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Banks, memory units with their embedding and full-text vector, entities and their links,
 * documents, and the operations table whose leases let several instances share async work.
 *
 * The embedding column's type is chosen here, once: `vector` where the pgvector extension can be
 * created, `real[]` (scanned exactly) where it cannot. The choice is recorded in
 * `memory_settings` so every instance reads the same answer instead of probing again.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const vectorBackend = (await createVectorExtension(queryRunner)) ? 'pgvector' : 'real-array';
    const embeddingType = vectorBackend === 'pgvector' ? 'vector' : 'real[]';

    await queryRunner.query(`
      CREATE TABLE memory_settings (
        key text PRIMARY KEY,
        value text NOT NULL
      );

      CREATE SEQUENCE memory_lease_tokens;

      CREATE TABLE banks (
        id text PRIMARY KEY,
        name text,
        mission text NOT NULL DEFAULT '',
        disposition jsonb NOT NULL DEFAULT '{}'::jsonb,
        config jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE documents (
        bank_id text NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
        id text NOT NULL,
        original_text text,
        content_hash text,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        tags text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (bank_id, id)
      );

      CREATE TABLE memory_units (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        bank_id text NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
        document_id text,
        text text NOT NULL,
        context text,
        fact_type text NOT NULL DEFAULT 'world',
        occurred_start timestamptz,
        occurred_end timestamptz,
        mentioned_at timestamptz NOT NULL DEFAULT now(),
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        tags text[] NOT NULL DEFAULT '{}',
        embedding ${embeddingType},
        search_vector tsvector GENERATED ALWAYS AS (
          to_tsvector('english', coalesce(text, '') || ' ' || coalesce(context, ''))
        ) STORED,
        state text NOT NULL DEFAULT 'valid',
        consolidation_status text NOT NULL DEFAULT 'pending',
        consolidation_attempts integer NOT NULL DEFAULT 0,
        lease_owner text,
        lease_expires_at timestamptz,
        lease_token bigint,
        source_memory_ids uuid[],
        proof_count integer,
        observation_key text UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (bank_id, document_id) REFERENCES documents(bank_id, id) ON DELETE CASCADE
      );
      CREATE INDEX memory_units_bank_type ON memory_units (bank_id, fact_type, created_at DESC);
      CREATE INDEX memory_units_search ON memory_units USING gin (search_vector);
      CREATE INDEX memory_units_tags ON memory_units USING gin (tags);
      CREATE INDEX memory_units_document ON memory_units (bank_id, document_id);
      CREATE INDEX memory_units_occurred ON memory_units (bank_id, occurred_start);
      CREATE INDEX memory_units_consolidation ON memory_units (bank_id, consolidation_status)
        WHERE consolidation_status IN ('pending', 'claimed');

      CREATE TABLE entities (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        bank_id text NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
        name text NOT NULL,
        canonical_name text NOT NULL,
        entity_type text,
        mention_count integer NOT NULL DEFAULT 0,
        first_seen timestamptz NOT NULL DEFAULT now(),
        last_seen timestamptz NOT NULL DEFAULT now(),
        UNIQUE (bank_id, canonical_name)
      );

      CREATE TABLE unit_entities (
        unit_id uuid NOT NULL REFERENCES memory_units(id) ON DELETE CASCADE,
        entity_id uuid NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        PRIMARY KEY (unit_id, entity_id)
      );
      CREATE INDEX unit_entities_entity ON unit_entities (entity_id);

      -- The exact scan of the real[] back end; vectors are stored L2-normalised, so cosine
      -- distance is one minus the dot product.
      CREATE FUNCTION memory_cosine_distance(a real[], b real[]) RETURNS double precision
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT 1 - sum(x * y) FROM unnest(a, b) AS t(x, y) $$;

      CREATE TABLE operations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        bank_id text NOT NULL REFERENCES banks(id) ON DELETE CASCADE,
        kind text NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        payload jsonb NOT NULL DEFAULT '{}'::jsonb,
        result jsonb,
        error text,
        attempts integer NOT NULL DEFAULT 0,
        lease_owner text,
        lease_expires_at timestamptz,
        lease_token bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      );
      CREATE INDEX operations_bank ON operations (bank_id, created_at DESC);
      CREATE INDEX operations_claimable ON operations (status, lease_expires_at)
        WHERE status IN ('pending', 'processing');
    `);
    await queryRunner.query(`INSERT INTO memory_settings (key, value) VALUES ('vector_backend', $1)`, [vectorBackend]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE operations;
      DROP TABLE unit_entities;
      DROP TABLE entities;
      DROP TABLE memory_units;
      DROP TABLE documents;
      DROP TABLE banks;
      DROP SEQUENCE memory_lease_tokens;
      DROP TABLE memory_settings;
      DROP FUNCTION memory_cosine_distance(real[], real[]);
    `);
  }
}

async function createVectorExtension(queryRunner: QueryRunner): Promise<boolean> {
  const available: unknown[] = await queryRunner.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`);
  if (available.length === 0) return false;
  // Available but not creatable (no privilege) must fall back, not fail the migration; the
  // savepoint keeps the surrounding migration transaction usable after the error.
  await queryRunner.query('SAVEPOINT memory_vector_extension');
  try {
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS vector');
    await queryRunner.query('RELEASE SAVEPOINT memory_vector_extension');
    return true;
  } catch {
    await queryRunner.query('ROLLBACK TO SAVEPOINT memory_vector_extension');
    return false;
  }
}

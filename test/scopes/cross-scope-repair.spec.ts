import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { repairCrossScopeObservations } from '../../src/consolidation/observation-scopes.queries.js';
import { DataSourceRegistry, DEFAULT_DATA_SOURCE_SETTINGS } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { runMemoryMigrations } from '../../src/storage/migration-runner.js';
import { MEMORY_MIGRATIONS } from '../../src/storage/migrations/index.js';
import { LogCapture } from '../helpers/log-capture.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

/**
 * Existing data: observations that consolidation built across scopes before scopes existed (two
 * users' memories, tagged with the union of their tags) are found by the migration that brings
 * scopes in, invalidated, and their sources queued again; a second run finds nothing.
 */
describe.each(['PGlite', 'PostgreSQL'] as const)('repair of observations built across scopes on %s', (backend) => {
  let registry: DataSourceRegistry;
  let dataSource: DataSource;
  let database: MemoryDatabase;
  let dropName: string | undefined;
  let logs: LogCapture;
  const before = MEMORY_MIGRATIONS.filter((migration) => migration.name !== 'ObservationScopes1764300000000');

  beforeAll(async () => {
    logs = new LogCapture().install();
    // The schema as it was before scopes: every migration but the one under test.
    registry = new DataSourceRegistry(DEFAULT_DATA_SOURCE_SETTINGS, (source) => runMemoryMigrations(source, before));
    let url = `pglite://memory/repair-${randomUUID()}`;
    if (backend === 'PostgreSQL') {
      const created = await createTestDatabase('repair');
      url = created.url;
      dropName = created.name;
    }
    dataSource = await registry.acquire(url);
    database = new MemoryDatabase(dataSource);
  });

  afterAll(async () => {
    await registry.closeAll();
    if (dropName) await dropTestDatabase(dropName);
  });

  async function insert(bankId: string, text: string, tags: string[], extra: { sources?: string[] } = {}): Promise<string> {
    const [row] = await database.query<{ id: string }>(
      `INSERT INTO memory_units (bank_id, text, fact_type, tags, source_memory_ids, proof_count, consolidation_status)
       VALUES ($1, $2, $3, $4::text[], $5::uuid[], $6, 'done') RETURNING id`,
      [bankId, text, extra.sources ? 'observation' : 'world', tags, extra.sources ?? null, extra.sources?.length ?? null],
    );
    return row.id;
  }

  it('invalidates only the mixed observations, queues their sources and a consolidation, and is idempotent', async () => {
    await database.query(`INSERT INTO banks (id) VALUES ('leak'), ('clean')`);
    const julia = await insert('leak', "Julia's locker code is 7731.", ['user:julia']);
    const ivan = await insert('leak', "Ivan's locker code is 4419.", ['user:ivan']);
    const mixed = await insert('leak', "Ivan's locker code is 4419. Julia's locker code is 7731.", ['user:ivan', 'user:julia'], {
      sources: [julia, ivan],
    });
    const a = await insert('clean', 'Ana likes tea.', ['user:ana']);
    const b = await insert('clean', 'Ana drinks tea daily.', ['user:ana']);
    const honest = await insert('clean', 'Ana likes tea. Ana drinks tea daily.', ['user:ana'], { sources: [a, b] });

    const applied = await runMemoryMigrations(dataSource);

    expect(applied).toEqual(['ObservationScopes1764300000000']);
    expect(logs.lines).toContain('Observations built across tag scopes: 1 invalidated, 2 source memories queued again (banks: leak)');
    const rows = await database.query<{ id: string; state: string; invalidation_reason: string | null; consolidation_status: string }>(
      `SELECT id, state, invalidation_reason, consolidation_status FROM memory_units`,
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(mixed)).toMatchObject({ state: 'invalidated', invalidation_reason: 'sources span observation scopes' });
    expect([byId.get(julia)!.consolidation_status, byId.get(ivan)!.consolidation_status]).toEqual(['pending', 'pending']);
    expect(byId.get(honest)).toMatchObject({ state: 'valid' });
    expect([byId.get(a)!.consolidation_status, byId.get(b)!.consolidation_status]).toEqual(['done', 'done']);
    const queued = await database.query<{ bank_id: string }>(
      `SELECT bank_id FROM operations WHERE kind = 'consolidation' AND status = 'pending'`,
    );
    expect(queued.map((row) => row.bank_id)).toEqual(['leak']);

    const again = await database.withConnection((sql) => repairCrossScopeObservations(sql));
    expect(again).toEqual({ observationsInvalidated: 0, memoriesRequeued: 0, banks: [] });
    expect(await database.query(`SELECT id FROM operations`)).toHaveLength(1);
  });
});

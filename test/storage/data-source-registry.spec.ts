import type { DataSource } from 'typeorm';
import { DataSourceRegistry, DEFAULT_DATA_SOURCE_SETTINGS, DatabaseConnectError } from '../../src/storage/data-source-registry.js';
import { runMemoryMigrations } from '../../src/storage/migration-runner.js';
import { MEMORY_MIGRATIONS } from '../../src/storage/migrations/index.js';
import { eventually } from '../helpers/eventually.js';
import { LogCapture } from '../helpers/log-capture.js';
import { adminQuery, createTestDatabase, databaseUrl, dropTestDatabase, openSessions } from '../helpers/postgres.js';

function countingRegistry(settings = DEFAULT_DATA_SOURCE_SETTINGS) {
  const migrated: DataSource[] = [];
  const registry = new DataSourceRegistry(settings, async (dataSource) => {
    migrated.push(dataSource);
    return runMemoryMigrations(dataSource);
  });
  return { registry, migrated };
}

/** Equivalent spellings of one server URL: alias schemes, host case, explicit port, slash, params. */
function spellingsOf(url: string): string[] {
  const parsed = new URL(url);
  const host = parsed.hostname;
  const rest = `${parsed.username}:${parsed.password}@`;
  const db = parsed.pathname.slice(1);
  return [
    `postgres://${rest}${host}:${parsed.port}/${db}`,
    `postgresql://${rest}${host}:${parsed.port}/${db}/`,
    `pg://${rest}${host.toUpperCase()}:${parsed.port}/${db}`,
    `POSTGRES://${rest}${host}:${parsed.port}/${db}?sslmode=disable&connect_timeout=5`,
    `postgres://${rest}${host}:${parsed.port}/${db}?connect_timeout=5&sslmode=disable`,
  ];
}

describe('DataSourceRegistry on PostgreSQL', () => {
  let database: { name: string; url: string };

  beforeAll(async () => {
    new LogCapture().install();
    database = await createTestDatabase('registry');
  });

  afterAll(async () => {
    await dropTestDatabase(database.name);
  });

  it('creates exactly one DataSource and migrates once for 50 concurrent acquires of one database', async () => {
    const { registry, migrated } = countingRegistry({ ...DEFAULT_DATA_SOURCE_SETTINGS, poolSize: 2 });
    const spellings = spellingsOf(database.url);
    const acquired = await Promise.all(Array.from({ length: 50 }, (_, i) => registry.acquire(spellings[i % spellings.length])));
    // Query parameters name a different connection, so those spellings form their own entry.
    const plain = acquired.filter((_, i) => i % spellings.length < 3);
    const withParams = acquired.filter((_, i) => i % spellings.length >= 3);
    expect(new Set(plain).size).toBe(1);
    expect(new Set(withParams).size).toBe(1);
    expect(migrated).toHaveLength(2);
    expect(registry.size).toBe(2);
    const rows = await adminQuery(`SELECT 1`);
    expect(rows).toHaveLength(1);
    await registry.closeAll();
    await eventually(
      () => openSessions(database.name),
      (count) => count === 0,
    );
  });

  it('records each migration once even when two registries (two instances) start together', async () => {
    const fresh = await createTestDatabase('registry_twin');
    const a = countingRegistry();
    const b = countingRegistry();
    await Promise.all([a.registry.acquire(fresh.url), b.registry.acquire(fresh.url)]);
    const history = await a.registry.acquire(fresh.url).then((ds) => ds.query(`SELECT name FROM memory_migrations ORDER BY id`));
    expect(history.map((row: { name: string }) => row.name)).toEqual(MEMORY_MIGRATIONS.map((m) => new m().name));
    await Promise.all([a.registry.closeAll(), b.registry.closeAll()]);
    await dropTestDatabase(fresh.name);
  });

  it('evicts a failed creation, leaves no session open, and lets the next caller succeed', async () => {
    const name = `registry_late_${Date.now()}`;
    const url = databaseUrl(name);
    const { registry } = countingRegistry({ ...DEFAULT_DATA_SOURCE_SETTINGS, connectAttempts: 2, connectRetryDelayMs: 10 });

    const failure = await registry.acquire(url).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DatabaseConnectError);
    expect((failure as Error).message).toMatch(new RegExp(`after 2 attempts: .*${name}`));
    expect((failure as Error).message).not.toContain('memory-test@');
    expect(registry.size).toBe(0);

    await adminQuery(`CREATE DATABASE ${name}`);
    const dataSource = await registry.acquire(url);
    expect(await dataSource.query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    await registry.closeAll();
    await eventually(
      () => openSessions(name),
      (count) => count === 0,
    );
    await dropTestDatabase(name);
  });

  it('closes idle connections after poolIdleTimeoutMs, and keeps them five minutes by default', async () => {
    const sessionsOf = async (applicationName: string) =>
      Number(
        (
          await adminQuery<{ count: string }>(
            `SELECT count(*) AS count FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`,
            [database.name, applicationName],
          )
        )[0].count,
      );
    const kept = countingRegistry({ ...DEFAULT_DATA_SOURCE_SETTINGS, poolSize: 2, applicationName: 'idle-kept' });
    const closed = countingRegistry({
      ...DEFAULT_DATA_SOURCE_SETTINGS,
      poolSize: 2,
      applicationName: 'idle-closed',
      poolIdleTimeoutMs: 100,
    });
    try {
      const [keptSource, closedSource] = await Promise.all([kept.registry.acquire(database.url), closed.registry.acquire(database.url)]);
      // Two statements at once open both connections of each pool.
      const twoAtOnce = (dataSource: DataSource) =>
        Promise.all([dataSource.query('SELECT pg_sleep(0.05)'), dataSource.query('SELECT pg_sleep(0.05)')]);
      await Promise.all([twoAtOnce(keptSource), twoAtOnce(closedSource)]);
      expect(await sessionsOf('idle-kept')).toBe(2);
      await eventually(
        () => sessionsOf('idle-closed'),
        (count) => count === 0,
      );
      // The short pool's connections idled out; the default one's, idle as long, are still open.
      expect(await sessionsOf('idle-kept')).toBe(2);
      expect(
        (keptSource.driver as unknown as { master: { options: { idleTimeoutMillis: number } } }).master.options.idleTimeoutMillis,
      ).toBe(300_000);
    } finally {
      await Promise.all([kept.registry.closeAll(), closed.registry.closeAll()]);
    }
  });

  it('waits for a creation in flight before closing, and refuses new acquires while closing', async () => {
    const { registry } = countingRegistry();
    const inFlight = registry.acquire(database.url);
    const closing = registry.closeAll();
    await expect(registry.acquire(database.url)).rejects.toThrow(/closed/);
    const dataSource = await inFlight;
    await closing;
    expect(dataSource.isInitialized).toBe(false);
    await eventually(
      () => openSessions(database.name),
      (count) => count === 0,
    );
  });
});

describe('DataSourceRegistry on PGlite', () => {
  beforeAll(() => {
    new LogCapture().install();
  });

  it('shares one DataSource between equivalent spellings and migrates it once', async () => {
    const { registry, migrated } = countingRegistry();
    const acquired = await Promise.all(
      Array.from({ length: 50 }, (_, i) => registry.acquire(i % 2 ? 'pglite://memory/registry' : 'PGLITE://Memory/registry/')),
    );
    expect(new Set(acquired).size).toBe(1);
    expect(migrated).toHaveLength(1);
    const [{ value }] = await acquired[0].query(`SELECT value FROM memory_settings WHERE key = 'vector_backend'`);
    expect(value).toBe('pgvector');
    await registry.closeAll();
    expect(acquired[0].isInitialized).toBe(false);
  });

  it('evicts a creation whose migration failed, and the next caller retries', async () => {
    let failNext = true;
    const registry = new DataSourceRegistry(DEFAULT_DATA_SOURCE_SETTINGS, async (dataSource) => {
      if (failNext) {
        failNext = false;
        throw new Error('migration interrupted');
      }
      return runMemoryMigrations(dataSource);
    });
    await expect(registry.acquire('pglite://memory/retry')).rejects.toThrow('migration interrupted');
    expect(registry.size).toBe(0);
    const dataSource = await registry.acquire('pglite://memory/retry');
    expect(await dataSource.query('SELECT count(*)::int AS n FROM banks')).toEqual([{ n: 0 }]);
    await registry.closeAll();
  });
});

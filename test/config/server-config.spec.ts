import { InvalidEnvironmentError, ignoredVariableWarnings, loadServerConfig } from '../../src/config/server-config.js';
import { resolveMemoryOptions } from '../../src/memory.options.js';

/** What the module runs with for this environment: the server's mapping, then the option defaults. */
function resolved(env: Record<string, string>) {
  return resolveMemoryOptions(loadServerConfig(env).memory);
}

describe('standalone server environment', () => {
  it('leaves lease lengths and poll intervals to the module defaults when unset or blank', () => {
    const unset: Array<Record<string, string>> = [
      {},
      { MEMORY_OPERATIONS_LEASE_MS: '', MEMORY_WEBHOOK_LEASE_MS: '', MEMORY_WEBHOOK_POLL_MS: '' },
    ];
    for (const env of unset) {
      const options = resolved(env);
      expect(options.operations).toMatchObject({ leaseMs: 30_000, pollIntervalMs: 1000 });
      expect(options.consolidation).toMatchObject({ leaseMs: 60_000, cron: '*/30 * * * * *' });
      expect(options.webhooks).toMatchObject({ leaseMs: 30_000, pollIntervalMs: 1000, allowPrivate: false });
    }
  });

  it('maps MEMORY_*_LEASE_MS and MEMORY_*_POLL_MS onto the options, keeping the other defaults', () => {
    const options = resolved({
      MEMORY_OPERATIONS_LEASE_MS: '1500',
      MEMORY_OPERATIONS_POLL_MS: '50',
      MEMORY_CONSOLIDATION_LEASE_MS: '2000',
      MEMORY_WEBHOOK_LEASE_MS: '1000',
      MEMORY_WEBHOOK_POLL_MS: '100',
    });
    expect(options.operations).toEqual({ concurrency: 2, pollIntervalMs: 50, leaseMs: 1500, maxAttempts: 3 });
    expect(options.consolidation).toMatchObject({ leaseMs: 2000, cron: '*/30 * * * * *', batchSize: 20 });
    expect(options.webhooks).toMatchObject({ leaseMs: 1000, pollIntervalMs: 100, allowPrivate: false, timeoutMs: 10_000 });
  });

  it('combines the lease variables with MEMORY_CONSOLIDATION_CRON and MEMORY_WEBHOOK_ALLOW_PRIVATE', () => {
    const options = resolved({ MEMORY_CONSOLIDATION_CRON: 'off', MEMORY_CONSOLIDATION_LEASE_MS: '700', MEMORY_WEBHOOK_ALLOW_PRIVATE: '1' });
    expect(options.consolidation).toMatchObject({ cron: null, leaseMs: 700 });
    expect(options.webhooks).toMatchObject({ allowPrivate: true, leaseMs: 30_000 });
    expect(resolved({ MEMORY_WEBHOOK_ALLOW_PRIVATE: 'false', MEMORY_WEBHOOK_LEASE_MS: '5000' }).webhooks).toMatchObject({
      allowPrivate: false,
      leaseMs: 5000,
    });
  });

  it("leaves the pool to the module's defaults when unset, and maps MEMORY_DB_* onto it when set", () => {
    expect(resolved({})).toMatchObject({ poolSize: 10, poolIdleTimeoutMs: 300_000, connectAttempts: 5 });
    expect(resolved({ MEMORY_DB_POOL_SIZE: '3', MEMORY_DB_POOL_IDLE_TIMEOUT_MS: '0', MEMORY_DB_CONNECT_ATTEMPTS: '2' })).toMatchObject({
      poolSize: 3,
      poolIdleTimeoutMs: 0,
      connectAttempts: 2,
    });
  });

  it('prepares recall statements unless MEMORY_DB_PREPARED_STATEMENTS turns it off, and names a value it cannot read', () => {
    expect(resolved({}).preparedStatements).toBe(true);
    expect(resolved({ MEMORY_DB_PREPARED_STATEMENTS: 'false' }).preparedStatements).toBe(false);
    expect(resolved({ MEMORY_DB_PREPARED_STATEMENTS: '0' }).preparedStatements).toBe(false);
    expect(resolved({ MEMORY_DB_PREPARED_STATEMENTS: '1' }).preparedStatements).toBe(true);
    expect(() => loadServerConfig({ MEMORY_DB_PREPARED_STATEMENTS: 'sometimes' })).toThrow(/MEMORY_DB_PREPARED_STATEMENTS/);
  });

  it("maps MEMORY_PGLITE_SHARED_BUFFERS onto PGlite's buffer pool, and names it when it is no size", () => {
    expect(resolved({}).pgliteSharedBuffers).toBeUndefined();
    expect(resolved({ MEMORY_PGLITE_SHARED_BUFFERS: '256MB' }).pgliteSharedBuffers).toBe('256MB');
    expect(() => loadServerConfig({ MEMORY_PGLITE_SHARED_BUFFERS: 'lots' })).toThrow(/MEMORY_PGLITE_SHARED_BUFFERS: must be a size/);
  });

  it('serves the memory console unless MEMORY_CONSOLE_ENABLED turns it off', () => {
    expect(loadServerConfig({}).console).toEqual({ enabled: true });
    expect(loadServerConfig({ MEMORY_CONSOLE_ENABLED: '' }).console).toEqual({ enabled: true });
    expect(loadServerConfig({ MEMORY_CONSOLE_ENABLED: 'false' }).console).toEqual({ enabled: false });
    expect(loadServerConfig({ MEMORY_CONSOLE_ENABLED: '0' }).console).toEqual({ enabled: false });
    expect(loadServerConfig({ MEMORY_CONSOLE_ENABLED: '1' }).console).toEqual({ enabled: true });
  });

  it("maps MEMORY_BANK_INDEX_* onto the banks' own HNSW indexes, `off` turning them off", () => {
    expect(resolved({}).bankVectorIndexes).toEqual({ minMemories: 10_000, intervalMs: 300_000, onPglite: false, buildMemoryMb: 1024 });
    expect(
      resolved({
        MEMORY_BANK_INDEX_MIN_MEMORIES: '50000',
        MEMORY_BANK_INDEX_INTERVAL_MS: '60000',
        MEMORY_BANK_INDEX_BUILD_MEMORY_MB: '256',
      }).bankVectorIndexes,
    ).toEqual({ minMemories: 50_000, intervalMs: 60_000, onPglite: false, buildMemoryMb: 256 });
    expect(resolved({ MEMORY_BANK_INDEX_MIN_MEMORIES: 'off' }).bankVectorIndexes).toMatchObject({ minMemories: null, intervalMs: 300_000 });
    expect(resolved({ MEMORY_BANK_INDEX_BUILD_MEMORY_MB: 'off' }).bankVectorIndexes).toMatchObject({ buildMemoryMb: null });
  });

  it("maps MEMORY_BANK_STATISTICS_* onto the check of new banks' statistics, `off` turning it off", () => {
    expect(resolved({}).bankStatistics).toEqual({ intervalMs: 60_000, minMemories: 1_000 });
    expect(resolved({ MEMORY_BANK_STATISTICS_INTERVAL_MS: '30000', MEMORY_BANK_STATISTICS_MIN_MEMORIES: '5000' }).bankStatistics).toEqual({
      intervalMs: 30_000,
      minMemories: 5_000,
    });
    expect(resolved({ MEMORY_BANK_STATISTICS_INTERVAL_MS: 'off' }).bankStatistics).toEqual({ intervalMs: null, minMemories: 1_000 });
  });

  it.each([
    ['MEMORY_BANK_STATISTICS_INTERVAL_MS', 'never'],
    ['MEMORY_BANK_STATISTICS_MIN_MEMORIES', '0'],
    ['MEMORY_BANK_INDEX_MIN_MEMORIES', 'never'],
    ['MEMORY_BANK_INDEX_INTERVAL_MS', '0'],
    ['MEMORY_BANK_INDEX_BUILD_MEMORY_MB', '1.5GB'],
    ['MEMORY_CONSOLE_ENABLED', 'yes'],
    ['MEMORY_OPERATIONS_LEASE_MS', '0'],
    ['MEMORY_OPERATIONS_POLL_MS', '-5'],
    ['MEMORY_CONSOLIDATION_LEASE_MS', '1.5'],
    ['MEMORY_WEBHOOK_LEASE_MS', 'thirty seconds'],
    ['MEMORY_WEBHOOK_POLL_MS', '0'],
  ])('rejects %s=%s with an error naming the variable', (name, value) => {
    expect(() => loadServerConfig({ [name]: value })).toThrow(InvalidEnvironmentError);
    expect(() => loadServerConfig({ [name]: value })).toThrow(new RegExp(`^Invalid environment: ${name}: `));
  });

  it('names the MEMORY_* variables it does not read, and only those', () => {
    const config = loadServerConfig({
      MEMORY_EMBEDING_DIM: '768',
      MEMORY_BANK_INDEX_MAX_SHARE: '0.5',
      MEMORY_EMBEDDING_DIM: '384',
      MEMORY_UNSET_BUT_BLANK: '',
      PATH: '/usr/bin',
    });
    expect(config.ignoredVariables).toEqual(['MEMORY_BANK_INDEX_MAX_SHARE', 'MEMORY_EMBEDING_DIM']);
    expect(ignoredVariableWarnings(config)).toEqual([
      expect.stringMatching(/^MEMORY_BANK_INDEX_MAX_SHARE is set but is not a setting of this server, so it is ignored/),
      expect.stringMatching(/^MEMORY_EMBEDING_DIM is set but /),
    ]);
    expect(loadServerConfig({ MEMORY_EMBEDDING_DIM: '384' }).ignoredVariables).toEqual([]);
  });
});

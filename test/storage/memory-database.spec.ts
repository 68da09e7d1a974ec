import type { INestApplicationContext } from '@nestjs/common';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { bootStartedMemory } from '../helpers/memory-app.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

describe('MemoryDatabase afterCommit (PostgreSQL)', () => {
  let app: INestApplicationContext;
  let database: { name: string; url: string };

  beforeAll(async () => {
    database = await createTestDatabase('after_commit');
    const booted = await bootStartedMemory({ databaseUrl: database.url, poolSize: 2, watchdogIntervalMs: 60_000 });
    app = booted.app;
  });

  afterAll(async () => {
    await app?.close();
    await dropTestDatabase(database.name);
  });

  it('runs the callback once the write is visible to another connection, and never after a rollback', async () => {
    const db = app.get(MemoryDatabase);
    const seenByOthers: number[] = [];
    const visibleCount = () => db.query<{ n: number }>(`SELECT count(*)::int AS n FROM banks WHERE id = 'after-commit'`);
    const checks: Array<Promise<void>> = [];

    await db.transaction(async (sql) => {
      await sql.query(`INSERT INTO banks (id) VALUES ('after-commit')`);
      // Nested scopes share the outer transaction: their callbacks wait for its commit too.
      await db.transaction(async (inner) =>
        inner.afterCommit(() => checks.push(visibleCount().then(([row]) => void seenByOthers.push(row.n)))),
      );
      // Still uncommitted: another connection cannot see the row, and nothing has run.
      expect(seenByOthers).toEqual([]);
    });
    await Promise.all(checks);
    expect(seenByOthers).toEqual([1]);

    let ranAfterRollback = false;
    await expect(
      db.transaction(async (sql) => {
        await sql.query(`INSERT INTO banks (id) VALUES ('rolled-back')`);
        sql.afterCommit(() => (ranAfterRollback = true));
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(ranAfterRollback).toBe(false);
    expect(await db.query(`SELECT id FROM banks WHERE id = 'rolled-back'`)).toEqual([]);
  });
});

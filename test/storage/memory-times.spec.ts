import type { QueryRunner } from 'typeorm';
import { MemoryErrorCode, MemoryException } from '../../src/memory.exception.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { ClampMemoryTimes1766700000000 } from '../../src/storage/migrations/1766700000000-clamp-memory-times.js';
import { LATEST_INSTANT } from '../../src/storage/storable-instant.js';
import { type HttpApp, call, startHttpApp } from '../http/http-app.js';
import { BACK_ENDS } from '../helpers/back-ends.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

const API = '/v1/default/banks/times';
const LATEST = LATEST_INSTANT.toISOString();

interface ListedMemory {
  id: string;
  text: string;
  occurred_start: string | null;
  occurred_end: string | null;
  mentioned_at: string | null;
}

async function listed(http: HttpApp): Promise<ListedMemory[]> {
  const response = await call(http.url, 'GET', `${API}/memories/list?limit=100`);
  expect(response.status).toBe(200);
  return response.body.items;
}

/**
 * A memory's times stay within years 1 to 9999, which both back ends write and read alike: a
 * caller's time outside them is refused naming the field, and one derived from the text is
 * clamped to them. On PGlite such a time failed the retain with a 500; on node-postgres it was
 * written, and then every recall that met the row failed.
 */
describe.each(BACK_ENDS)('memory times at the ends of the calendar, on %s', (_backEnd, openDatabase) => {
  let http: HttpApp;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await openDatabase('times');
    drop = database.drop;
    http = await startHttpApp({ DATABASE_URL: database.url });
  });

  afterAll(async () => {
    await http?.close();
    await drop?.();
  });

  it.each([
    ['year 0', '0000-06-01T00:00:00Z'],
    ['year 1 at midnight an hour east of UTC, which is year 0', '0001-01-01T00:00:00+01:00'],
    ['the last day of 9999 late west of UTC, which is year 10000', '9999-12-31T23:30:00-01:00'],
  ])('refuses a timestamp in %s naming the field, and stores nothing', async (_name, timestamp) => {
    const before = await listed(http);
    const response = await call(http.url, 'POST', `${API}/memories`, { items: [{ content: 'Ada met Bob.', timestamp }] });
    expect(response.status).toBe(422);
    expect(response.body.detail).toEqual([
      {
        loc: ['body', 'items', 0, 'timestamp'],
        msg: 'timestamp must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z',
        type: 'value_error',
      },
    ]);
    expect(await listed(http)).toEqual(before);
    const recalled = await call(http.url, 'POST', `${API}/memories/recall`, { query: 'Ada', query_timestamp: timestamp });
    expect(recalled.status).toBe(400);
  });

  it('keeps a date at the end of 9999 in the text, ending its range at the last storable instant, and recalls it', async () => {
    const retained = await call(http.url, 'POST', `${API}/memories`, {
      items: [
        { content: 'Ada met Bob on 31 December 9999.' },
        // "Tomorrow" from the last day is no storable time: the item's own time stands.
        { content: 'Cleo meets Dan tomorrow.', timestamp: '9999-12-31T12:00:00Z' },
      ],
    });
    expect(retained.status).toBe(200);
    const memories = await listed(http);
    expect(memories.find((memory) => memory.text.startsWith('Ada'))).toMatchObject({
      occurred_start: '9999-12-31T00:00:00.000Z',
      occurred_end: LATEST,
    });
    expect(memories.find((memory) => memory.text.startsWith('Cleo'))).toMatchObject({
      occurred_start: '9999-12-31T12:00:00.000Z',
      occurred_end: '9999-12-31T12:00:00.000Z',
    });
    // Asked on the last day, "next year" is past the calendar: the range ends where it does.
    for (const question of [
      { query: 'Whom did Ada meet in December 9999?' },
      { query: 'What happens next year?', query_timestamp: '9999-12-31T18:00:00Z' },
    ]) {
      const recalled = await call(http.url, 'POST', `${API}/memories/recall`, question);
      expect(recalled.status).toBe(200);
      expect(recalled.body.results.map((result: { text: string }) => result.text)).toContain('Ada met Bob on 31 December 9999.');
    }
  });

  it('refuses a memory edit that moves its times out of the calendar, naming the field', async () => {
    const [memory] = await listed(http);
    const edited = await call(http.url, 'PATCH', `${API}/memories/${memory.id}`, { occurred_start: '0000-12-31T00:00:00Z' });
    expect(edited.status).toBe(422);
    expect(edited.body.detail).toEqual([expect.objectContaining({ loc: ['body', 'occurred_start'] })]);
    expect((await listed(http)).find((found) => found.id === memory.id)).toEqual(memory);
  });

  it('refuses such times from a host calling the services, naming the field', async () => {
    const retainError = await http.app
      .get(RetainService)
      .retain('times', { items: [{ content: 'Eve met Finn.', timestamp: new Date('0000-01-01T00:00:00Z') }] })
      .catch((error: unknown) => error);
    expect(retainError).toBeInstanceOf(MemoryException);
    expect(retainError).toMatchObject({ code: MemoryErrorCode.InvalidInput, field: 'items.0.timestamp' });
    const recallError = await http.app
      .get(RecallService)
      .recall({ bankId: 'times', query: 'Eve', queryTimestamp: new Date(LATEST_INSTANT.getTime() + 1) })
      .catch((error: unknown) => error);
    expect(recallError).toBeInstanceOf(MemoryException);
    expect(recallError).toMatchObject({ code: MemoryErrorCode.InvalidInput });
  });
});

describe('memory times an earlier version wrote past year 9999 (PostgreSQL)', () => {
  it('are moved to the last storable instant by the migration, and the bank recalls again', async () => {
    const { name, url } = await createTestDatabase('times_migration');
    const http = await startHttpApp({ DATABASE_URL: url });
    try {
      const retained = await call(http.url, 'POST', `${API}/memories`, { items: [{ content: 'Gus met Hal on 30 December 9999.' }] });
      expect(retained.status).toBe(200);
      const database = http.app.get(MemoryDatabase);
      // What node-postgres wrote for "31 December 9999" before: a range ending in year 10000.
      await database.query(`UPDATE memory_units SET occurred_end = '10000-01-01 00:00:00+00'`);
      await database.query(`UPDATE unit_entities SET memory_at = '10000-01-01 00:00:00+00'`);
      const poisoned = await call(http.url, 'POST', `${API}/memories/recall`, { query: 'Whom did Gus meet?' });
      expect(poisoned.status).toBe(500);

      await database.withConnection((sql) =>
        new ClampMemoryTimes1766700000000().up({ query: (text: string) => sql.query(text) } as QueryRunner),
      );
      const recalled = await call(http.url, 'POST', `${API}/memories/recall`, { query: 'Whom did Gus meet?' });
      expect(recalled.status).toBe(200);
      expect(recalled.body.results).toEqual([expect.objectContaining({ text: 'Gus met Hal on 30 December 9999.', occurred_end: LATEST })]);
      const [links] = await database.query<{ latest: Date }>(`SELECT max(memory_at) AS latest FROM unit_entities`);
      expect(links.latest.toISOString()).toBe(LATEST);
    } finally {
      await http.close();
      await dropTestDatabase(name);
    }
  });
});

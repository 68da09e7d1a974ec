import { asDate } from '../../src/recall/recalled-rows.js';
import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

describe("a candidate's timestamps, read from the JSON recall's statement returns", () => {
  const registry = new DataSourceRegistry();
  let database: MemoryDatabase;
  let dropName: string;

  beforeAll(async () => {
    const { url, name } = await createTestDatabase('recalled_rows');
    dropName = name;
    database = new MemoryDatabase(await registry.acquire(url));
  });

  afterAll(async () => {
    await registry.closeAll();
    if (dropName) await dropTestDatabase(dropName);
  });

  it.each([
    '2025-06-18 12:00:00.123456+00',
    '2025-06-18 14:00:00.999999+02',
    '1969-12-31 23:59:59.9995+00',
    '0001-01-01 00:00:00+00',
    '0001-01-01 00:00:00+00 BC',
    '0044-03-15 10:00:00.5+00 BC',
  ])('reads %s as the driver reads the column itself', async (literal) => {
    const [{ column, document }] = await database.query<{ column: Date; document: { at: string } }>(
      `SELECT $1::timestamptz AS column, json_build_object('at', $1::timestamptz) AS document`,
      [literal],
    );
    expect(Number.isNaN(column.getTime())).toBe(false);
    expect(asDate(document.at)).toEqual(column);
  });
});

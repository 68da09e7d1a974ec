import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { EmbeddingDimensionMismatchError, prepareVectorBackend } from '../../src/storage/vector-backend.js';
import { LogCapture } from '../helpers/log-capture.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';

function unit(vector: number[]): number[] {
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

describe.each([
  ['PGlite with pgvector', 'pgvector'],
  ['PostgreSQL without pgvector', 'real-array'],
] as const)('vector back end on %s', (_label, expectedKind) => {
  let registry: DataSourceRegistry;
  let database: MemoryDatabase;
  let dropName: string | undefined;
  let logs: LogCapture;

  beforeAll(async () => {
    logs = new LogCapture().install();
    registry = new DataSourceRegistry();
    let url = 'pglite://memory/vectors';
    if (expectedKind === 'real-array') {
      const created = await createTestDatabase('vectors');
      url = created.url;
      dropName = created.name;
    }
    database = new MemoryDatabase(await registry.acquire(url));
  });

  afterAll(async () => {
    await registry.closeAll();
    if (dropName) await dropTestDatabase(dropName);
  });

  it('is the back end the migration chose, and ranks by cosine distance', async () => {
    const backend = await database.withConnection((sql) => prepareVectorBackend(sql, 3));
    expect(backend.kind).toBe(expectedKind);
    if (expectedKind === 'real-array') {
      const warning = logs.lines.find((line) => line.startsWith('The pgvector extension is not available'));
      // The measured limit, and how to get pgvector, for the server's own major version.
      expect(warning).toContain('up to about 3,000 memories per bank stay under 100 ms');
      const [{ major }] = await database.query<{ major: number }>(`SELECT current_setting('server_version_num')::int / 10000 AS major`);
      expect(warning).toContain(`apt install postgresql-${major}-pgvector`);
      expect(warning).toContain('CREATE EXTENSION vector');
    } else {
      expect(logs.lines.filter((line) => line.startsWith('The pgvector extension is not available'))).toEqual([]);
    }
    const rows = [
      ['north', unit([0, 1, 0])],
      ['north-east', unit([1, 1, 0])],
      ['east', unit([1, 0, 0])],
      ['up', unit([0, 0, 1])],
    ] as const;
    await database.transaction(async (sql) => {
      await sql.query(`INSERT INTO banks (id) VALUES ('b')`);
      for (const [text, vector] of rows) {
        await sql.query(`INSERT INTO memory_units (bank_id, text, embedding) VALUES ('b', $1, ${backend.param('$2')})`, [
          text,
          backend.serialize([...vector]),
        ]);
      }
    });
    const nearest = await database.query<{ text: string; distance: number }>(
      `SELECT m.text, ${backend.distance('m', '$1')} AS distance FROM memory_units m ORDER BY distance LIMIT 3`,
      [backend.serialize(unit([0.9, 1, 0]))],
    );
    expect(nearest.map((row) => row.text)).toEqual(['north-east', 'north', 'east']);
    expect(nearest[0].distance).toBeCloseTo(1 - (0.9 + 1) / Math.hypot(0.9, 1) / Math.SQRT2, 5);
  });

  it('refuses a different embedding dimension than the one the database holds', async () => {
    await expect(database.withConnection((sql) => prepareVectorBackend(sql, 8))).rejects.toBeInstanceOf(EmbeddingDimensionMismatchError);
  });
});

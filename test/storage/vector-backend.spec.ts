import { DataSourceRegistry } from '../../src/storage/data-source-registry.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import {
  EmbeddingDimensionMismatchError,
  binaryVectorArray,
  bindsBuffersAsBinary,
  prepareVectorBackend,
  sharedIndexName,
} from '../../src/storage/vector-backend.js';
import { LogCapture } from '../helpers/log-capture.js';
import { seededRandom } from '../helpers/seeded-random.js';
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

  it('binds each component in 9 significant digits, and the database stores exactly its float4', async () => {
    const backend = await database.withConnection((sql) => prepareVectorBackend(sql, 3));
    const random = seededRandom(41);
    // Doubles with 17 significant digits, one tiny enough for an exponent, and a zero.
    const vectors = [
      ...Array.from({ length: 20 }, () => [random() * 2 - 1, random() * 1e-3, random() * 7]),
      [0, 1.2345678901234567e-12, -1],
    ];
    for (const vector of vectors) {
      const text = backend.serialize(vector);
      for (const component of text.slice(1, -1).split(',')) {
        expect(component.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').length).toBeLessThanOrEqual(9);
      }
      const [{ stored }] = await database.query<{ stored: number[] }>(`SELECT (${backend.param('$1')})::real[] AS stored`, [text]);
      // PostgreSQL prints a float4 in the shortest digits that read back as it: `fround` recovers it.
      expect(stored.map((component) => Math.fround(Number(component)))).toEqual(Array.from(Float32Array.from(vector)));
    }
  });

  it('binds a column of vectors as text where the driver binds parameters as text, in the order given', async () => {
    expect(bindsBuffersAsBinary(database.dataSource)).toBe(expectedKind === 'real-array');
    const backend = await database.withConnection((sql) => prepareVectorBackend(sql, 3));
    const column = backend.serializeColumn([
      [0.5, -1.25, 2],
      [0, 1, 0],
    ]);
    expect(column.arrayType).toBe('text[]');
    const rows = await database.query<{ stored: number[] }>(
      `SELECT (${backend.param('u.v')})::real[] AS stored FROM unnest($1::${column.arrayType}) WITH ORDINALITY AS u(v, ord) ORDER BY u.ord`,
      [column.value],
    );
    expect(rows.map((row) => row.stored.map(Number))).toEqual([
      [0.5, -1.25, 2],
      [0, 1, 0],
    ]);
  });

  it('refuses a different embedding dimension than the one the database holds', async () => {
    await expect(database.withConnection((sql) => prepareVectorBackend(sql, 8))).rejects.toBeInstanceOf(EmbeddingDimensionMismatchError);
  });
});

describe('the shared HNSW index at startup (pgvector on PGlite)', () => {
  let registry: DataSourceRegistry;
  let database: MemoryDatabase;
  let logs: LogCapture;
  const sharedIndexExists = async () => {
    const [{ present }] = await database.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [sharedIndexName(3)]);
    return present;
  };
  const recorded = async () =>
    (await database.query<{ value: string }>(`SELECT value FROM memory_settings WHERE key = 'vector_indexes'`))[0]?.value;

  beforeAll(async () => {
    logs = new LogCapture().install();
    registry = new DataSourceRegistry();
    database = new MemoryDatabase(await registry.acquire('pglite://memory/shared-index-policy'));
  });

  afterAll(() => registry.closeAll());

  it('is not created by an instance that maintains bank indexes, nor by one that follows such a fleet', async () => {
    await database.withConnection((sql) => prepareVectorBackend(sql, 3, { sharedIndex: 'none' }));
    expect(await sharedIndexExists()).toBe(false);
    expect(await recorded()).toBe('per-bank');

    // An instance of the same fleet whose pool is too small to build bank indexes.
    await database.withConnection((sql) => prepareVectorBackend(sql, 3, { sharedIndex: 'unless-banks-have-their-own' }));
    expect(await sharedIndexExists()).toBe(false);
    expect(logs.lines).toContain(
      'The large banks of this database have HNSW indexes of their own, maintained by other instances: this one, whose ' +
        'pool is too small to build them, creates no shared index either',
    );
  });

  it('is created where it serves every bank, and then by the instances that follow the fleet', async () => {
    await database.withConnection((sql) => prepareVectorBackend(sql, 3, { sharedIndex: 'create' }));
    expect(await sharedIndexExists()).toBe(true);
    expect(await recorded()).toBe('shared');

    await database.query(`DROP INDEX ${sharedIndexName(3)}`);
    await database.withConnection((sql) => prepareVectorBackend(sql, 3, { sharedIndex: 'unless-banks-have-their-own' }));
    expect(await sharedIndexExists()).toBe(true);
  });
});

describe('a column of vectors bound binary, as node-postgres sends a Buffer (pgvector on PGlite)', () => {
  let registry: DataSourceRegistry;
  let database: MemoryDatabase;

  beforeAll(async () => {
    registry = new DataSourceRegistry();
    database = new MemoryDatabase(await registry.acquire('pglite://memory/binary-vectors'));
  });

  afterAll(() => registry.closeAll());

  it("is byte for byte PostgreSQL's own binary form of the same vector[], which the server reads back", async () => {
    // PGlite itself binds a Buffer as text, so the form is compared with what `array_send` writes:
    // the server's `array_recv` reads exactly that.
    expect(bindsBuffersAsBinary(database.dataSource)).toBe(false);
    const backend = await database.withConnection((sql) => prepareVectorBackend(sql, 3, { binaryParameters: true }));
    const random = seededRandom(43);
    const vectors = [
      ...Array.from({ length: 12 }, () => [random() * 2 - 1, random() * 1e-3, random() * 7]),
      [0, 1.2345678901234567e-12, -1],
    ];
    const column = backend.serializeColumn(vectors);
    expect(column.arrayType).toBe('vector[]');
    const [{ sent }] = await database.query<{ sent: Uint8Array }>(`SELECT array_send($1::text[]::vector[]) AS sent`, [
      vectors.map((vector) => backend.serialize(vector)),
    ]);
    expect(Buffer.from(column.value as Buffer).equals(Buffer.from(sent))).toBe(true);

    const [{ oid, empty }] = await database.query<{ oid: number; empty: Uint8Array }>(
      `SELECT 'vector'::regtype::oid AS oid, array_send('{}'::vector[]) AS empty`,
    );
    expect(binaryVectorArray(Number(oid), []).equals(Buffer.from(empty))).toBe(true);
  });
});

import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { type HttpApp, call, startHttpApp } from './http-app.js';

const DOCUMENT_ID = 'shared/notes.md';
const WRITERS = 10;

/** Each version has its own sentences, so every memory tells which version it came from. */
function version(index: number): { content: string; sentences: string[] } {
  const sentences = [`Writer${index} visited Harbour${index} on Monday.`, `Writer${index} met Captain${index} there.`];
  if (index % 2 === 0) sentences.push(`Writer${index} bought Rope${index} for the boat.`);
  return { content: sentences.join(' '), sentences };
}

async function retainConcurrently(http: HttpApp, bank: string): Promise<void> {
  const responses = await Promise.all(
    Array.from({ length: WRITERS }, (_, index) =>
      call(http.url, 'POST', `/v1/default/banks/${bank}/memories`, {
        items: [{ content: version(index).content, document_id: DOCUMENT_ID, tags: [`v${index}`] }],
      }),
    ),
  );
  expect(responses.map((response) => response.status)).toEqual(Array(WRITERS).fill(200));

  const document = await call(http.url, 'GET', `/v1/default/banks/${bank}/documents/${encodeURIComponent(DOCUMENT_ID)}`);
  expect(document.status).toBe(200);
  const winner = Array.from({ length: WRITERS }, (_, index) => index).find(
    (index) => version(index).content === document.body.original_text,
  );
  expect(winner).toBeDefined();

  const memories = await call(http.url, 'GET', `/v1/default/banks/${bank}/memories/list?limit=1000`);
  expect(memories.body.total).toBe(version(winner!).sentences.length);
  expect(memories.body.items.map((item: { text: string }) => item.text).sort()).toEqual([...version(winner!).sentences].sort());
  expect(
    memories.body.items.every(
      (item: { document_id: string; tags: string[] }) => item.document_id === DOCUMENT_ID && item.tags[0] === `v${winner}`,
    ),
  ).toBe(true);
  expect(document.body).toMatchObject({ memory_unit_count: version(winner!).sentences.length, tags: [`v${winner}`] });

  const documents = await call(http.url, 'GET', `/v1/default/banks/${bank}/documents`);
  expect(documents.body.total).toBe(1);
}

describe('concurrent retains of one document_id', () => {
  describe('on PGlite', () => {
    let http: HttpApp;

    beforeAll(async () => {
      http = await startHttpApp({ DATABASE_URL: 'pglite://memory' });
    });

    afterAll(async () => {
      await http?.close();
    });

    it(`leaves exactly one version of the document after ${WRITERS} parallel retains`, async () => {
      await retainConcurrently(http, 'pglite-race');
    });
  });

  describe('on PostgreSQL with a pool of 4', () => {
    let http: HttpApp;
    let database: { name: string; url: string };

    beforeAll(async () => {
      database = await createTestDatabase('http_race');
      http = await startHttpApp({ DATABASE_URL: database.url, MEMORY_DB_POOL_SIZE: '4' });
    });

    afterAll(async () => {
      await http?.close();
      if (database) await dropTestDatabase(database.name);
    });

    it(`leaves exactly one version of the document after ${WRITERS} parallel retains`, async () => {
      await retainConcurrently(http, 'postgres-race');
    });
  });
});

import fc from 'fast-check';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { type HttpApp, call, startHttpApp } from '../http/http-app.js';

/**
 * Property-based fuzzing of the HTTP surface on PGlite: whatever the route, body, path ids, query
 * or headers, the server answers JSON and never 5xx, and a rejected (4xx) request changes no stored
 * data. Strings come from the whole Unicode range plus what PostgreSQL cannot store (NUL, lone
 * surrogates), and bodies are sometimes nested thousands of levels deep.
 */
const BANK = 'fuzz';
const SCRATCH = 'fuzz-scratch';
// FUZZ_SEED and FUZZ_RUNS explore beyond what `npm test` runs; FUZZ_DEBUG prints the outcomes.
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const TIME_LIMIT_MS = 35_000;

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
/** One character of any code point, NUL and lone surrogates well represented. */
const anyChar = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 6 },
  { arbitrary: fc.constant('\u0000'), weight: 2 },
  { arbitrary: loneSurrogate, weight: 2 },
);
const anyString = fc.string({ unit: anyChar, maxLength: 16 });

const jsonSafe = fc.jsonValue({ maxDepth: 3 });
const jsonAny = fc.jsonValue({ maxDepth: 3, stringUnit: anyChar });
const fieldValue = fc.oneof({ arbitrary: jsonAny, weight: 3 }, { arbitrary: anyString, weight: 3 }, { arbitrary: jsonSafe, weight: 1 });

/** A string of JSON text nested `depth` levels of arrays or objects deep. */
const deepJson = fc
  .record({ depth: fc.integer({ min: 20, max: 6000 }), shape: fc.constantFrom('array', 'object', 'mixed') })
  .map(({ depth, shape }) => {
    const open = (i: number) => (shape === 'array' || (shape === 'mixed' && i % 2) ? '[' : '{"k":');
    const close = (i: number) => (shape === 'array' || (shape === 'mixed' && i % 2) ? ']' : '}');
    let head = '';
    let tail = '';
    for (let i = 0; i < depth; i++) {
      head += open(i);
      tail = close(i) + tail;
    }
    return `${head}"x"${tail}`;
  });

/** Stands in for the deep text until the rest of the body is stringified. */
const DEEP = '\u0001deep\u0001';

/** A valid body with one field replaced, removed or added, or something else entirely. */
function body(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const paths = collectPaths(valid);
  const mutated = fc.oneof(
    fc.record({ path: fc.constantFrom(...paths), value: fieldValue }).map(({ path, value }) => setAt(valid, path, value)),
    fc.constantFrom(...paths).map((path) => setAt(valid, path, undefined)),
    fc.record({ key: anyString, value: fieldValue }).map(({ key, value }) => ({ ...valid, [key]: value })),
  );
  return fc.oneof(
    { arbitrary: fc.constant(valid), weight: 1 },
    { arbitrary: mutated, weight: 6 },
    { arbitrary: jsonAny, weight: 1 },
    // Deep nesting in place of one field: sent raw, since the test's own JSON.stringify would recurse.
    {
      arbitrary: fc
        .record({ path: fc.constantFrom(...paths), deep: deepJson })
        .map(({ path, deep }) => ({ raw: JSON.stringify(setAt(valid, path, DEEP)).replace(JSON.stringify(DEEP), deep) })),
      weight: 1,
    },
    // Text that is not JSON, or JSON of the wrong shape, sent raw.
    { arbitrary: fc.oneof(fc.json(), fc.string({ maxLength: 40 }), deepJson).map((text) => ({ raw: text })), weight: 1 },
  );
}

function collectPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Object.entries(value as Record<string, unknown>);
  return [prefix, ...entries.flatMap(([key, child]) => collectPaths(child, [...prefix, key]))].filter((path) => path.length > 0);
}

function setAt(root: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string, any>;
  let node: any = copy;
  for (const key of path.slice(0, -1)) node = node[key];
  if (value === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return copy;
}

/** Percent-encodes any string, lone surrogates included (as the bytes WTF-8 gives them). */
function encodeSegment(text: string): string {
  return Array.from(text, (char) => {
    try {
      return encodeURIComponent(char);
    } catch {
      const code = char.charCodeAt(0);
      return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((byte) => `%${byte.toString(16).toUpperCase()}`)
        .join('');
    }
  }).join('');
}

/** A path segment that is not the right id: odd, encoded, unstorable, or too long. */
const hostileId = fc.oneof(
  fc.constantFrom(
    '/',
    '%2F',
    '..',
    '%2E%2E',
    '.',
    '%',
    '%E0%A4%A',
    'a%00b',
    '%00',
    '%ED%A0%80',
    ' ',
    '%20',
    '?x=1',
    '#frag',
    '\u00e9t\u00e9',
    '\u{1F600}',
    'x'.repeat(3000),
  ),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(encodeURIComponent),
  fc.string({ unit: anyChar, minLength: 1, maxLength: 20 }).map(encodeSegment),
  fc.string({ minLength: 1, maxLength: 20 }),
);
const idOr = (known: () => string) =>
  fc.oneof(
    { arbitrary: fc.constant(null).map(known), weight: 2 },
    { arbitrary: hostileId, weight: 2 },
    { arbitrary: fc.uuid(), weight: 1 },
  );

/** A query string of some of `names`, each a sane value or any string. */
function queryOf(names: string[], sane: Record<string, fc.Arbitrary<string>> = {}): fc.Arbitrary<string> {
  const value = (name: string) => fc.oneof(sane[name] ?? fc.constant('1'), anyString, fc.constantFrom('-1', 'abc', '1e9', ''));
  return fc
    .uniqueArray(fc.constantFrom(...names), { maxLength: 3 })
    .chain((chosen): fc.Arbitrary<string[]> => fc.tuple(...chosen.map((name) => value(name).map((v) => `${name}=${encodeSegment(v)}`))))
    .map((pairs) => (pairs.length ? `?${pairs.join('&')}` : ''));
}

interface Known {
  memoryId: string;
  documentId: string;
  mentalModelId: string;
  operationId: string;
  webhookId: string;
}
const known: Known = { memoryId: '', documentId: 'doc/one', mentalModelId: '', operationId: '', webhookId: '' };

type Request = { method: string; path: string; body?: unknown };

const VALID_RETAIN = {
  items: [
    {
      content: 'Fuzzy Felix paints murals.',
      context: 'ctx',
      tags: ['t'],
      metadata: { k: 'v' },
      timestamp: '2024-01-01T00:00:00Z',
      document_id: 'doc/two',
      entities: [{ text: 'Felix', type: 'PERSON' }],
    },
  ],
  document_tags: ['d'],
  async: false,
};
const VALID_RECALL = {
  query: 'Felix murals',
  max_tokens: 100,
  types: ['world'],
  budget: 'low',
  tags: ['t'],
  include: { entities: { max_tokens: 50 } },
};
const VALID_REFLECT = { query: 'What does Felix paint?', context: 'c', tags: ['t'], budget: 'low' };
const VALID_BANK = {
  name: 'Fuzz bank',
  disposition: { skepticism: 3, literalism: 3, empathy: 3 },
  reflect_mission: 'm',
  retain_mission: 'r',
};
const VALID_MODEL = { name: 'Felix', source_query: 'What does Felix do?', tags: ['t'], trigger: { refresh_after_consolidation: false } };
const VALID_WEBHOOK = {
  url: 'http://127.0.0.1:9/hook',
  event_types: ['consolidation.completed'],
  http_config: { headers: { a: 'b' }, params: { p: 'q' } },
};

const bank = fc.oneof({ arbitrary: fc.constant(BANK), weight: 3 }, { arbitrary: hostileId, weight: 2 });
/** Destructive routes work on a scratch bank, so the seeded ids keep answering. */
const scratch = fc.oneof({ arbitrary: fc.constant(SCRATCH), weight: 3 }, { arbitrary: hostileId, weight: 2 });
const documentId = fc.oneof(
  idOr(() => encodeURIComponent(known.documentId)),
  fc.array(hostileId, { minLength: 2, maxLength: 4 }).map((parts) => parts.join('/')),
);
const memoryId = idOr(() => known.memoryId);
const mentalModelId = idOr(() => known.mentalModelId);
const operationId = idOr(() => known.operationId);
const webhookId = idOr(() => known.webhookId);

function route(
  method: string,
  args: Array<fc.Arbitrary<string>>,
  path: (...values: string[]) => string,
  bodyOf?: fc.Arbitrary<unknown>,
): fc.Arbitrary<Request> {
  return fc
    .tuple(fc.tuple(...args), bodyOf ?? fc.constant(undefined))
    .map(([values, b]) => ({ method, path: `/v1/default/${path(...values)}`, body: b }));
}

/** Every route of the API (src/http/controllers), with every path parameter and query filter. */
const request: fc.Arbitrary<Request> = fc.oneof(
  route('GET', [], () => 'banks'),
  route('PUT', [bank], (b) => `banks/${b}`, body(VALID_BANK)),
  route('PATCH', [bank], (b) => `banks/${b}`, body(VALID_BANK)),
  route('DELETE', [scratch], (b) => `banks/${b}`),
  route('GET', [bank], (b) => `banks/${b}/profile`),
  route('PUT', [bank], (b) => `banks/${b}/profile`, body({ disposition: { skepticism: 2, literalism: 3, empathy: 4 } })),
  route('GET', [bank, queryOf(['refresh'])], (b, q) => `banks/${b}/stats${q}`),
  route('GET', [bank], (b) => `banks/${b}/config`),
  route('PATCH', [bank], (b) => `banks/${b}/config`, body({ updates: { retain_mission: 'm', enable_observations: true } })),
  route('DELETE', [bank], (b) => `banks/${b}/config`),
  route('POST', [bank], (b) => `banks/${b}/consolidate`, body({ ignored: true })),
  route('GET', [bank, queryOf(['q', 'limit', 'offset', 'tags'])], (b, q) => `banks/${b}/documents${q}`),
  route('GET', [bank, documentId], (b, d) => `banks/${b}/documents/${d}`),
  route('PATCH', [scratch, documentId], (b, d) => `banks/${b}/documents/${d}`, body({ tags: ['t'] })),
  route('DELETE', [scratch, documentId], (b, d) => `banks/${b}/documents/${d}`),
  route('GET', [bank, queryOf(['limit', 'offset'])], (b, q) => `banks/${b}/entities${q}`),
  route(
    'GET',
    [bank, queryOf(['q', 'source', 'limit'], { source: fc.constantFrom('memories', 'mental_models') })],
    (b, q) => `banks/${b}/tags${q}`,
  ),
  route('POST', [bank], (b) => `banks/${b}/memories`, body(VALID_RETAIN)),
  route('POST', [bank], (b) => `banks/${b}/memories/recall`, body(VALID_RECALL)),
  route(
    'GET',
    [
      bank,
      queryOf(['q', 'document_id', 'type', 'state', 'limit', 'offset', 'tags'], {
        type: fc.constantFrom('world', 'experience'),
        document_id: fc.constant('doc/one'),
      }),
    ],
    (b, q) => `banks/${b}/memories/list${q}`,
  ),
  route('GET', [bank, memoryId], (b, m) => `banks/${b}/memories/${m}`),
  route('PATCH', [bank, memoryId], (b, m) => `banks/${b}/memories/${m}`, body({ context: 'edited', reason: 'fuzz' })),
  route('DELETE', [scratch, queryOf(['type'])], (b, q) => `banks/${b}/memories${q}`),
  route('GET', [bank, queryOf(['tags', 'tags_match', 'detail', 'limit'])], (b, q) => `banks/${b}/mental-models${q}`),
  route('POST', [bank], (b) => `banks/${b}/mental-models`, body(VALID_MODEL)),
  route('GET', [bank, mentalModelId, queryOf(['detail'])], (b, m, q) => `banks/${b}/mental-models/${m}${q}`),
  route('PATCH', [bank, mentalModelId], (b, m) => `banks/${b}/mental-models/${m}`, body({ name: 'Felix again', tags: ['t'] })),
  route('DELETE', [scratch, mentalModelId], (b, m) => `banks/${b}/mental-models/${m}`),
  route('POST', [bank, mentalModelId], (b, m) => `banks/${b}/mental-models/${m}/refresh`),
  route('GET', [bank, queryOf(['status', 'type', 'limit', 'offset'])], (b, q) => `banks/${b}/operations${q}`),
  route('GET', [bank, operationId, queryOf(['include_payload'])], (b, o, q) => `banks/${b}/operations/${o}${q}`),
  route('DELETE', [bank, operationId], (b, o) => `banks/${b}/operations/${o}`),
  route('POST', [bank], (b) => `banks/${b}/reflect`, body(VALID_REFLECT)),
  route('POST', [bank], (b) => `banks/${b}/webhooks`, body(VALID_WEBHOOK)),
  route('GET', [bank], (b) => `banks/${b}/webhooks`),
  route('PATCH', [bank, webhookId], (b, w) => `banks/${b}/webhooks/${w}`, body({ enabled: true, http_config: { headers: { a: 'c' } } })),
  route('DELETE', [scratch, webhookId], (b, w) => `banks/${b}/webhooks/${w}`),
  route('GET', [bank, webhookId, queryOf(['limit', 'cursor'])], (b, w, q) => `banks/${b}/webhooks/${w}/deliveries${q}`),
);

const monitoring = fc.constantFrom<Request>({ method: 'GET', path: '/version' }, { method: 'GET', path: '/health' });

const HEADER_NAME = fc.constantFrom(
  'content-type',
  'accept',
  'authorization',
  'x-request-id',
  'accept-encoding',
  'x-forwarded-for',
  'x-anything',
);
const headerValue = fc.oneof(
  fc.constantFrom(
    'application/json',
    'text/plain',
    'application/json; charset=latin1',
    'application/x-www-form-urlencoded',
    '*/*',
    'gzip',
    'Bearer nope',
    '',
  ),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 30 }),
);
const headers = fc.dictionary(HEADER_NAME, headerValue, { maxKeys: 3 });

describe('HTTP fuzzing (PGlite, fast-check)', () => {
  let http: HttpApp | undefined;

  beforeAll(async () => {
    http = await startHttpApp({
      DATABASE_URL: `pglite://memory/faults-fuzz-${process.pid}-${Date.now()}`,
      MEMORY_CONSOLIDATION_CRON: 'off',
      // The seeded webhook points at a closed port on loopback; nothing leaves the machine.
      MEMORY_WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    const api = `/v1/default/banks/${BANK}`;
    const seeded = await call(http.url, 'POST', `${api}/memories`, {
      items: [{ content: 'Seed: Felix paints murals in Porto.', document_id: known.documentId }, { content: 'Seed: Felix sells prints.' }],
    });
    expect(seeded.status).toBe(200);
    known.memoryId = (await call(http.url, 'GET', `${api}/memories/list`)).body.items[0].id;
    const model = await call(http.url, 'POST', `${api}/mental-models`, { name: 'Felix', source_query: 'What does Felix do?' });
    expect(model.status).toBe(200);
    known.mentalModelId = model.body.mental_model_id;
    known.operationId = model.body.operation_id;
    const webhook = await call(http.url, 'POST', `${api}/webhooks`, { url: VALID_WEBHOOK.url });
    expect(webhook.status).toBe(201);
    known.webhookId = webhook.body.id;
  });

  afterAll(async () => {
    await http?.close();
  });

  it(`never answers 5xx or non-JSON, and a 4xx changes nothing (${RUNS} runs, seed ${SEED})`, async () => {
    const database = http!.app.get(MemoryDatabase);
    const digest = (table: string, columns: string) =>
      `(SELECT count(*)::text || ':' || coalesce(md5(string_agg(row(${columns})::text, '|' ORDER BY row(${columns})::text)), '') FROM ${table})`;
    const snapshot = async () => {
      const [row] = await database.query<Record<string, string>>(
        `SELECT ${digest('banks', 'id, name, mission, disposition, config')} AS banks,
                ${digest('documents', 'bank_id, id, original_text, metadata, tags')} AS documents,
                ${digest('memory_units', 'bank_id, document_id, text, context')} AS memories,
                ${digest('mental_models', 'bank_id, id, name, source_query, tags, max_tokens, trigger')} AS models,
                ${digest('webhooks', 'bank_id, id, url, secret, event_types, enabled, http_config')} AS webhooks,
                (SELECT count(*)::int FROM operations WHERE status IN ('pending', 'processing')) AS in_flight`,
      );
      return row;
    };
    const statuses = new Map<number, number>();
    const refusals = { unstorable: 0, tooDeep: 0, unchanged: 0, duringBackgroundWork: 0 };
    const started = Date.now();

    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ arbitrary: request, weight: 30 }, { arbitrary: monitoring, weight: 1 }),
        headers,
        async (req, extraHeaders) => {
          const before = await snapshot();
          const raw =
            req.body !== null && typeof req.body === 'object' && 'raw' in (req.body as object)
              ? String((req.body as { raw: unknown }).raw)
              : undefined;
          const payload = req.body === undefined ? undefined : (raw ?? JSON.stringify(req.body));
          let response: Response;
          try {
            response = await fetch(`${http!.url}${req.path}`, {
              method: req.method,
              headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...extraHeaders },
              body: payload,
              signal: AbortSignal.timeout(10_000),
            });
          } catch (error) {
            // fetch refuses some URLs and header values on the client side: nothing reached the server.
            if (error instanceof TypeError && !/fetch failed/.test(error.message)) return;
            throw error;
          }
          const text = await response.text();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const context = `${req.method} ${req.path.slice(0, 200)} ${(payload ?? '').slice(0, 200)} -> ${response.status} ${text.slice(0, 300)}`;
          expect({ context, serverError: response.status >= 500 }).toEqual({ context, serverError: false });
          expect({ context, type: response.headers.get('content-type') }).toEqual({
            context,
            type: expect.stringMatching(/^application\/json/),
          });
          expect(() => JSON.parse(text)).not.toThrow();
          if (response.status >= 400) {
            if (/must not contain (the NUL character|an unpaired UTF-16 surrogate)/.test(text)) refusals.unstorable++;
            if (/nested deeper than/.test(text)) refusals.tooDeep++;
            // Queued work (an accepted async retain, consolidation or refresh) may still be writing;
            // with none in flight before, anything that changed was this request's doing.
            if (Number(before.in_flight) > 0) {
              refusals.duringBackgroundWork++;
              return;
            }
            expect({ context, after: await snapshot() }).toEqual({ context, after: before });
            refusals.unchanged++;
          }
        },
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
    const elapsed = Date.now() - started;
    if (process.env.FUZZ_DEBUG) console.log(JSON.stringify([...statuses].sort(([a], [b]) => a - b)), JSON.stringify(refusals), elapsed);
    // Every outcome the generators aim at was exercised (bounds low enough for a run the time limit cut short).
    const accepted = [...statuses].filter(([status]) => status < 300).reduce((sum, [, n]) => sum + n, 0);
    const rejected = [...statuses].filter(([status]) => status >= 400).reduce((sum, [, n]) => sum + n, 0);
    expect(accepted).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(50);
    expect(refusals.unstorable).toBeGreaterThan(5);
    expect(refusals.tooDeep).toBeGreaterThan(3);
    expect(statuses.get(415)).toBeGreaterThan(0);
    expect(refusals.unchanged).toBeGreaterThan(rejected * 0.8);
    expect(elapsed).toBeLessThan(TIME_LIMIT_MS + 5_000);
  }, 60_000);
});

import fc from 'fast-check';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { type HttpApp, startHttpApp } from '../http/http-app.js';

/**
 * Property-based fuzzing of the HTTP surface on PGlite: whatever the body, path id or headers,
 * the server answers JSON and never 5xx, and a rejected (4xx) request changes no stored data.
 */
const BANK = 'fuzz';
const SEED = 20261125;
const RUNS = 150;

const jsonSafe = fc.jsonValue({ maxDepth: 3 });

/** A valid body with one field replaced, removed or added. */
function mutated(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const paths = collectPaths(valid);
  return fc.oneof(
    fc.record({ path: fc.constantFrom(...paths), value: jsonSafe }).map(({ path, value }) => setAt(valid, path, value)),
    fc.constantFrom(...paths).map((path) => setAt(valid, path, undefined)),
    fc.record({ key: fc.string({ maxLength: 12 }), value: jsonSafe }).map(({ key, value }) => ({ ...valid, [key]: value })),
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

const VALID_RETAIN = { items: [{ content: 'Fuzzy Felix paints murals.', context: 'ctx', tags: ['t'], metadata: { k: 'v' }, timestamp: '2024-01-01T00:00:00Z' }], async: false };
const VALID_RECALL = { query: 'Felix murals', max_tokens: 100, types: ['world'], budget: 'low', tags: ['t'] };
const VALID_BANK = { name: 'Fuzz bank', disposition: { skepticism: 3, literalism: 3, empathy: 3 }, reflect_mission: 'm' };

const body = (valid: Record<string, unknown>) =>
  fc.oneof(
    { arbitrary: mutated(valid), weight: 4 },
    { arbitrary: jsonSafe, weight: 2 },
    // Text that is not JSON, or JSON of the wrong shape, sent raw.
    { arbitrary: fc.oneof(fc.json(), fc.string({ maxLength: 40 })).map((text) => ({ raw: text })), weight: 1 },
  );

const pathId = fc.oneof(
  fc.constant(BANK),
  fc.constantFrom('/', '%2F', '..', '%2E%2E', '.', '%', '%E0%A4%A', 'a%00b', ' ', '%20', '?x=1', '#frag', '\u00e9t\u00e9', '\u{1F600}', 'x'.repeat(3000)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(encodeURIComponent),
  fc.string({ minLength: 1, maxLength: 20 }),
);

const HEADER_NAME = fc.constantFrom('content-type', 'accept', 'authorization', 'x-request-id', 'accept-encoding', 'x-forwarded-for', 'x-anything');
const headerValue = fc.oneof(
  fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', '*/*', 'gzip', 'Bearer nope', ''),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 30 }),
);
const headers = fc.dictionary(HEADER_NAME, headerValue, { maxKeys: 3 });

type Request = { method: string; path: (id: string) => string; body?: unknown };

const request: fc.Arbitrary<Request> = fc.oneof(
  body(VALID_RETAIN).map((b) => ({ method: 'POST', path: (id: string) => `/v1/default/banks/${id}/memories`, body: b })),
  body(VALID_RECALL).map((b) => ({ method: 'POST', path: (id: string) => `/v1/default/banks/${id}/memories/recall`, body: b })),
  body(VALID_BANK).map((b) => ({ method: 'PUT', path: (id: string) => `/v1/default/banks/${id}`, body: b })),
  fc.constantFrom('/memories/list?limit=abc', '/memories/list?offset=-1&limit=5', '/memories/list', '/documents?limit=1e9', '/documents', '/operations?status=weird', '/operations')
    .map((suffix) => ({ method: 'GET', path: (id: string) => `/v1/default/banks/${id}${suffix}` })),
  fc.constant({ method: 'GET', path: (id: string) => `/v1/default/banks/${BANK}/operations/${id}` }),
  fc.constant({ method: 'GET', path: (id: string) => `/v1/default/banks/${BANK}/documents/${id}` }),
);

describe('HTTP fuzzing (PGlite, fast-check)', () => {
  let http: HttpApp | undefined;

  beforeAll(async () => {
    http = await startHttpApp({ DATABASE_URL: `pglite://memory/faults-fuzz-${process.pid}-${Date.now()}`, MEMORY_CONSOLIDATION_CRON: 'off' });
    const seeded = await fetch(`${http.url}/v1/default/banks/${BANK}/memories`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ content: 'Seed: Felix paints murals in Porto.' }, { content: 'Seed: Felix sells prints.' }] }),
    });
    expect(seeded.status).toBe(200);
  });

  afterAll(async () => {
    await http?.close();
  });

  it(`never answers 5xx or non-JSON, and a 4xx changes nothing (${RUNS} runs, seed ${SEED})`, async () => {
    const database = http!.app.get(MemoryDatabase);
    const snapshot = async () => {
      const [row] = await database.query<{ banks: string; memories: string; fuzz: string; digest: string | null }>(
        `SELECT (SELECT count(*) FROM banks)::text AS banks,
                (SELECT count(*) FROM memory_units)::text AS memories,
                (SELECT count(*) FROM memory_units WHERE bank_id = $1)::text AS fuzz,
                (SELECT md5(string_agg(bank_id || ':' || text, '|' ORDER BY bank_id, text)) FROM memory_units) AS digest`,
        [BANK],
      );
      const banks = await database.query<{ id: string; name: string | null }>(`SELECT id, name FROM banks ORDER BY id`);
      return JSON.stringify({ ...row, banks });
    };
    const statuses = new Map<number, number>();
    const started = Date.now();

    await fc.assert(
      fc.asyncProperty(request, pathId, headers, async (req, id, extraHeaders) => {
        const before = await snapshot();
        const path = req.path(id);
        const raw = req.body !== null && typeof req.body === 'object' && 'raw' in (req.body as object) ? String((req.body as { raw: unknown }).raw) : undefined;
        const payload = req.body === undefined ? undefined : raw ?? JSON.stringify(req.body);
        let response: Response;
        try {
          response = await fetch(`${http!.url}${path}`, {
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
        const context = `${req.method} ${path.slice(0, 200)} -> ${response.status} ${text.slice(0, 300)}`;
        expect({ context, serverError: response.status >= 500 }).toEqual({ context, serverError: false });
        expect({ context, type: response.headers.get('content-type') }).toEqual({ context, type: expect.stringMatching(/^application\/json/) });
        expect(() => JSON.parse(text)).not.toThrow();
        if (response.status >= 400) {
          expect({ context, after: await snapshot() }).toEqual({ context, after: before });
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, interruptAfterTimeLimit: 40_000 },
    );
    const elapsed = Date.now() - started;
    if (process.env.FUZZ_DEBUG) console.log(JSON.stringify([...statuses]), elapsed);
    // Both outcomes were exercised.
    const accepted = [...statuses].filter(([status]) => status < 300).reduce((sum, [, n]) => sum + n, 0);
    const rejected = [...statuses].filter(([status]) => status >= 400).reduce((sum, [, n]) => sum + n, 0);
    expect(accepted).toBeGreaterThan(5);
    expect(rejected).toBeGreaterThan(5);
    expect(elapsed).toBeLessThan(45_000);
  }, 60_000);
});

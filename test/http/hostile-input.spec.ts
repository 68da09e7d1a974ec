import 'reflect-metadata';
import { HttpException } from '@nestjs/common';
import { loadServerConfig } from '../../src/config/server-config.js';
import { ENTITY_NAME_MAX_LENGTH } from '../../src/entities/entity-names.js';
import { RetainRequestDto } from '../../src/http/dto/retain.dto.js';
import { jsonTextNestsDeeperThan } from '../../src/http/input-rules.js';
import { MemoryValidationPipe } from '../../src/http/memory-validation.pipe.js';
import { MemoryException } from '../../src/memory.exception.js';
import { KNOWLEDGE_NAME_MAX_LENGTH } from '../../src/knowledge-base/knowledge-base.types.js';
import {
  DEFAULT_INPUT_LIMITS,
  ID_KEY_MAX_UNITS,
  InvalidMemoryOptionsError,
  LONGEST_NAME_KEY_UNITS,
  resolveMemoryOptions,
} from '../../src/memory.options.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import { assertStorableText, stripUnstorable } from '../../src/storage/storable-text.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { type HttpApp, call, startHttpApp } from './http-app.js';

const BANK = 'hostile-bank';
const API = `/v1/default/banks/${BANK}`;
const NUL = '\u0000';
const LONE_HIGH = '\uD83D';
const LONE_LOW = '\uDE00';
const limits = DEFAULT_INPUT_LIMITS;

type Loc = Array<string | number>;

interface RefusedCase {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  loc: Loc;
}

/** `depth` levels of arrays around a string, as raw JSON text. */
const nestedArrays = (depth: number) => `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;

/**
 * What a caller can send that PostgreSQL cannot store (NUL, unpaired surrogates), or that has no
 * bound of its own (deep nesting, long ids, many tags): each is refused at the edge with a 4xx
 * naming the field, or, for retained free text, cleaned; none of it reaches the database as is,
 * and a refused request changes nothing stored.
 */
describe('hostile input to the v1 API', () => {
  let http: HttpApp;
  let snapshot: () => Promise<string>;

  beforeAll(async () => {
    http = await startHttpApp({ DATABASE_URL: 'pglite://memory', MEMORY_CONSOLIDATION_CRON: 'off' });
    const seeded = await call(http.url, 'POST', `${API}/memories`, {
      items: [
        { content: 'Ines builds kayaks.', document_id: 'boats', tags: ['craft'], metadata: { source: 'seed' } },
        { content: 'Jonas keeps bees.' },
      ],
    });
    expect(seeded.status).toBe(200);

    const database = http.app.get(MemoryDatabase);
    const tables = ['banks', 'documents', 'entities', 'memory_units', 'mental_models', 'webhooks'];
    snapshot = async () => {
      const rows = await Promise.all(
        tables.map((table) =>
          database.query<{ digest: string | null; count: string }>(
            `SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest, count(*)::text AS count FROM ${table} t`,
          ),
        ),
      );
      return JSON.stringify(Object.fromEntries(tables.map((table, i) => [table, rows[i][0]])));
    };
  });

  afterAll(async () => {
    await http?.close();
  });

  const item = (fields: Record<string, unknown>) => ({ items: [{ content: 'Karl repairs clocks.', ...fields }] });
  const retain = (body: unknown) => ({ method: 'POST', path: `${API}/memories`, body });
  const recall = (body: unknown) => ({ method: 'POST', path: `${API}/memories/recall`, body });
  const reflect = (body: unknown) => ({ method: 'POST', path: `${API}/reflect`, body });

  const unstorable: RefusedCase[] = [
    {
      name: 'NUL in a metadata value',
      ...retain(item({ metadata: { source: `a${NUL}b` } })),
      loc: ['body', 'items', 0, 'metadata', 'source'],
    },
    { name: 'NUL in a metadata key', ...retain(item({ metadata: { [`so${NUL}urce`]: 'x' } })), loc: ['body', 'items', 0, 'metadata'] },
    { name: 'NUL in a tag', ...retain(item({ tags: ['ok', `t${NUL}`] })), loc: ['body', 'items', 0, 'tags', 1] },
    {
      name: 'NUL in a JSON-encoded tags string',
      ...retain(item({ tags: JSON.stringify([`t${NUL}`]) })),
      loc: ['body', 'items', 0, 'tags', 0],
    },
    { name: 'NUL in document_tags', ...retain({ ...item({}), document_tags: [`d${NUL}`] }), loc: ['body', 'document_tags', 0] },
    { name: 'NUL in a document_id', ...retain(item({ document_id: `doc${NUL}` })), loc: ['body', 'items', 0, 'document_id'] },
    { name: 'NUL in an entity', ...retain(item({ entities: [{ text: `Karl${NUL}` }] })), loc: ['body', 'items', 0, 'entities', 0, 'text'] },
    { name: 'NUL in a recall query', ...recall({ query: `clocks${NUL}` }), loc: ['body', 'query'] },
    { name: 'NUL in recall tags', ...recall({ query: 'clocks', tags: [`t${NUL}`] }), loc: ['body', 'tags', 0] },
    { name: 'NUL in a reflect query', ...reflect({ query: `Who repairs clocks?${NUL}` }), loc: ['body', 'query'] },
    { name: 'NUL in reflect tags', ...reflect({ query: 'Who repairs clocks?', tags: [`t${NUL}`] }), loc: ['body', 'tags', 0] },
    { name: "NUL in a bank's name", method: 'PUT', path: API, body: { name: `Hostile${NUL}` }, loc: ['body', 'name'] },
    {
      name: 'NUL in a bank config value',
      method: 'PATCH',
      path: `${API}/config`,
      body: { updates: { retain_mission: `m${NUL}` } },
      loc: ['body', 'updates', 'retain_mission'],
    },
    { name: 'NUL in a bank id', method: 'PUT', path: '/v1/default/banks/bad%00bank', body: { name: 'x' }, loc: ['path', 'bank_id'] },
    {
      name: 'NUL in a bank id of a retain',
      method: 'POST',
      path: '/v1/default/banks/bad%00bank/memories',
      body: item({}),
      loc: ['path', 'bank_id'],
    },
    { name: 'NUL in a document id in the path', method: 'GET', path: `${API}/documents/bo%00ats`, loc: ['path', 'document_id'] },
    { name: 'NUL in a deleted document id', method: 'DELETE', path: `${API}/documents/a/b%00`, loc: ['path', 'document_id'] },
    { name: 'NUL in the memory list filter', method: 'GET', path: `${API}/memories/list?q=kay%00aks`, loc: ['query', 'q'] },
    {
      name: 'NUL in the memory list document filter',
      method: 'GET',
      path: `${API}/memories/list?document_id=bo%00ats`,
      loc: ['query', 'document_id'],
    },
    { name: 'NUL in the document list filter', method: 'GET', path: `${API}/documents?q=bo%00ats`, loc: ['query', 'q'] },
    {
      name: 'NUL in a memory id',
      method: 'GET',
      path: `${API}/memories/00000000-0000-4000-8000-00000000000%00`,
      loc: ['path', 'memory_id'],
    },
    {
      name: "NUL in a mental model's query",
      method: 'POST',
      path: `${API}/mental-models`,
      body: { name: 'M', source_query: `q${NUL}` },
      loc: ['body', 'source_query'],
    },
    { name: 'NUL in a mental model id', method: 'GET', path: `${API}/mental-models/m%00`, loc: ['path', 'mental_model_id'] },
    {
      name: "NUL in a memory edit's text",
      method: 'PATCH',
      path: `${API}/memories/00000000-0000-4000-8000-000000000000`,
      body: { text: `t${NUL}` },
      loc: ['body', 'text'],
    },
    {
      name: 'NUL in a webhook header',
      method: 'POST',
      path: `${API}/webhooks`,
      body: { url: 'https://example.com/h', http_config: { headers: { 'x-a': `v${NUL}` } } },
      loc: ['body', 'http_config', 'headers', 'x-a'],
    },
    { name: 'a lone high surrogate in a recall query', ...recall({ query: `clocks ${LONE_HIGH}` }), loc: ['body', 'query'] },
    { name: 'a lone low surrogate in a tag', ...retain(item({ tags: [`${LONE_LOW}t`] })), loc: ['body', 'items', 0, 'tags', 0] },
    {
      name: 'a lone surrogate in a metadata value',
      ...retain(item({ metadata: { k: `${LONE_LOW}${LONE_HIGH}` } })),
      loc: ['body', 'items', 0, 'metadata', 'k'],
    },
    { name: "a lone surrogate in a bank's name", method: 'PUT', path: API, body: { name: `x${LONE_HIGH}` }, loc: ['body', 'name'] },
  ];

  const overLimit: RefusedCase[] = [
    {
      name: 'maxBankIdLength',
      method: 'PUT',
      path: `/v1/default/banks/${'b'.repeat(limits.maxBankIdLength + 1)}`,
      body: { name: 'x' },
      loc: ['path', 'bank_id'],
    },
    {
      name: 'maxDocumentIdLength (body)',
      ...retain(item({ document_id: 'd'.repeat(limits.maxDocumentIdLength + 1) })),
      loc: ['body', 'items', 0, 'document_id'],
    },
    {
      name: 'maxDocumentIdLength (path)',
      method: 'GET',
      path: `${API}/documents/${'d/'.repeat(limits.maxDocumentIdLength / 2)}d`,
      loc: ['path', 'document_id'],
    },
    {
      name: 'maxTags (item)',
      ...retain(item({ tags: Array.from({ length: limits.maxTags + 1 }, (_, i) => `t${i}`) })),
      loc: ['body', 'items', 0, 'tags'],
    },
    {
      name: 'maxTags (document_tags)',
      ...retain({ ...item({}), document_tags: Array.from({ length: limits.maxTags + 1 }, (_, i) => `t${i}`) }),
      loc: ['body', 'document_tags'],
    },
    {
      name: 'maxTags (recall)',
      ...recall({ query: 'clocks', tags: Array.from({ length: limits.maxTags + 1 }, (_, i) => `t${i}`) }),
      loc: ['body', 'tags'],
    },
    {
      name: 'the length of an entity name (retain)',
      ...retain(item({ entities: [{ text: 'K'.repeat(ENTITY_NAME_MAX_LENGTH + 1) }] })),
      loc: ['body', 'items', 0, 'entities', 0, 'text'],
    },
    {
      name: 'the length of an entity name (memory edit)',
      method: 'PATCH',
      path: `${API}/memories/00000000-0000-4000-8000-000000000000`,
      body: { entities: ['Karl', 'K'.repeat(ENTITY_NAME_MAX_LENGTH + 1)] },
      loc: ['body', 'entities'],
    },
    { name: 'maxTagLength', ...retain(item({ tags: ['ok', 't'.repeat(limits.maxTagLength + 1)] })), loc: ['body', 'items', 0, 'tags', 1] },
    { name: 'maxQueryChars (recall)', ...recall({ query: 'clock '.repeat(limits.maxQueryChars / 5) }), loc: ['body', 'query'] },
    { name: 'maxQueryChars (reflect)', ...reflect({ query: 'clock '.repeat(limits.maxQueryChars / 5) }), loc: ['body', 'query'] },
    {
      name: 'maxMetadataKeys',
      ...retain(item({ metadata: Object.fromEntries(Array.from({ length: limits.maxMetadataKeys + 1 }, (_, i) => [`k${i}`, 'v'])) })),
      loc: ['body', 'items', 0, 'metadata'],
    },
    {
      name: 'maxMetadataChars',
      ...retain(item({ metadata: { k: 'v'.repeat(limits.maxMetadataChars) } })),
      loc: ['body', 'items', 0, 'metadata'],
    },
    {
      name: 'maxJsonDepth',
      ...retain(`{"items":[{"content":"Karl repairs clocks.","entities":${nestedArrays(limits.maxJsonDepth)}}]}`),
      loc: ['body'],
    },
  ];

  async function expectRefused({ method, path, body, loc }: RefusedCase): Promise<string> {
    const before = await snapshot();
    const response = await call(http.url, method, path, body);
    expect({ status: response.status, body: response.body }).toEqual({
      status: 422,
      body: { detail: expect.arrayContaining([{ loc, msg: expect.any(String), type: 'value_error' }]) },
    });
    expect(await snapshot()).toBe(before);
    return response.body.detail.find((issue: { loc: Loc }) => JSON.stringify(issue.loc) === JSON.stringify(loc)).msg;
  }

  it.each(unstorable)('refuses $name with 422 naming the field, and stores nothing', async (refused) => {
    const msg = await expectRefused(refused);
    expect(msg).toMatch(/must not contain (the NUL character|an unpaired UTF-16 surrogate)/);
  });

  it.each(overLimit)('refuses input over $name with 422 naming the field, and stores nothing', async (refused) => {
    const msg = await expectRefused(refused);
    expect(msg).toMatch(/at most|deeper than/);
  });

  it('accepts input right at each limit', async () => {
    const atLimit = {
      items: [
        {
          content: 'Lotte tunes pianos.',
          document_id: 'd'.repeat(limits.maxDocumentIdLength),
          tags: Array.from({ length: limits.maxTags }, (_, i) => (i === 0 ? 't'.repeat(limits.maxTagLength) : `t${i}`)),
          metadata: Object.fromEntries(Array.from({ length: limits.maxMetadataKeys }, (_, i) => [`k${i}`, 'v'])),
        },
      ],
    };
    const bank = 'b'.repeat(limits.maxBankIdLength);
    expect((await call(http.url, 'POST', `/v1/default/banks/${bank}/memories`, atLimit)).status).toBe(200);
    const recalled = await call(http.url, 'POST', `/v1/default/banks/${bank}/memories/recall`, {
      query: 'pianos '.repeat(limits.maxQueryChars / 7).padEnd(limits.maxQueryChars, 'x'),
    });
    expect(recalled.status).toBe(200);
    expect((await call(http.url, 'DELETE', `/v1/default/banks/${bank}`)).status).toBe(200);
  });

  it('stores ids right at their limits in characters of three bytes each, which the indexes take together', async () => {
    // CJK ideographs, three bytes of UTF-8 each, in no order that compresses: the worst case of
    // the bank id and the document id that btree indexes take as one key.
    const random = seededRandom(83);
    const ideographs = (count: number) =>
      Array.from({ length: count }, () => String.fromCodePoint(0x4e00 + Math.floor(random() * 0x5000))).join('');
    const bank = encodeURIComponent(ideographs(limits.maxBankIdLength));
    const documentId = ideographs(limits.maxDocumentIdLength);
    const retained = await call(http.url, 'POST', `/v1/default/banks/${bank}/memories`, {
      items: [{ content: 'Lotte tunes pianos.', document_id: documentId }],
    });
    expect(retained.status).toBe(200);
    const document = await call(http.url, 'GET', `/v1/default/banks/${bank}/documents/${encodeURIComponent(documentId)}`);
    expect(document.status).toBe(200);
    expect((await call(http.url, 'DELETE', `/v1/default/banks/${bank}`)).status).toBe(200);
  });

  it('stores names and ids right at their limits in characters of three bytes each, with the bank id as long as the options allow', async () => {
    // The largest bank id the options accept, and beside it the longest text each btree key
    // holds: a document id, an entity name, a knowledge folder's name, a schedule's attribute key.
    const widest = await startHttpApp({
      DATABASE_URL: 'pglite://memory',
      MEMORY_CONSOLIDATION_CRON: 'off',
      MEMORY_MAX_BANK_ID_LENGTH: String(ID_KEY_MAX_UNITS - LONGEST_NAME_KEY_UNITS),
      MEMORY_MAX_DOCUMENT_ID_LENGTH: String(LONGEST_NAME_KEY_UNITS),
    });
    try {
      const random = seededRandom(89);
      const ideographs = (count: number) =>
        Array.from({ length: count }, () => String.fromCodePoint(0x4e00 + Math.floor(random() * 0x5000))).join('');
      const letters = (count: number) =>
        Array.from({ length: count }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(random() * 36)]).join('');
      const bank = `/v1/default/banks/${encodeURIComponent(ideographs(ID_KEY_MAX_UNITS - LONGEST_NAME_KEY_UNITS))}`;
      const entity = ideographs(ENTITY_NAME_MAX_LENGTH);
      const retained = await call(widest.url, 'POST', `${bank}/memories`, {
        items: [
          { content: `Lotte met ${entity} at the harbour.`, entities: [{ text: entity }], document_id: ideographs(LONGEST_NAME_KEY_UNITS) },
          // A made-up word before "meeting" would make the schedule's key as long as the sentence.
          { content: `The ${letters(1900)} meeting moved to Friday.` },
        ],
      });
      expect(retained.status).toBe(200);
      const entities = await call(widest.url, 'GET', `${bank}/entities`);
      expect(entities.body.items.map((found: { canonical_name: string }) => found.canonical_name)).toContain(entity);
      const folder = await call(widest.url, 'POST', `${bank}/knowledge-base/folders`, { name: ideographs(KNOWLEDGE_NAME_MAX_LENGTH) });
      expect(folder.status).toBe(201);
      const subfolder = await call(widest.url, 'POST', `${bank}/knowledge-base/folders`, {
        name: ideographs(KNOWLEDGE_NAME_MAX_LENGTH),
        parent_id: folder.body.id,
      });
      expect(subfolder.status).toBe(201);
    } finally {
      await widest.close();
    }
  });

  it('refuses a body nested 5000 levels deep before parsing it, whatever the route', async () => {
    const deep = nestedArrays(5000);
    for (const refused of [
      retain(`{"items":${deep}}`),
      recall(`{"query":"clocks","include":{"chunks":${deep}}}`),
      { method: 'PATCH', path: `${API}/config`, body: `{"updates":{"retain_mission":${deep}}}` },
      { method: 'POST', path: `${API}/consolidate`, body: deep },
    ]) {
      const before = await snapshot();
      const response = await call(http.url, refused.method, refused.path, refused.body);
      expect({ path: refused.path, status: response.status, body: response.body }).toEqual({
        path: refused.path,
        status: 422,
        body: {
          detail: [
            { loc: ['body'], msg: `JSON nested deeper than ${limits.maxJsonDepth} levels of objects and arrays`, type: 'value_error' },
          ],
        },
      });
      expect(await snapshot()).toBe(before);
    }
  });

  it('counts nesting outside strings only', () => {
    expect(jsonTextNestsDeeperThan(Buffer.from(nestedArrays(3)), 3)).toBe(false);
    expect(jsonTextNestsDeeperThan(Buffer.from(nestedArrays(4)), 3)).toBe(true);
    expect(jsonTextNestsDeeperThan(Buffer.from(JSON.stringify({ a: '[[[[{{{{', b: '\\"[[[[' })), 1)).toBe(false);
    expect(jsonTextNestsDeeperThan(Buffer.from(`{"a":"\\\\",${'['.repeat(3)}]]]}`), 3)).toBe(true);
  });

  it('refuses a deep body in the validation pipe too, for hosts that parse bodies their own way', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 5000; i++) deep = [deep];
    const pipe = new MemoryValidationPipe(resolveMemoryOptions({}));
    const refusal = await pipe
      .transform({ items: [{ content: 'x', entities: deep }] }, { type: 'body', metatype: RetainRequestDto })
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(HttpException);
    expect((refusal as HttpException).getStatus()).toBe(422);
    expect((refusal as HttpException).getResponse()).toEqual({
      detail: [{ loc: ['body'], msg: expect.stringMatching(/deeper than 32/), type: 'value_error' }],
    });
  });

  it('strips NUL and lone surrogates from retained content and context instead of refusing them', async () => {
    const retained = await call(http.url, 'POST', '/v1/default/banks/stripped-bank/memories', {
      items: [{ content: `Mira${NUL} paints ${LONE_HIGH}lighthouses${LONE_LOW}.`, context: `from a ${NUL}chat${LONE_LOW}` }],
    });
    expect(retained.status).toBe(200);
    const listed = await call(http.url, 'GET', '/v1/default/banks/stripped-bank/memories/list');
    expect(listed.body.items).toHaveLength(1);
    expect(listed.body.items[0]).toMatchObject({ text: 'Mira paints lighthouses.', context: 'from a chat' });
  });

  it('refuses content that is nothing but NUL characters as empty', async () => {
    await expectRefused({ name: 'only NUL', ...retain({ items: [{ content: `${NUL}${NUL}` }] }), loc: ['body', 'items', 0, 'content'] });
  });

  it('answers 415 to a body that is not JSON on a route that takes one, and stores nothing', async () => {
    for (const [contentType, body] of [
      ['text/plain', JSON.stringify(item({}))],
      ['application/x-www-form-urlencoded', 'items=Karl'],
      ['text/plain; charset=utf-8', 'Karl repairs clocks.'],
    ]) {
      const before = await snapshot();
      const response = await fetch(`${http.url}${API}/memories`, { method: 'POST', headers: { 'content-type': contentType }, body });
      expect({ contentType, status: response.status, body: await response.json() }).toEqual({
        contentType,
        status: 415,
        body: { detail: expect.stringContaining('application/json') },
      });
      expect(await snapshot()).toBe(before);
    }
    const recalled = await fetch(`${http.url}${API}/memories/recall`, { method: 'POST', body: 'clocks' });
    expect(recalled.status).toBe(415);
  });

  it('keeps answering 422 to a request without a body where one is required', async () => {
    const response = await fetch(`${http.url}${API}/memories`, { method: 'POST' });
    expect(response.status).toBe(422);
    const { detail } = (await response.json()) as { detail: unknown };
    expect(detail).toEqual(expect.arrayContaining([expect.objectContaining({ loc: ['body', 'items'] })]));
  });

  it('leaves routes without a body alone whatever the content type says', async () => {
    const response = await fetch(`${http.url}${API}/memories/list`, { headers: { 'content-type': 'text/plain' } });
    expect(response.status).toBe(200);
  });

  it('reads every limit from the environment of the standalone server', () => {
    const config = loadServerConfig({
      MEMORY_MAX_JSON_DEPTH: '8',
      MEMORY_MAX_BANK_ID_LENGTH: '9',
      MEMORY_MAX_DOCUMENT_ID_LENGTH: '10',
      MEMORY_MAX_TAGS: '11',
      MEMORY_MAX_TAG_LENGTH: '12',
      MEMORY_MAX_QUERY_CHARS: '13',
      MEMORY_MAX_METADATA_KEYS: '14',
      MEMORY_MAX_METADATA_CHARS: '15',
    });
    expect(resolveMemoryOptions(config.memory).limits).toEqual({
      maxJsonDepth: 8,
      maxBankIdLength: 9,
      maxDocumentIdLength: 10,
      maxTags: 11,
      maxTagLength: 12,
      maxQueryChars: 13,
      maxMetadataKeys: 14,
      maxMetadataChars: 15,
    });
    expect(resolveMemoryOptions(loadServerConfig({}).memory).limits).toEqual(DEFAULT_INPUT_LIMITS);
  });

  it('refuses limits whose bank and document ids together could outgrow an index entry', () => {
    expect(() => resolveMemoryOptions({ limits: { maxBankIdLength: 256, maxDocumentIdLength: 1024 } })).toThrow(
      new InvalidMemoryOptionsError([
        `option 'limits.maxDocumentIdLength' maxBankIdLength and maxDocumentIdLength may add up to at most ${ID_KEY_MAX_UNITS}: ` +
          'together they are a key of btree indexes, whose entries hold at most 2,704 bytes (3 bytes of UTF-8 a code unit at most)',
      ]),
    );
    expect(resolveMemoryOptions({ limits: { maxBankIdLength: 66, maxDocumentIdLength: 800 } }).limits.maxDocumentIdLength).toBe(800);
  });

  it('refuses a bank id limit that could outgrow an index entry beside the longest name, whatever the document id', () => {
    const widest = ID_KEY_MAX_UNITS - LONGEST_NAME_KEY_UNITS;
    expect(() => resolveMemoryOptions({ limits: { maxBankIdLength: widest + 1, maxDocumentIdLength: 10 } })).toThrow(
      new InvalidMemoryOptionsError([
        `option 'limits.maxBankIdLength' maxBankIdLength may be at most ${widest}: with a knowledge page's parent id and ` +
          `name (${LONGEST_NAME_KEY_UNITS} code units) it is a key of a btree index, whose entries hold at most 2,704 bytes`,
      ]),
    );
    expect(resolveMemoryOptions({ limits: { maxBankIdLength: widest, maxDocumentIdLength: 10 } }).limits.maxBankIdLength).toBe(widest);
  });

  it('offers services one check that turns unstorable text into an invalid-input error', () => {
    expect(() => assertStorableText('fine', 'items.0.content')).not.toThrow();
    expect(() => assertStorableText(null, 'context')).not.toThrow();
    const error = (() => {
      try {
        assertStorableText(`a${NUL}`, 'items.0.context');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(MemoryException);
    expect(error).toMatchObject({ field: 'items.0.context', message: 'context must not contain the NUL character (\\u0000)' });
    expect(() => assertStorableText(`${LONE_LOW}`, 'q')).toThrow(/unpaired UTF-16 surrogate/);
    // A proper pair is one character, and stays.
    expect(stripUnstorable(`a${NUL}\u{1F600}${LONE_HIGH}b${LONE_LOW}`)).toBe('a\u{1F600}b');
  });
});

import { type HttpApp, call, startHttpApp } from './http-app.js';

const BANK = 'guarded-bank';
const MAX_BODY_BYTES = 4096;

interface BadRequestCase {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  status: number;
  /** The field a 422 names, as Pydantic's `loc`. */
  loc?: Array<string | number>;
  /** What a string `detail` says. */
  detail?: RegExp;
}

/**
 * Requests the API must refuse: each gets the documented 4xx, Hindsight-shaped and naming what
 * is wrong, and none of them changes what the bank holds.
 */
describe('bad input to the v1 API', () => {
  let http: HttpApp;

  beforeAll(async () => {
    http = await startHttpApp({ DATABASE_URL: 'pglite://memory', MEMORY_MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
    const seeded = await call(http.url, 'POST', `/v1/default/banks/${BANK}/memories`, {
      items: [{ content: 'Lena trains falcons.', document_id: 'falconry' }, { content: 'Milo grows saffron.' }],
    });
    expect(seeded.status).toBe(200);
  });

  afterAll(async () => {
    await http?.close();
  });

  const memories = () => call(http.url, 'GET', `/v1/default/banks/${BANK}/memories/list`).then((response) => response.body);

  const retain = (body: unknown): Omit<BadRequestCase, 'name' | 'status' | 'loc' | 'detail'> => ({
    method: 'POST',
    path: `/v1/default/banks/${BANK}/memories`,
    body,
  });
  const recall = (body: unknown) => ({ method: 'POST', path: `/v1/default/banks/${BANK}/memories/recall`, body });

  const cases: BadRequestCase[] = [
    {
      name: 'an item without content',
      ...retain({ items: [{ context: 'no content' }] }),
      status: 422,
      loc: ['body', 'items', 0, 'content'],
    },
    { name: 'items that are not an array', ...retain({ items: 'Lena trains falcons.' }), status: 422, loc: ['body', 'items'] },
    { name: 'no items at all', ...retain({ async: false }), status: 422, loc: ['body', 'items'] },
    { name: 'content that is a number', ...retain({ items: [{ content: 42 }] }), status: 422, loc: ['body', 'items', 0, 'content'] },
    { name: 'whitespace-only content', ...retain({ items: [{ content: ' \n\t ' }] }), status: 422, loc: ['body', 'items', 0, 'content'] },
    {
      name: 'a bad second item after a good first one',
      ...retain({ items: [{ content: 'Nora sails to Crete.' }, { content: '   ' }] }),
      status: 422,
      loc: ['body', 'items', 1, 'content'],
    },
    {
      name: 'tags that are a number',
      ...retain({ items: [{ content: 'Otto runs.', tags: 7 }] }),
      status: 422,
      loc: ['body', 'items', 0, 'tags'],
    },
    {
      name: 'tags that are an object',
      ...retain({ items: [{ content: 'Otto runs.', tags: { a: 1 } }] }),
      status: 422,
      loc: ['body', 'items', 0, 'tags'],
    },
    {
      name: 'document_tags that are a number',
      ...retain({ items: [{ content: 'Otto runs.' }], document_tags: 3 }),
      status: 422,
      loc: ['body', 'document_tags'],
    },
    { name: 'an empty items list', ...retain({ items: [] }), status: 422, loc: ['body', 'items'] },
    {
      name: 'metadata with a non-string value',
      ...retain({ items: [{ content: 'Otto runs.', metadata: { laps: 3 } }] }),
      status: 422,
      loc: ['body', 'items', 0, 'metadata'],
    },
    {
      name: 'a timestamp that is not ISO 8601',
      ...retain({ items: [{ content: 'Otto runs.', timestamp: 'last tuesday' }] }),
      status: 422,
      loc: ['body', 'items', 0, 'timestamp'],
    },
    {
      name: 'async that is not a boolean',
      ...retain({ items: [{ content: 'Otto runs.' }], async: 'soon' }),
      status: 422,
      loc: ['body', 'async'],
    },
    { name: 'a body that is a JSON array', ...retain([{ content: 'Otto runs.' }]), status: 422, loc: ['body'] },
    {
      name: 'a body over the configured limit',
      ...retain({ items: [{ content: 'Otto runs. '.repeat(MAX_BODY_BYTES / 10) }] }),
      status: 413,
      detail: /larger than the limit of 4096 bytes/,
    },
    { name: 'malformed JSON', ...retain('{"items": [{"content": "Otto'), status: 400, detail: /not valid JSON/ },
    { name: 'a recall query without a word character', ...recall({ query: '?!? ...' }), status: 422, loc: ['body', 'query'] },
    { name: 'a recall of an unknown fact type', ...recall({ query: 'falcons', types: ['opinion'] }), status: 422, loc: ['body', 'types'] },
    {
      name: 'a recall with a negative max_tokens',
      ...recall({ query: 'falcons', max_tokens: -1 }),
      status: 422,
      loc: ['body', 'max_tokens'],
    },
    {
      name: 'a recall with a bad query_timestamp',
      ...recall({ query: 'falcons', query_timestamp: 'yesterday' }),
      status: 400,
      detail: /query_timestamp/,
    },
    {
      name: 'a non-UUID operation id',
      method: 'GET',
      path: `/v1/default/banks/${BANK}/operations/not-a-uuid`,
      status: 400,
      detail: /Invalid operation_id format: not-a-uuid/,
    },
    {
      name: 'cancelling a non-UUID operation id',
      method: 'DELETE',
      path: `/v1/default/banks/${BANK}/operations/42`,
      status: 400,
      detail: /Invalid operation_id format/,
    },
    {
      name: 'a negative list limit',
      method: 'GET',
      path: `/v1/default/banks/${BANK}/memories/list?limit=-1`,
      status: 422,
      loc: ['query', 'limit'],
    },
    {
      name: 'an unknown list type',
      method: 'GET',
      path: `/v1/default/banks/${BANK}/memories/list?type=opinion`,
      status: 422,
      loc: ['query', 'type'],
    },
    {
      name: 'an unknown config key',
      method: 'PATCH',
      path: `/v1/default/banks/${BANK}/config`,
      body: { updates: { no_such_key: 1 } },
      status: 400,
      detail: /no_such_key/,
    },
    {
      name: 'a disposition update without a disposition',
      method: 'PUT',
      path: `/v1/default/banks/${BANK}/profile`,
      body: {},
      status: 422,
      loc: ['body', 'disposition'],
    },
    {
      name: 'a deliveries cursor that is no timestamp',
      method: 'GET',
      path: `/v1/default/banks/${BANK}/webhooks/00000000-0000-4000-8000-000000000000/deliveries?cursor=1`,
      status: 422,
      loc: ['query', 'cursor'],
    },
    {
      name: 'a disposition out of range',
      method: 'PUT',
      path: `/v1/default/banks/${BANK}/profile`,
      body: { disposition: { skepticism: 9, literalism: 3, empathy: 3 } },
      status: 422,
      loc: ['body', 'disposition', 'skepticism'],
    },
    {
      name: 'an unknown memory id',
      method: 'GET',
      path: `/v1/default/banks/${BANK}/memories/00000000-0000-4000-8000-000000000000`,
      status: 404,
      detail: /Memory unit .* not found/,
    },
    {
      name: 'an unknown document',
      method: 'GET',
      path: `/v1/default/banks/${BANK}/documents/nope%2Fnothing`,
      status: 404,
      detail: /^Document not found$/,
    },
    { name: 'an unknown route under the API', method: 'GET', path: `/v1/default/banks/${BANK}/nothing-here`, status: 404 },
  ];

  it.each(cases)(
    'answers $status to $name, naming the problem, and keeps the bank unchanged',
    async ({ method, path, body, status, loc, detail }) => {
      const before = await memories();
      const response = await call(http.url, method, path, body);

      expect(response.status).toBe(status);
      expect(response.contentType).toMatch(/^application\/json/);
      if (loc)
        expect(response.body.detail).toEqual(
          expect.arrayContaining([expect.objectContaining({ loc, type: 'value_error', msg: expect.any(String) })]),
        );
      if (detail) expect(response.body.detail).toMatch(detail);
      expect(await memories()).toEqual(before);
      expect(before.total).toBe(2);
    },
  );

  const unknownBankReads: Array<[string, string]> = [
    ['GET', 'profile'],
    ['GET', 'stats'],
    ['GET', 'config'],
    ['GET', 'operations/00000000-0000-4000-8000-000000000000'],
    ['PATCH', ''],
  ];

  it.each(unknownBankReads)('answers 404 to %s on an unknown bank (/%s) and does not create it', async (method, route) => {
    const path = `/v1/default/banks/ghost-bank${route ? `/${route}` : ''}`;
    const response = await call(http.url, method, path, method === 'PATCH' ? { name: 'Ghost' } : undefined);
    expect(response.status).toBe(404);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(response.body).toEqual({ detail: "Bank 'ghost-bank' not found" });
    const banks = await call(http.url, 'GET', '/v1/default/banks');
    expect(banks.body.banks.map((bank: { bank_id: string }) => bank.bank_id)).not.toContain('ghost-bank');
  });

  // Hindsight's list routes check no bank: a list of one that does not exist is an empty page.
  const unknownBankLists: Array<[string, string]> = [
    ['memories/list', 'items'],
    ['documents', 'items'],
    ['entities', 'items'],
    ['tags', 'items'],
    ['operations', 'operations'],
  ];

  it.each(unknownBankLists)('answers an empty page to /%s on an unknown bank and does not create it', async (route, key) => {
    const response = await call(http.url, 'GET', `/v1/default/banks/ghost-bank/${route}`);
    expect(response.status).toBe(200);
    expect(response.body[key]).toEqual([]);
    const banks = await call(http.url, 'GET', '/v1/default/banks');
    expect(banks.body.banks.map((bank: { bank_id: string }) => bank.bank_id)).not.toContain('ghost-bank');
  });

  it('answers 404 to a recall on an unknown bank', async () => {
    const response = await call(http.url, 'POST', '/v1/default/banks/ghost-bank/memories/recall', { query: 'anything' });
    expect(response).toMatchObject({ status: 404, body: { detail: "Bank 'ghost-bank' not found" } });
  });

  it('ignores unknown fields and takes null for every optional field', async () => {
    const retained = await call(http.url, 'POST', '/v1/default/banks/lenient-bank/memories', {
      items: [
        {
          content: 'Pia restores harpsichords.',
          timestamp: null,
          context: null,
          metadata: null,
          document_id: null,
          entities: null,
          tags: null,
          observation_scopes: null,
          strategy: null,
          update_mode: null,
          colour: 'blue',
        },
      ],
      async: null,
      document_tags: null,
      operation_id: null,
      priority: 'high',
    });
    expect(retained).toMatchObject({ status: 200, body: { success: true, items_count: 1, async: false } });

    const recalled = await call(http.url, 'POST', '/v1/default/banks/lenient-bank/memories/recall', {
      query: 'harpsichords',
      types: null,
      budget: null,
      max_tokens: null,
      trace: null,
      query_timestamp: null,
      include: { entities: null, chunks: null, source_facts: null },
      tags: null,
      tags_match: null,
      tag_groups: null,
      min_scores: null,
      mood: 'curious',
    });
    expect(recalled.status).toBe(200);
    expect(recalled.body.results.map((result: { text: string }) => result.text)).toEqual(['Pia restores harpsichords.']);
    expect(recalled.body.entities).toBeUndefined();
  });

  it('coerces a JSON-encoded or plain-string tags value to a list', async () => {
    const retained = await call(http.url, 'POST', '/v1/default/banks/tag-bank/memories', {
      items: [
        { content: 'Quinn forges knives.', tags: '["smithing","steel"]' },
        { content: 'Rosa weaves rugs.', tags: 'textiles' },
      ],
    });
    expect(retained.status).toBe(200);
    const tags = await call(http.url, 'GET', '/v1/default/banks/tag-bank/tags');
    expect(tags.body.items.map((item: { tag: string }) => item.tag).sort()).toEqual(['smithing', 'steel', 'textiles']);
  });

  it('times each request by route pattern, with the status that was sent', async () => {
    await call(http.url, 'POST', `/v1/default/banks/${BANK}/memories`, { items: [] });
    const metrics = await fetch(`${http.url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(
      /memory_http_request_duration_seconds_count\{method="POST",route="\/v1\/default\/banks\/:bank_id\/memories",status="422"\} [1-9]/,
    );
    expect(text).toMatch(
      /memory_http_request_duration_seconds_count\{method="GET",route="\/v1\/default\/banks\/:bank_id\/memories\/list",status="200"\} [1-9]/,
    );
    expect(text).not.toContain(BANK);
  });
});

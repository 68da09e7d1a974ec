import { type HttpApp, call, startHttpApp } from '../http/http-app.js';

/**
 * With an API key, every route but the health probes and `/version` refuses a request without
 * it; and one bank's data never shows up through another bank's routes.
 */
const KEY = 'tenant-secret-key';
const AUTH = { authorization: `Bearer ${KEY}` };
const MEMORY_ID = '00000000-0000-4000-8000-000000000001';
const OPERATION_ID = '00000000-0000-4000-8000-000000000002';

/** Every route the HTTP API declares (src/http/controllers), with placeholders filled in. */
const PROTECTED: Array<[string, string]> = [
  ['GET', '/v1/default/banks'],
  ['PUT', '/v1/default/banks/b1'],
  ['PATCH', '/v1/default/banks/b1'],
  ['DELETE', '/v1/default/banks/b1'],
  ['GET', '/v1/default/banks/b1/profile'],
  ['PUT', '/v1/default/banks/b1/profile'],
  ['GET', '/v1/default/banks/b1/stats'],
  ['GET', '/v1/default/banks/b1/config'],
  ['PATCH', '/v1/default/banks/b1/config'],
  ['DELETE', '/v1/default/banks/b1/config'],
  ['POST', '/v1/default/banks/b1/memories'],
  ['POST', '/v1/default/banks/b1/memories/recall'],
  ['GET', '/v1/default/banks/b1/memories/list'],
  ['GET', `/v1/default/banks/b1/memories/${MEMORY_ID}`],
  ['PATCH', `/v1/default/banks/b1/memories/${MEMORY_ID}`],
  ['DELETE', '/v1/default/banks/b1/memories'],
  ['POST', '/v1/default/banks/b1/reflect'],
  ['GET', '/v1/default/banks/b1/mental-models'],
  ['POST', '/v1/default/banks/b1/mental-models'],
  ['GET', '/v1/default/banks/b1/mental-models/m1'],
  ['PATCH', '/v1/default/banks/b1/mental-models/m1'],
  ['DELETE', '/v1/default/banks/b1/mental-models/m1'],
  ['POST', '/v1/default/banks/b1/mental-models/m1/refresh'],
  ['GET', '/v1/default/banks/b1/operations'],
  ['GET', `/v1/default/banks/b1/operations/${OPERATION_ID}`],
  ['DELETE', `/v1/default/banks/b1/operations/${OPERATION_ID}`],
  ['POST', '/v1/default/banks/b1/consolidate'],
  ['GET', '/v1/default/banks/b1/documents'],
  ['GET', '/v1/default/banks/b1/documents/doc-1'],
  ['DELETE', '/v1/default/banks/b1/documents/doc-1'],
  ['GET', '/v1/default/banks/b1/entities'],
  ['GET', '/v1/default/banks/b1/tags'],
  ['GET', '/metrics'],
];
// The console's static shell holds no data (every call it makes goes through the guarded API).
const OPEN = ['/health', '/version', '/health/live', '/health/ready', '/ui'];

const A_TEXTS = ['Aurelia Quillfeather breeds axolotls in Reykjavik.', 'Aurelia Quillfeather keeps axolotl logbooks.'];
const B_TEXTS = ['Bartholomew Oakridge restores sailboats.', 'Bartholomew Oakridge sails to Reykjavik for axolotls.'];

describe('API key and tenant isolation (PGlite)', () => {
  let http: HttpApp | undefined;

  beforeAll(async () => {
    http = await startHttpApp({
      DATABASE_URL: `pglite://memory/faults-tenant-${process.pid}-${Date.now()}`,
      MEMORY_API_KEY: KEY,
      MEMORY_CONSOLIDATION_CRON: 'off',
    });
  });

  afterAll(async () => {
    await http?.close();
  });

  it('every v1 route and /metrics answers 401 without the key or with a wrong one; the probes stay open', async () => {
    const url = http!.url;
    // Every route Nest registered, placeholders filled in, plus the fixed list (which must all be
    // registered): routes added later (webhooks, …) are covered without editing this file.
    const routes = routerTable(http!).filter(
      (route) => !OPEN.includes(route.split(' ')[1]) && !route.startsWith('GET /docs') && !route.startsWith('GET /ui/assets/'),
    );
    const registered = new Set(routes);
    expect(PROTECTED.filter(([method, path]) => !registered.has(`${method} ${normalise(path)}`))).toEqual([]);
    const toCheck = new Map<string, [string, string]>(PROTECTED.map(([method, path]) => [`${method} ${normalise(path)}`, [method, path]]));
    for (const route of routes) {
      if (toCheck.has(route)) continue;
      const [method, pattern] = route.split(' ');
      toCheck.set(route, [
        method,
        pattern.replace(/[:*]([a-z_]+)/g, (_, name: string) =>
          name.endsWith('_id') ? `00000000-0000-4000-8000-00000000000${name.length % 10}` : 'x',
        ),
      ]);
    }
    // Swagger UI and the OpenAPI document (/docs*) are served open, as API documentation, not data.

    for (const [method, path] of toCheck.values()) {
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
      const without = await fetch(`${url}${path}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      await without.text();
      const wrong = await fetch(`${url}${path}`, { method, headers: { authorization: 'Bearer not-the-key' } });
      await wrong.text();
      expect({ route: `${method} ${path}`, without: without.status, wrong: wrong.status }).toEqual({
        route: `${method} ${path}`,
        without: 401,
        wrong: 401,
      });
    }
    for (const path of OPEN) {
      const response = await fetch(`${url}${path}`);
      await response.text();
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
    }
    // Nothing was created by the refused writes.
    expect((await call(url, 'GET', '/v1/default/banks', undefined, AUTH)).body.banks).toEqual([]);
  });

  it("never shows bank A's data through bank B", async () => {
    const url = http!.url;
    const retain = (bank: string, texts: string[], tag: string) =>
      call(
        url,
        'POST',
        `/v1/default/banks/${bank}/memories`,
        {
          items: texts.map((content) => ({
            content,
            tags: [tag],
            document_id: 'shared-doc',
            entities: [{ text: tag === 'tag-a' ? 'Aurelia' : 'Bartholomew' }],
          })),
        },
        AUTH,
      );
    expect((await retain('bank-a', A_TEXTS, 'tag-a')).status).toBe(200);
    expect((await retain('bank-b', B_TEXTS, 'tag-b')).status).toBe(200);
    const queued = await call(
      url,
      'POST',
      '/v1/default/banks/bank-a/memories',
      { items: [{ content: 'Aurelia Quillfeather queued this.' }], async: true },
      AUTH,
    );
    expect(queued.status).toBe(200);

    const aMemories = (await call(url, 'GET', '/v1/default/banks/bank-a/memories/list', undefined, AUTH)).body.items as Array<{
      id: string;
      text: string;
    }>;
    expect(aMemories.length).toBeGreaterThanOrEqual(2);
    const aIds = aMemories.map((memory) => memory.id);

    const views = {
      recall: await call(
        url,
        'POST',
        '/v1/default/banks/bank-b/memories/recall',
        { query: 'Aurelia Quillfeather axolotls Reykjavik logbooks', include: { entities: {} } },
        AUTH,
      ),
      list: await call(url, 'GET', '/v1/default/banks/bank-b/memories/list?limit=1000', undefined, AUTH),
      search: await call(url, 'GET', '/v1/default/banks/bank-b/memories/list?q=Aurelia', undefined, AUTH),
      documents: await call(url, 'GET', '/v1/default/banks/bank-b/documents', undefined, AUTH),
      document: await call(url, 'GET', '/v1/default/banks/bank-b/documents/shared-doc', undefined, AUTH),
      entities: await call(url, 'GET', '/v1/default/banks/bank-b/entities', undefined, AUTH),
      tags: await call(url, 'GET', '/v1/default/banks/bank-b/tags', undefined, AUTH),
      operations: await call(url, 'GET', '/v1/default/banks/bank-b/operations', undefined, AUTH),
      stats: await call(url, 'GET', '/v1/default/banks/bank-b/stats', undefined, AUTH),
    };
    for (const [name, response] of Object.entries(views)) {
      expect({ name, status: response.status }).toEqual({ name, status: 200 });
      const text = JSON.stringify(response.body);
      for (const leak of [...A_TEXTS, 'Quillfeather', 'Aurelia', 'aurelia', 'tag-a', ...aIds, queued.body.operation_id]) {
        expect({ name, leaks: text.includes(leak) ? leak : null }).toEqual({ name, leaks: null });
      }
    }
    // B's own data is there, so the views were not simply empty.
    expect(JSON.stringify(views.list.body)).toContain(B_TEXTS[0]);
    expect(JSON.stringify(views.tags.body)).toContain('tag-b');

    // Direct access by A's ids through bank B.
    for (const id of aIds) {
      const got = await call(url, 'GET', `/v1/default/banks/bank-b/memories/${id}`, undefined, AUTH);
      expect({ id, status: got.status }).toEqual({ id, status: 404 });
      const edited = await call(url, 'PATCH', `/v1/default/banks/bank-b/memories/${id}`, { text: 'hijacked' }, AUTH);
      expect(edited.status).toBeGreaterThanOrEqual(400);
    }
    const op = await call(url, 'GET', `/v1/default/banks/bank-b/operations/${queued.body.operation_id}`, undefined, AUTH);
    expect(op.body.status).toBe('not_found');
    const cancel = await call(url, 'DELETE', `/v1/default/banks/bank-b/operations/${queued.body.operation_id}`, undefined, AUTH);
    expect(cancel.status).toBeGreaterThanOrEqual(400);

    // B's writes on the shared document id leave A's document intact.
    const deleted = await call(url, 'DELETE', '/v1/default/banks/bank-b/documents/shared-doc', undefined, AUTH);
    expect(deleted.status).toBeLessThan(300);
    const aAfter = (await call(url, 'GET', '/v1/default/banks/bank-a/memories/list', undefined, AUTH)).body.items as Array<{
      text: string;
    }>;
    expect(aAfter.map((memory) => memory.text)).toEqual(expect.arrayContaining(A_TEXTS));
    expect(aAfter.every((memory) => memory.text !== 'hijacked')).toBe(true);
  });
});

function normalise(path: string): string {
  return path
    .replace(/\/banks\/b1(?=\/|$)/, '/banks/:bank_id')
    .replace(`/memories/${MEMORY_ID}`, '/memories/:memory_id')
    .replace('/mental-models/m1', '/mental-models/:mental_model_id')
    .replace(`/operations/${OPERATION_ID}`, '/operations/:operation_id')
    .replace('/documents/doc-1', '/documents/*document_id');
}

/** `METHOD /path` of every route registered on the Express router. */
/**
 * The methods a route answers that a client sends; a route for every method (`@All`, as the MCP
 * endpoint is) also lists CONNECT and TRACE, which fetch refuses to send.
 */
const SENDABLE_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

function routerTable(http: HttpApp): string[] {
  const express = http.app.getHttpAdapter().getInstance() as { router?: { stack: any[] }; _router?: { stack: any[] } };
  const stack = (express.router ?? express._router)?.stack ?? [];
  return stack
    .filter((layer) => layer.route)
    .flatMap((layer) =>
      Object.keys(layer.route.methods)
        .filter((method) => SENDABLE_METHODS.has(method))
        .map((method) => `${method.toUpperCase()} ${layer.route.path}`),
    );
}

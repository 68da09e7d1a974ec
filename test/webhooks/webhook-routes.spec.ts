import { type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MemoryHttpModule } from '../../src/http/memory-http.module.js';
import { MemoryModule } from '../../src/memory.module.js';
import { eventually } from '../helpers/eventually.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { call } from '../http/http-app.js';

async function startApp(name: string, allowPrivate: boolean): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [
      MemoryModule.forRoot({
        databaseUrl: `pglite://memory/${name}`,
        isGlobal: true,
        watchdogIntervalMs: 60_000,
        consolidation: { cron: null },
        webhooks: { allowPrivate, pollIntervalMs: 25, backoffMs: 10, maxAttempts: 2 },
      }),
      MemoryHttpModule,
    ],
  })
  class HostModule {}
  const app = await NestFactory.create(HostModule, { logger: ['error'], abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

describe('webhook routes', () => {
  let app: INestApplication;
  let url: string;
  let receiver: WebhookReceiver;
  const base = '/v1/default/banks/route-bank/webhooks';

  beforeAll(async () => {
    ({ app, url } = await startApp('webhook-routes', true));
    receiver = await new WebhookReceiver('route-secret', { kind: 'status', status: 503 }).start();
  });

  afterAll(async () => {
    await app?.close();
    await receiver?.close();
  });

  it('creates, lists, updates and deletes a webhook, never returning its secret', async () => {
    const created = await call(url, 'POST', base, { url: 'http://127.0.0.1:9/a', secret: 's3cret' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      bank_id: 'route-bank',
      url: 'http://127.0.0.1:9/a',
      secret: null,
      event_types: ['consolidation.completed'],
      enabled: true,
      http_config: { method: 'POST', timeout_seconds: 10, headers: {}, params: {} },
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const id = created.body.id;

    const listed = await call(url, 'GET', base);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([created.body]);

    const patched = await call(url, 'PATCH', `${base}/${id}`, { enabled: false, event_types: ['retain.completed'], secret: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      id,
      enabled: false,
      event_types: ['retain.completed'],
      url: 'http://127.0.0.1:9/a',
      secret: null,
    });

    expect(await call(url, 'PATCH', `${base}/${id}`, {})).toMatchObject({ status: 422, body: { detail: 'No fields provided to update' } });

    expect(await call(url, 'DELETE', `${base}/${id}`)).toMatchObject({ status: 200, body: { success: true } });
    expect((await call(url, 'GET', base)).body.items).toEqual([]);
    expect(await call(url, 'DELETE', `${base}/${id}`)).toMatchObject({ status: 404, body: { detail: 'Webhook not found' } });
  });

  it('answers 404 for an unknown or malformed webhook id on every route', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      expect((await call(url, 'PATCH', `${base}/${id}`, { enabled: true })).status).toBe(404);
      expect((await call(url, 'DELETE', `${base}/${id}`)).status).toBe(404);
      expect((await call(url, 'GET', `${base}/${id}/deliveries`)).status).toBe(404);
    }
  });

  it('answers 422 for a bad body', async () => {
    const missing = await call(url, 'POST', base, { secret: 'x' });
    expect(missing.status).toBe(422);
    expect(missing.body.detail.some((issue: { loc: unknown[] }) => issue.loc.join('.') === 'body.url')).toBe(true);
    const badEvent = await call(url, 'POST', base, { url: 'http://127.0.0.1:9/a', event_types: ['nope'] });
    expect(badEvent.status).toBe(422);
    const badScheme = await call(url, 'POST', base, { url: 'file:///etc/passwd' });
    expect(badScheme.status).toBe(422);
    expect(badScheme.body.detail[0].loc).toEqual(['body', 'url']);
  });

  it('refuses headers and params no delivery could send, naming the field, and saves nothing', async () => {
    const before = (await call(url, 'GET', base)).body;
    const refused: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ headers: { 'x-team': 'a\r\nX-Injected: 1' } }, 'headers', /not a valid HTTP header value/],
      [{ headers: { 'x team': 'a' } }, 'headers', /not a valid HTTP header name/],
      [{ headers: { 'Content-Length': '5' } }, 'headers', /may not set 'Content-Length'/],
      [{ headers: { 'x-hindsight-signature': 'forged' } }, 'headers', /may not set/],
      [{ headers: { 'x-count': 5 } }, 'headers', /values are strings/],
      [{ params: { page: { n: 1 } } }, 'params', /values are strings/],
    ];
    for (const [http_config, field, message] of refused) {
      for (const [method, path] of [
        ['POST', base],
        ['PATCH', `${base}/00000000-0000-4000-8000-000000000000`],
      ] as const) {
        const response = await call(url, method, path, { url: 'http://127.0.0.1:9/a', http_config });
        expect(response.status).toBe(422);
        expect(response.body.detail).toEqual([
          { loc: ['body', 'http_config', field], msg: expect.stringMatching(message), type: 'value_error' },
        ]);
      }
    }
    expect((await call(url, 'GET', base)).body).toEqual(before);
  });

  it('lists deliveries newest first, paged by cursor, failed ones included', async () => {
    const created = await call(url, 'POST', base, { url: receiver.url, secret: 'route-secret', event_types: ['retain.completed'] });
    const id = created.body.id;
    for (const content of ['One fact.', 'Two facts.', 'Three facts.']) {
      expect((await call(url, 'POST', '/v1/default/banks/route-bank/memories', { items: [{ content }] })).status).toBe(200);
    }
    const all = await eventually(
      () => call(url, 'GET', `${base}/${id}/deliveries`),
      (response) => response.body.items.length === 3 && response.body.items.every((item: { status: string }) => item.status === 'failed'),
      10_000,
    );
    expect(all.body.next_cursor).toBeNull();
    expect(all.body.items[0]).toMatchObject({
      webhook_id: id,
      url: receiver.url,
      event_type: 'retain.completed',
      status: 'failed',
      attempts: 2,
      last_response_status: 503,
    });
    expect(receiver.requests.every((request) => request.verified)).toBe(true);

    const first = await call(url, 'GET', `${base}/${id}/deliveries?limit=2`);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await call(url, 'GET', `${base}/${id}/deliveries?limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    expect([...first.body.items, ...second.body.items].map((item: { id: string }) => item.id)).toEqual(
      all.body.items.map((item: { id: string }) => item.id),
    );
    expect((await call(url, 'GET', `${base}/${id}/deliveries?limit=0`)).status).toBe(422);
  });
});

describe('webhook routes without allowPrivate', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ app, url } = await startApp('webhook-routes-strict', false));
  });

  afterAll(async () => {
    await app?.close();
  });

  it('refuses a loopback URL with a 422 naming url, on create and on update', async () => {
    const refused = await call(url, 'POST', '/v1/default/banks/b/webhooks', { url: 'http://127.0.0.1:8080/hook' });
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toEqual([
      { loc: ['body', 'url'], msg: expect.stringMatching(/loopback, private or link-local/), type: 'value_error' },
    ]);
    const created = await call(url, 'POST', '/v1/default/banks/b/webhooks', { url: 'http://93.184.215.14/hook' });
    expect(created.status).toBe(201);
    const update = await call(url, 'PATCH', `/v1/default/banks/b/webhooks/${created.body.id}`, { url: 'http://[::ffff:127.0.0.1]/hook' });
    expect(update.status).toBe(422);
    expect(update.body.detail[0].loc).toEqual(['body', 'url']);
  });
});

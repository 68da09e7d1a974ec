import { randomUUID } from 'node:crypto';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { eventually } from '../helpers/eventually.js';
import { type HttpApp, call, startHttpApp } from '../http/http-app.js';

/** The routes of this feature set over HTTP, on the standalone server's app (no LLM). */
describe('PATCH memory, reflect and mental-model routes', () => {
  let server: HttpApp;
  const bank = '/v1/default/banks/routes';

  beforeAll(async () => {
    server = await startHttpApp({ DATABASE_URL: `pglite://memory/routes-${randomUUID()}` });
    const retained = await call(server.url, 'POST', `${bank}/memories`, {
      items: [{ content: 'Alice works at Globex.' }, { content: 'Bob bakes bread in Porto.', tags: ['food'] }],
    });
    expect(retained.status).toBe(200);
  });

  afterAll(async () => {
    await server?.close();
  });

  afterEach(() => {
    expect(server.app.get(ExternalCallGuard).violations).toBe(0);
  });

  async function memoryId(text: string): Promise<string> {
    const list = await call(server.url, 'GET', `${bank}/memories/list`);
    return list.body.items.find((item: { text: string }) => item.text === text).id;
  }

  it('edits and invalidates a memory through PATCH', async () => {
    const id = await memoryId('Alice works at Globex.');

    const empty = await call(server.url, 'PATCH', `${bank}/memories/${id}`, {});
    expect(empty.status).toBe(422);
    expect(empty.body.detail[0].msg).toBe('Provide at least one field to update.');
    expect((await call(server.url, 'PATCH', `${bank}/memories/${id}`, { state: 'gone' })).status).toBe(422);
    expect((await call(server.url, 'PATCH', `${bank}/memories/${randomUUID()}`, { text: 'x y' })).status).toBe(404);

    const edited = await call(server.url, 'PATCH', `${bank}/memories/${id}`, { text: 'Alice works at Initech.', context: 'career' });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id, text: 'Alice works at Initech.', context: 'career', type: 'world', state: 'valid' });
    expect(edited.body.entities).toEqual(['Alice', 'Initech']);
    expect(typeof edited.body.edited_at).toBe('string');

    const invalidated = await call(server.url, 'PATCH', `${bank}/memories/${id}`, { state: 'invalidated', reason: 'left' });
    expect(invalidated.body).toMatchObject({ state: 'invalidated', invalidation_reason: 'left' });
    const list = await call(server.url, 'GET', `${bank}/memories/list`);
    expect(list.body.items.map((item: { id: string }) => item.id)).not.toContain(id);
  });

  it('reflects extractively without an LLM', async () => {
    const answer = await call(server.url, 'POST', `${bank}/reflect`, { query: 'Who bakes bread?' });
    expect(answer.status).toBe(200);
    expect(answer.body.extractive).toBe(true);
    expect(answer.body.text).toContain('Bob bakes bread in Porto.');
    expect(answer.body.based_on.memories[0]).toMatchObject({ text: 'Bob bakes bread in Porto.', type: 'world' });
    expect((await call(server.url, 'POST', '/v1/default/banks/nobody/reflect', { query: 'anything' })).status).toBe(404);
    expect((await call(server.url, 'POST', `${bank}/reflect`, { query: 'x', fact_types: [] })).status).toBe(422);
  });

  it('creates, reads, updates, refreshes and deletes a mental model', async () => {
    const created = await call(server.url, 'POST', `${bank}/mental-models`, {
      name: 'Bakers',
      source_query: 'who bakes bread',
      tags: ['food'],
      trigger: { refresh_after_consolidation: true },
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ mental_model_id: 'bakers', operation_id: expect.any(String) });
    const path = `${bank}/mental-models/bakers`;
    const done = await eventually(
      () => call(server.url, 'GET', `${bank}/operations/${created.body.operation_id}`),
      (response) => response.body.status === 'completed',
      10_000,
    );
    expect(done.body.operation_type).toBe('refresh_mental_model');

    const model = await call(server.url, 'GET', path);
    expect(model.body).toMatchObject({
      id: 'bakers',
      bank_id: 'routes',
      name: 'Bakers',
      source_query: 'who bakes bread',
      tags: ['food'],
      max_tokens: 2048,
      trigger: { refresh_after_consolidation: true },
    });
    expect(model.body.content).toContain('Bob bakes bread in Porto.');
    expect(typeof model.body.last_refreshed_at).toBe('string');
    expect((await call(server.url, 'GET', `${path}?detail=metadata`)).body.content).toBeUndefined();

    const list = await call(server.url, 'GET', `${bank}/mental-models?tags=food`);
    expect(list.body.items.map((item: { id: string }) => item.id)).toEqual(['bakers']);
    expect((await call(server.url, 'GET', `${bank}/mental-models?tags=other`)).body.items).toEqual([]);

    const duplicate = await call(server.url, 'POST', `${bank}/mental-models`, { id: 'bakers', name: 'B', source_query: 'q' });
    expect(duplicate.status).toBe(409);
    const badId = await call(server.url, 'POST', `${bank}/mental-models`, { id: 'Not Valid', name: 'B', source_query: 'q' });
    expect(badId.status).toBe(422);
    const both = await call(server.url, 'POST', `${bank}/mental-models`, {
      name: 'B',
      source_query: 'q',
      trigger: { refresh_after_consolidation: true, refresh_cron: '0 * * * *' },
    });
    expect(both.status).toBe(422);

    const patched = await call(server.url, 'PATCH', path, { name: 'Bread people', max_tokens: 512 });
    expect(patched.body).toMatchObject({ name: 'Bread people', max_tokens: 512, source_query: 'who bakes bread' });
    expect((await call(server.url, 'PATCH', path, { max_tokens: 10 })).status).toBe(422);

    const refresh = await call(server.url, 'POST', `${path}/refresh`);
    expect(refresh.body).toEqual({ operation_id: expect.any(String), status: 'queued' });
    await eventually(
      () => call(server.url, 'GET', `${bank}/operations/${refresh.body.operation_id}`),
      (response) => response.body.status === 'completed',
      10_000,
    );

    expect((await call(server.url, 'DELETE', path)).body).toEqual({ status: 'deleted' });
    expect((await call(server.url, 'GET', path)).status).toBe(404);
    expect((await call(server.url, 'DELETE', path)).status).toBe(404);
    expect((await call(server.url, 'POST', `${path}/refresh`)).status).toBe(404);
  });
});

import { eventually } from '../helpers/eventually.js';
import { call, startHttpApp, type HttpApp } from '../http/http-app.js';

/**
 * Tags as a privacy boundary, through the HTTP API as a new user drives it on the embedded
 * default (no LLM, hashing embedder): the reproduction, then scopes that consolidation
 * does build observations for, and moving a document to another scope.
 */
describe('tag scopes over HTTP (PGlite, no LLM)', () => {
  let http: HttpApp;
  const bank = (id: string) => `/v1/default/banks/${id}`;

  beforeAll(async () => {
    http = await startHttpApp({ DATABASE_URL: `pglite://memory/tag-scopes-${process.pid}`, MEMORY_CONSOLIDATION_CRON: 'off' });
  });

  afterAll(async () => {
    await http?.close();
  });

  async function consolidate(bankId: string): Promise<Record<string, number>> {
    const queued = await call(http.url, 'POST', `${bank(bankId)}/consolidate`);
    expect(queued.status).toBe(200);
    const done = await eventually(
      () => call(http.url, 'GET', `${bank(bankId)}/operations/${queued.body.operation_id}`),
      (response) => response.body.status === 'completed' || response.body.status === 'failed',
      20_000,
    );
    expect(done.body.status).toBe('completed');
    return done.body.result_metadata;
  }

  async function recallTexts(
    bankId: string,
    body: Record<string, unknown>,
  ): Promise<Array<{ text: string; type: string; tags: string[] }>> {
    const response = await call(http.url, 'POST', `${bank(bankId)}/memories/recall`, {
      types: ['world', 'experience', 'observation'],
      ...body,
    });
    expect(response.status).toBe(200);
    return response.body.results;
  }

  it("the issue's reproduction: a recall restricted to Ivan never returns Julia's locker code", async () => {
    const retained = await call(http.url, 'POST', `${bank('leak')}/memories`, {
      items: [
        { content: "Julia's locker code is 7731.", tags: ['user:julia'] },
        { content: "Ivan's locker code is 4419.", tags: ['user:ivan'] },
      ],
    });
    expect(retained.status).toBe(200);
    await consolidate('leak');

    for (const tagsMatch of ['any', 'all', 'any_strict', 'all_strict', 'exact']) {
      const results = await recallTexts('leak', { query: 'What is my locker code?', tags: ['user:ivan'], tags_match: tagsMatch });
      expect(results.map((result) => result.text)).toContain("Ivan's locker code is 4419.");
      expect(results.some((result) => result.text.includes('7731'))).toBe(false);
    }
    const observations = await call(http.url, 'GET', `${bank('leak')}/memories/list?type=observation`);
    for (const observation of observations.body.items) expect(observation.tags).toHaveLength(1);
  });

  it('builds one observation per scope, tagged with that scope, and a filtered recall sees only its own', async () => {
    await call(http.url, 'POST', `${bank('lockers')}/memories`, {
      items: [
        { content: "Julia's locker code is 7731.", tags: ['user:julia'] },
        { content: "Julia's locker code is 7731, she said again.", tags: ['user:julia'] },
        { content: "Ivan's locker code is 4419.", tags: ['user:ivan'] },
        { content: "Ivan's locker code is 4419, he said again.", tags: ['user:ivan'] },
      ],
    });
    const result = await consolidate('lockers');
    expect(result.created).toBe(2);

    const observations = (await call(http.url, 'GET', `${bank('lockers')}/memories/list?type=observation`)).body.items;
    expect(observations.map((observation: { tags: string[] }) => observation.tags).sort()).toEqual([['user:ivan'], ['user:julia']]);
    const ivan = await recallTexts('lockers', { query: 'locker code', tags: ['user:ivan'], tags_match: 'all_strict' });
    expect(ivan.filter((result) => result.type === 'observation')).toHaveLength(1);
    expect(ivan.some((result) => result.text.includes('7731'))).toBe(false);
  });

  it("'shared' observations are shown to unfiltered reads, and to filtered reads only where every source is visible", async () => {
    await call(http.url, 'POST', `${bank('shared')}/memories`, {
      items: [
        { content: 'The office wifi password is gopher42.', tags: ['session:1'], observation_scopes: 'shared' },
        { content: 'The office wifi password is gopher42, as noted.', tags: ['session:2'], observation_scopes: 'shared' },
      ],
    });
    expect((await consolidate('shared')).created).toBe(1);
    const [observation] = (await call(http.url, 'GET', `${bank('shared')}/memories/list?type=observation`)).body.items;
    expect(observation.tags).toEqual([]);

    const unfiltered = await recallTexts('shared', { query: 'wifi password' });
    expect(unfiltered.some((result) => result.type === 'observation')).toBe(true);
    const session1 = await recallTexts('shared', { query: 'wifi password', tags: ['session:1'] });
    expect(session1.some((result) => result.type === 'observation')).toBe(false);
    expect(session1.map((result) => result.text)).toEqual(['The office wifi password is gopher42.']);
  });

  it("'per_tag' folds a memory into one observation per tag, exactly once, and a rerun changes nothing", async () => {
    await call(http.url, 'POST', `${bank('per-tag')}/memories`, {
      items: [
        { content: 'Nora Quist runs the Lisbon office.', tags: ['team:ops', 'city:lisbon'], observation_scopes: 'per_tag' },
        { content: 'Nora Quist runs the Lisbon office on weekdays.', tags: ['team:ops'] },
        { content: 'Nora Quist runs the Lisbon office and the Porto one.', tags: ['city:lisbon'] },
      ],
    });
    expect((await consolidate('per-tag')).created).toBe(2);
    const observations = (await call(http.url, 'GET', `${bank('per-tag')}/memories/list?type=observation`)).body.items;
    expect(observations.map((observation: { tags: string[] }) => observation.tags).sort()).toEqual([['city:lisbon'], ['team:ops']]);
    for (const observation of observations) expect(observation.source_memory_ids).toHaveLength(2);
    expect(await consolidate('per-tag')).toMatchObject({ created: 0, updated: 0, memories_consolidated: 0 });
  });

  it('refuses an unknown observation_scopes mode and an explicit scope with a tag the item does not carry, storing nothing', async () => {
    const unknown = await call(http.url, 'POST', `${bank('refused')}/memories`, {
      items: [{ content: 'Kept nowhere.', tags: ['a'], observation_scopes: 'everything' }],
    });
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.body)).toContain('observation_scopes');
    const foreign = await call(http.url, 'POST', `${bank('refused')}/memories`, {
      items: [{ content: 'Kept nowhere.', tags: ['user:julia'], observation_scopes: [['user:ivan']] }],
    });
    expect(foreign.status).toBe(422);
    expect(JSON.stringify(foreign.body)).toContain("'user:ivan'");
    const list = await call(http.url, 'GET', `${bank('refused')}/memories/list`);
    expect(list.status === 404 || list.body.items.length === 0).toBe(true);
  });

  it('moving a document to other tags invalidates the observations of its old scope and rebuilds them under the new one', async () => {
    await call(http.url, 'POST', `${bank('moved')}/memories`, {
      items: [
        { content: 'Project Falcon ships in May.', tags: ['team:a'], document_id: 'falcon' },
        { content: 'Project Falcon ships in May, confirmed.', tags: ['team:a'], document_id: 'falcon' },
      ],
    });
    expect((await consolidate('moved')).created).toBe(1);
    const [before] = (await call(http.url, 'GET', `${bank('moved')}/memories/list?type=observation`)).body.items;
    expect(before.tags).toEqual(['team:a']);

    const patched = await call(http.url, 'PATCH', `${bank('moved')}/documents/falcon`, { tags: ['team:b'] });
    expect(patched).toMatchObject({ status: 200, body: { success: true } });
    expect((await call(http.url, 'GET', `${bank('moved')}/documents/falcon`)).body.tags).toEqual(['team:b']);
    const old = await call(http.url, 'GET', `${bank('moved')}/memories/${before.id}`);
    expect(old.body.state).toBe('invalidated');
    expect(await recallTexts('moved', { query: 'Falcon ships', tags: ['team:a'], tags_match: 'all_strict' })).toEqual([]);

    expect((await consolidate('moved')).created).toBe(1);
    const [after, ...none] = (await call(http.url, 'GET', `${bank('moved')}/memories/list?type=observation`)).body.items;
    expect(none).toEqual([]);
    expect(after.tags).toEqual(['team:b']);
    const teamB = await recallTexts('moved', { query: 'Falcon ships', tags: ['team:b'], tags_match: 'all_strict' });
    expect(teamB.map((result) => result.type)).toContain('observation');

    expect((await call(http.url, 'PATCH', `${bank('moved')}/documents/nothing-here`, { tags: ['x'] })).status).toBe(404);

    // Deleting the sources takes what was derived from them along.
    expect((await call(http.url, 'DELETE', `${bank('moved')}/documents/falcon`)).status).toBe(200);
    expect((await call(http.url, 'GET', `${bank('moved')}/memories/${after.id}`)).body.state).toBe('invalidated');
    expect(await recallTexts('moved', { query: 'Falcon ships' })).toEqual([]);
  });
});

import { randomUUID } from 'node:crypto';
import { HindsightClient, HindsightError, createClient, createConfig, sdk } from '@vectorize-io/hindsight-client';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { eventually } from '../helpers/eventually.js';
import { type ChatRequestBody, FakeOpenAiServer } from '../helpers/fake-openai-server.js';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { type HttpApp, call, startHttpApp } from './http-app.js';

type RawClient = ReturnType<typeof createClient>;

interface Backend {
  name: string;
  databaseUrl(): Promise<{ url: string; drop(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  { name: 'PGlite', databaseUrl: async () => ({ url: `pglite://memory/parity-directives-${randomUUID()}`, drop: async () => undefined }) },
  {
    name: 'PostgreSQL',
    databaseUrl: async () => {
      const database = await createTestDatabase('parity_directives');
      return { url: database.url, drop: () => dropTestDatabase(database.name) };
    },
  },
];

const SUMMARY = 'Alice works at Globex.\nShe is an engineer.';

/** What the fake LLM answers, told apart by the system prompt of each feature. */
interface Script {
  reflect: (body: ChatRequestBody) => object;
  summary: string;
}

function systemOf(body: ChatRequestBody): string {
  return String(body.messages.find((message) => message.role === 'system')?.content ?? '');
}

function userOf(body: ChatRequestBody): string {
  return String(body.messages.find((message) => message.role === 'user')?.content ?? '');
}

function chatHandler(script: Script) {
  return (body: ChatRequestBody) => {
    const system = systemOf(body);
    if (system.includes('extract durable facts')) {
      const content = userOf(body).split('Content:\n')[1] ?? '';
      return { facts: [{ text: content.trim(), fact_type: 'world', entities: [] }] };
    }
    if (system.includes('mental model')) return { content: script.summary };
    if (system.includes('You answer questions')) return script.reflect(body);
    return {};
  };
}

async function status(promise: Promise<unknown>): Promise<number | undefined> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return error instanceof HindsightError ? error.statusCode : -1;
}

/**
 * Directives, reflect's options (structured output, usage, trace) and the mental-model operations
 * (history, dry run, clear, is_stale, trigger fields), driven through Hindsight's own client
 * (0.9.1) against the server in process with a fake OpenAI-compatible LLM, on both back ends.
 * A directive's effect is checked where it lands: in the prompt the LLM received.
 */
describe.each(BACKENDS)('directives, reflect options and mental-model operations on $name', (backend) => {
  let fake: FakeOpenAiServer;
  let http: HttpApp;
  let drop: () => Promise<void>;
  let client: HindsightClient;
  let raw: RawClient;
  const script: Script = { reflect: () => ({ answer: 'Alice is an engineer.', memory_ids: [] }), summary: SUMMARY };

  beforeAll(async () => {
    fake = await FakeOpenAiServer.start();
    fake.onChat(chatHandler(script));
    const target = await backend.databaseUrl();
    drop = target.drop;
    http = await startHttpApp({
      DATABASE_URL: target.url,
      MEMORY_LLM: 'openai',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test',
      MEMORY_OPERATIONS_POLL_MS: '50',
    });
    client = new HindsightClient({ baseUrl: http.url });
    raw = createClient(createConfig({ baseUrl: http.url }));
  });

  afterAll(async () => {
    await http?.close();
    await drop?.();
    await fake?.close();
  });

  afterEach(() => {
    expect(http.app.get(ExternalCallGuard).violations).toBe(0);
  });

  async function bank(): Promise<string> {
    const bankId = `bank-${randomUUID().slice(0, 8)}`;
    await client.createBank(bankId, { name: bankId });
    // No consolidation: its LLM calls are not what these tests count.
    await client.updateBankConfig(bankId, { enableObservations: false });
    return bankId;
  }

  const reflectPrompts = () =>
    fake.received('chat').filter((request) => systemOf(request.body as ChatRequestBody).includes('You answer questions'));
  const modelPrompts = () => fake.received('chat').filter((request) => systemOf(request.body as ChatRequestBody).includes('mental model'));

  it('creates, reads, lists, updates and deletes directives; refuses bad input and changes nothing', async () => {
    const bankId = await bank();
    const global = await client.createDirective(bankId, 'Language', 'Always answer in French.', { priority: 5 });
    expect(global).toMatchObject({
      bank_id: bankId,
      name: 'Language',
      content: 'Always answer in French.',
      priority: 5,
      is_active: true,
      tags: [],
    });
    const scoped = await client.createDirective(bankId, 'Team', 'Mention the team.', { tags: ['team-a'] });
    const paused = await client.createDirective(bankId, 'Paused', 'Never used.', { isActive: false });

    expect(await client.getDirective(bankId, global.id)).toEqual(global);
    expect((await client.listDirectives(bankId)).items.map((item) => item.name)).toEqual(['Language', 'Team']);
    expect((await client.listDirectives(bankId, { tags: ['team-b'] })).items.map((item) => item.name)).toEqual(['Language']);
    const all = await sdk.listDirectives({ client: raw, path: { bank_id: bankId }, query: { active_only: false } });
    expect(all.data!.items.map((item) => item.name)).toEqual(['Language', 'Team', 'Paused']);

    const updated = await client.updateDirective(bankId, scoped.id, { content: 'Mention team A.', priority: 9 });
    expect(updated).toMatchObject({ content: 'Mention team A.', priority: 9, tags: ['team-a'], name: 'Team' });

    const before = await sdk.listDirectives({ client: raw, path: { bank_id: bankId }, query: { active_only: false } });
    const refused = [
      await call(http.url, 'POST', `/v1/default/banks/${bankId}/directives`, { name: '  ', content: 'x' }),
      await call(http.url, 'POST', `/v1/default/banks/${bankId}/directives`, { name: 'n' }),
      await call(http.url, 'POST', `/v1/default/banks/${bankId}/directives`, { name: 'n', content: 'c', priority: 'high' }),
      await call(http.url, 'POST', `/v1/default/banks/${bankId}/directives`, { name: 'n', content: 'c', priority: 2 ** 40 }),
      await call(http.url, 'PATCH', `/v1/default/banks/${bankId}/directives/${global.id}`, { is_active: 'yes' }),
      await call(http.url, 'GET', `/v1/default/banks/${bankId}/directives?limit=0`),
    ];
    for (const response of refused) {
      expect(response.status).toBe(422);
      expect(JSON.stringify(response.body.detail)).toMatch(/name|content|priority|is_active|limit/);
    }
    expect(refused[0].body.detail[0].loc).toEqual(['body', 'name']);
    expect(refused[2].body.detail[0].loc).toEqual(['body', 'priority']);
    expect(await status(client.getDirective(bankId, 'not-a-uuid'))).toBe(404);
    expect(await status(client.updateDirective(bankId, randomUUID(), { content: 'x' }))).toBe(404);
    expect(await client.listDirectives('no-such-bank')).toMatchObject({ items: [] });
    expect(await sdk.listDirectives({ client: raw, path: { bank_id: bankId }, query: { active_only: false } })).toMatchObject({
      data: before.data,
    });

    await client.deleteDirective(bankId, paused.id);
    expect(await status(client.getDirective(bankId, paused.id))).toBe(404);
    const again = await sdk.deleteDirective({ client: raw, path: { bank_id: bankId, directive_id: paused.id } });
    expect(again.response.status).toBe(404);
  });

  it('puts the active directives of the request’s scope into the reflect prompt, highest priority first', async () => {
    const bankId = await bank();
    await client.retain(bankId, 'Alice works at Globex as an engineer.', { tags: ['team-a'] });
    const global = await client.createDirective(bankId, 'Language', 'Always answer in French.', { priority: 1 });
    const scoped = await client.createDirective(bankId, 'Team', 'Mention team A by name.', { tags: ['team-a'], priority: 2 });
    await client.createDirective(bankId, 'Paused', 'Speak like a pirate.', { isActive: false });
    fake.reset();
    fake.onChat(chatHandler(script));

    const untagged = await client.reflect(bankId, 'Where does Alice work?', { includeFacts: true });
    const tagged = await client.reflect(bankId, 'Where does Alice work?', { tags: ['team-a'] });
    const everything = await sdk.reflect({
      client: raw,
      path: { bank_id: bankId },
      body: { query: 'Where does Alice work?', apply_all_directives: true },
    });

    const [first, second, third] = reflectPrompts().map((request) => systemOf(request.body as ChatRequestBody));
    expect(first).toContain('Always answer in French.');
    expect(first).not.toContain('Mention team A');
    expect(first).not.toContain('pirate');
    expect(second.indexOf('Mention team A by name.')).toBeGreaterThan(-1);
    expect(second.indexOf('Mention team A by name.')).toBeLessThan(second.indexOf('Always answer in French.'));
    expect(third).toContain('Mention team A by name.');
    expect(untagged.based_on?.directives).toEqual([{ id: global.id, name: 'Language', content: 'Always answer in French.' }]);
    expect(tagged.based_on?.directives?.map((directive) => directive.id)).toEqual([scoped.id, global.id]);
    expect(everything.data!.based_on?.directives).toHaveLength(2);
  });

  it('answers response_schema with a validated structured_output, token usage and a trace', async () => {
    const bankId = await bank();
    await client.retain(bankId, 'Alice works at Globex as an engineer.');
    const [memory] = (await client.recall(bankId, 'Alice')).results;
    const schema = {
      type: 'object',
      properties: { employer: { type: 'string' }, years: { type: 'integer' } },
      required: ['employer'],
      additionalProperties: false,
    };
    script.reflect = () => ({ answer: 'Alice works at Globex.', memory_ids: [memory.id], structured_output: { employer: 'Globex' } });

    const answer = await client.reflect(bankId, 'Where does Alice work?', { responseSchema: schema, includeToolCalls: true });

    expect(answer.structured_output).toEqual({ employer: 'Globex' });
    expect(systemOf(reflectPrompts().at(-1)!.body as ChatRequestBody)).toContain('"employer"');
    const usage = answer.usage!;
    expect(usage.input_tokens).toBeGreaterThan(0);
    expect(usage.output_tokens).toBeGreaterThan(0);
    expect(usage.total_tokens).toBe(usage.input_tokens! + usage.output_tokens!);
    expect(answer.trace?.tool_calls?.[0]).toMatchObject({
      tool: 'recall',
      input: { query: 'Where does Alice work?' },
      duration_ms: expect.any(Number),
    });
    expect(answer.trace?.tool_calls?.[0].output).toMatchObject({ memories: [{ id: memory.id }] });
    expect(answer.trace?.llm_calls).toEqual([{ scope: 'final', duration_ms: expect.any(Number) }]);
    const plain = await client.reflect(bankId, 'Where does Alice work?');
    expect(plain.trace).toBeUndefined();
    expect(plain.structured_output).toBeUndefined();

    // An answer that does not fit the schema is an error, never a 200 without it.
    script.reflect = () => ({ answer: 'Alice works at Globex.', memory_ids: [], structured_output: { employer: 42 } });
    const mismatch = await sdk.reflect({ client: raw, path: { bank_id: bankId }, body: { query: 'Where?', response_schema: schema } });
    expect(mismatch.response.status).toBe(502);
    expect(JSON.stringify(mismatch.error)).toContain('response_schema');

    const calls = fake.received('chat').length;
    const invalidSchema = await sdk.reflect({
      client: raw,
      path: { bank_id: bankId },
      body: { query: 'Where?', response_schema: { type: 'no-such-type' } },
    });
    expect(invalidSchema.response.status).toBe(422);
    expect(JSON.stringify(invalidSchema.error)).toContain('response_schema');
    const notObject = await call(http.url, 'POST', `/v1/default/banks/${bankId}/reflect`, { query: 'Where?', response_schema: 'json' });
    expect(notObject.status).toBe(422);
    expect(notObject.body.detail[0].loc).toEqual(['body', 'response_schema']);
    expect(fake.received('chat')).toHaveLength(calls);
    script.reflect = () => ({ answer: 'Alice is an engineer.', memory_ids: [] });
  });

  it('builds mental models with their scope’s directives, keeps a history, dry-runs, clears and tells staleness', async () => {
    const bankId = await bank();
    await client.retain(bankId, 'Alice works at Globex as an engineer.', { tags: ['team-a'] });
    await client.createDirective(bankId, 'Language', 'Write in plain English.');
    await client.createDirective(bankId, 'Team', 'Credit team A.', { tags: ['team-a'] });
    await client.createDirective(bankId, 'Other', 'Credit team B.', { tags: ['team-b'] });
    fake.reset();
    fake.onChat(chatHandler(script));

    const created = await sdk.createMentalModel({
      client: raw,
      path: { bank_id: bankId },
      body: { id: 'alice', name: 'Alice', source_query: 'What does Alice do?', tags: ['team-a'], trigger: { recall_max_tokens: 2000 } },
    });
    expect(created.response.status).toBe(200);
    const refreshed = await eventually(
      () => client.getMentalModel(bankId, 'alice'),
      (model) => model.content === SUMMARY,
    );
    const [prompt] = modelPrompts().map((request) => systemOf(request.body as ChatRequestBody));
    expect(prompt).toContain('Write in plain English.');
    expect(prompt).toContain('Credit team A.');
    expect(prompt).not.toContain('Credit team B.');
    expect(refreshed.is_stale).toBe(false);
    expect(refreshed.trigger).toMatchObject({ mode: 'full', recall_max_tokens: 2000 });

    const history = (await client.getMentalModelHistory(bankId, 'alice')) as Array<Record<string, unknown>>;
    expect(history).toEqual([
      { previous_content: 'Generating content...', new_content: SUMMARY, reason: 'refresh', changed_at: expect.any(String) },
    ]);

    // A dry run reports what a refresh would write, and writes nothing.
    script.summary = 'Alice works at Globex.\nShe leads the platform team.';
    const dryRun = await client.dryRunRefreshMentalModel(bankId, 'alice');
    expect(dryRun).toMatchObject({
      mental_model_id: 'alice',
      requested_mode: 'full',
      effective_mode: 'full',
      outcome: 'content_written',
      would_persist: true,
      current_content: SUMMARY,
      candidate_content: script.summary,
      preview_content: script.summary,
      scope: { tags: ['team-a'], tags_match: 'all_strict' },
      facts: { retrieved: { world: 1 }, used: { world: 1 } },
    });
    expect(dryRun.diff).toContain('-She is an engineer.');
    expect(dryRun.diff).toContain('+She leads the platform team.');
    expect(dryRun.based_on?.world?.[0]).toMatchObject({ text: 'Alice works at Globex as an engineer.' });
    expect(dryRun.usage?.total_tokens).toBeGreaterThan(0);
    expect(dryRun.trace.llm_calls).toHaveLength(1);
    expect((await client.getMentalModel(bankId, 'alice')).content).toBe(SUMMARY);
    expect(await client.getMentalModelHistory(bankId, 'alice')).toHaveLength(1);

    // A memory of the model's scope written after its refresh makes it stale; one of another scope does not.
    await client.retain(bankId, 'Bob joined team B.', { tags: ['team-b'] });
    expect((await client.getMentalModel(bankId, 'alice')).is_stale).toBe(false);
    await client.retain(bankId, 'Alice moved to the platform team.', { tags: ['team-a'] });
    expect((await client.getMentalModel(bankId, 'alice')).is_stale).toBe(true);
    expect((await client.listMentalModels(bankId)).items[0].is_stale).toBeUndefined();

    const cleared = await client.clearMentalModel(bankId, 'alice');
    expect(cleared.content).toBeUndefined();
    expect(cleared.last_refreshed_at).toBeUndefined();
    const afterClear = (await client.getMentalModelHistory(bankId, 'alice')) as Array<Record<string, unknown>>;
    expect(afterClear[0]).toMatchObject({ previous_content: SUMMARY, new_content: null, reason: 'clear' });
    script.summary = SUMMARY;

    expect(await status(client.clearMentalModel(bankId, 'nobody'))).toBe(404);
    expect(await status(client.getMentalModelHistory(bankId, 'nobody'))).toBe(404);
    expect(await status(client.dryRunRefreshMentalModel(bankId, 'nobody'))).toBe(404);
  });

  it('honours tag_groups in reflect and in a mental model’s trigger, with directives scoped by tags', async () => {
    const bankId = await bank();
    await client.retain(bankId, 'Alice works at Globex as an engineer.', { tags: ['team-a'] });
    await client.retain(bankId, 'Bob works at Initech as a designer.', { tags: ['team-b'] });
    await client.createDirective(bankId, 'Team', 'Credit team A.', { tags: ['team-a'] });
    fake.reset();
    fake.onChat(chatHandler(script));
    const onlyB = [{ tags: ['team-b'], match: 'any_strict' as const }];

    const answer = await client.reflect(bankId, 'Where do they work?', { tagGroups: onlyB, includeToolCalls: true });
    const reflectUser = userOf(reflectPrompts().at(-1)!.body as ChatRequestBody);
    expect(reflectUser).toContain('Initech');
    expect(reflectUser).not.toContain('Globex');
    expect(answer.based_on?.directives).toEqual([]);
    expect(answer.trace?.tool_calls?.[0].input).toMatchObject({ tag_groups: onlyB });
    const badGroups = await call(http.url, 'POST', `/v1/default/banks/${bankId}/reflect`, { query: 'Where?', tag_groups: [{ tags: 'x' }] });
    expect(badGroups.status).toBe(422);
    expect(JSON.stringify(badGroups.body)).toContain('tag_groups');

    await sdk.createMentalModel({
      client: raw,
      path: { bank_id: bankId },
      body: { id: 'grouped', name: 'Grouped', source_query: 'Where do they work?', tags: ['team-a'], trigger: { tag_groups: onlyB } },
    });
    const model = await eventually(
      () => client.getMentalModel(bankId, 'grouped'),
      (current) => current.content === SUMMARY,
    );
    const prompt = modelPrompts().at(-1)!.body as ChatRequestBody;
    expect(userOf(prompt)).toContain('Initech');
    expect(userOf(prompt)).not.toContain('Globex');
    expect(systemOf(prompt)).toContain('Credit team A.');
    expect(model.trigger?.tag_groups).toEqual(onlyB);
    expect(model.is_stale).toBe(false);
    await client.retain(bankId, 'Alice moved to Lisbon.', { tags: ['team-a'] });
    expect((await client.getMentalModel(bankId, 'grouped')).is_stale).toBe(false);
    await client.retain(bankId, 'Bob moved to Porto.', { tags: ['team-b'] });
    expect((await client.getMentalModel(bankId, 'grouped')).is_stale).toBe(true);
    const dryRun = await client.dryRunRefreshMentalModel(bankId, 'grouped');
    expect(dryRun.scope).toMatchObject({ tags: null, tag_groups: onlyB });
  });

  it('refuses trigger fields it cannot honour, naming them, and creates nothing', async () => {
    const bankId = await bank();
    const refusals: Array<[Record<string, unknown>, string]> = [
      [{ mode: 'delta' }, 'mode'],
      [{ keep_trace: true }, 'keep_trace'],
      [{ include_chunks: true }, 'include_chunks'],
      [{ recall_chunks_max_tokens: 500 }, 'recall_chunks_max_tokens'],
      [{ response_schema: { type: 'object' } }, 'response_schema'],
      [{ tag_groups: [{ tags: 'a' }] }, 'tag_groups'],
      [{ recall_max_tokens: 0 }, 'recall_max_tokens'],
    ];
    for (const [trigger, field] of refusals) {
      const response = await call(http.url, 'POST', `/v1/default/banks/${bankId}/mental-models`, {
        name: 'Refused',
        source_query: 'What?',
        trigger,
      });
      expect(response.status).toBe(422);
      expect(response.body.detail[0].loc).toEqual(['body', 'trigger', field]);
    }
    const accepted = await call(http.url, 'POST', `/v1/default/banks/${bankId}/mental-models`, {
      id: 'kept',
      name: 'Kept',
      source_query: 'What?',
      trigger: {
        mode: 'full',
        keep_trace: false,
        include_chunks: false,
        exclude_mental_models: true,
        exclude_mental_model_ids: ['x'],
        tag_groups: [],
      },
    });
    expect(accepted.status).toBe(200);
    const patch = await call(http.url, 'PATCH', `/v1/default/banks/${bankId}/mental-models/kept`, { trigger: { mode: 'delta' } });
    expect(patch.status).toBe(422);
    const models = await client.listMentalModels(bankId);
    expect(models.items.map((model) => model.id)).toEqual(['kept']);
    expect(models.items[0].trigger).toMatchObject({ mode: 'full', exclude_mental_models: true, exclude_mental_model_ids: ['x'] });
  });

  describe('bank templates', () => {
    async function exportOf(bankId: string) {
      const { data, response } = await sdk.exportBankTemplate({ client: raw, path: { bank_id: bankId } });
      expect(response.status).toBe(200);
      return data!;
    }

    // The client declares no body for import (Hindsight reads the raw JSON), so the manifest goes in untyped.
    const importInto = (bankId: string, manifest: unknown, dryRun?: boolean) =>
      sdk.importBankTemplate({
        client: raw,
        path: { bank_id: bankId },
        query: dryRun ? { dry_run: true } : undefined,
        body: manifest as never,
      });

    const locs = (error: unknown) => (error as { detail: Array<{ loc: unknown[] }> }).detail.map((issue) => issue.loc);

    async function settled(bankId: string, operationIds: string[]) {
      for (const operationId of operationIds) {
        await eventually(
          () => sdk.getOperationStatus({ client: raw, path: { bank_id: bankId, operation_id: operationId } }),
          (status) => status.data?.status === 'completed',
        );
      }
    }

    it('exports a configured bank, imports it into a new one that exports the same, re-imports as updates; the schema validates it', async () => {
      const source = await bank();
      await client.updateBankConfig(source, { reflectMission: 'Help the support team.', dispositionEmpathy: 5 });
      await client.createDirective(source, 'Language', 'Always answer in French.', { priority: 5, tags: ['team-a'] });
      await client.createDirective(source, 'Paused', 'Never used.', { isActive: false });
      const created = await sdk.createMentalModel({
        client: raw,
        path: { bank_id: source },
        body: {
          id: 'alice',
          name: 'Alice',
          source_query: 'What does Alice do?',
          tags: ['team-a'],
          max_tokens: 1024,
          trigger: { refresh_after_consolidation: true, fact_types: ['world'] },
        },
      });
      await settled(source, [created.data!.operation_id]);

      const manifest = await exportOf(source);
      expect(manifest).toEqual({
        version: '1',
        bank: { reflect_mission: 'Help the support team.', enable_observations: false, disposition_empathy: 5 },
        mental_models: [
          {
            id: 'alice',
            name: 'Alice',
            source_query: 'What does Alice do?',
            tags: ['team-a'],
            max_tokens: 1024,
            trigger: {
              mode: 'full',
              refresh_after_consolidation: true,
              fact_types: ['world'],
              exclude_mental_models: false,
              keep_trace: false,
            },
          },
        ],
        directives: [
          { name: 'Language', content: 'Always answer in French.', priority: 5, is_active: true, tags: ['team-a'] },
          { name: 'Paused', content: 'Never used.', priority: 0, is_active: false, tags: [] },
        ],
      });
      const schema = (await sdk.getBankTemplateSchema({ client: raw })).data as Record<string, unknown>;
      const validate = new Ajv2020({ strict: false }).compile(schema);
      expect(validate(manifest)).toBe(true);
      expect(validate({ ...manifest, version: '2' })).toBe(false);
      expect(validate({ version: '1', mental_models: [{ id: 'Not An Id', name: 'x', source_query: 'y' }] })).toBe(false);

      const target = `bank-${randomUUID().slice(0, 8)}`;
      const first = await importInto(target, manifest);
      expect(first.response.status).toBe(200);
      expect(first.data).toEqual({
        bank_id: target,
        config_applied: true,
        mental_models_created: ['alice'],
        mental_models_updated: [],
        directives_created: ['Language', 'Paused'],
        directives_updated: [],
        operation_ids: [expect.any(String)],
        dry_run: false,
      });
      expect(await exportOf(target)).toEqual(manifest);
      await settled(target, first.data!.operation_ids!);
      expect((await client.getMentalModel(target, 'alice')).content).toBe(SUMMARY);

      const again = await importInto(target, manifest);
      expect(again.data).toMatchObject({
        mental_models_created: [],
        mental_models_updated: ['alice'],
        directives_created: [],
        directives_updated: ['Language', 'Paused'],
      });
      expect(await exportOf(target)).toEqual(manifest);
      const directives = await sdk.listDirectives({ client: raw, path: { bank_id: target }, query: { active_only: false } });
      expect(directives.data!.items).toHaveLength(2);
      expect((await client.listMentalModels(target)).items).toHaveLength(1);
      await settled(target, again.data!.operation_ids!);
    });

    it('dry_run reports what would be created and updated and writes nothing', async () => {
      const target = await bank();
      await client.createDirective(target, 'Language', 'Keep me.');
      const before = await exportOf(target);
      const manifest = {
        version: '1',
        bank: { retain_mission: 'Only facts.' },
        mental_models: [{ id: 'team', name: 'Team', source_query: 'Who is on the team?' }],
        directives: [
          { name: 'Language', content: 'Changed.' },
          { name: 'Tone', content: 'Be brief.' },
        ],
      };

      const dry = await importInto(target, manifest, true);
      expect(dry.data).toEqual({
        bank_id: target,
        config_applied: true,
        mental_models_created: ['team'],
        mental_models_updated: [],
        directives_created: ['Tone'],
        directives_updated: ['Language'],
        operation_ids: [],
        dry_run: true,
      });
      expect(await exportOf(target)).toEqual(before);
      const missing = `bank-${randomUUID().slice(0, 8)}`;
      expect((await importInto(missing, manifest, true)).data).toMatchObject({ directives_created: ['Language', 'Tone'], dry_run: true });
      expect((await sdk.exportBankTemplate({ client: raw, path: { bank_id: missing } })).response.status).toBe(404);
    });

    it('refuses a manifest with one bad item among good ones with a 422 naming the field, and writes none of it', async () => {
      const target = await bank();
      await client.createDirective(target, 'Language', 'Keep me.');
      const before = await exportOf(target);
      const good = {
        version: '1',
        bank: { retain_mission: 'Only facts.' },
        mental_models: [{ id: 'good', name: 'Good', source_query: 'What?' }],
        directives: [
          { name: 'Language', content: 'Changed.' },
          { name: 'Tone', content: 'Be brief.' },
        ],
      };
      const withModel = (model: object) => ({
        ...good,
        mental_models: [...good.mental_models, { name: 'Bad', source_query: 'What?', ...model }],
      });
      const withDirective = (directive: object) => ({ ...good, directives: [...good.directives, directive] });
      const cases: Array<[unknown, unknown[]]> = [
        [withModel({ id: 'Not An Id' }), ['body', 'mental_models', 1, 'id']],
        [withModel({ id: 'good' }), ['body', 'mental_models', 1, 'id']],
        [withModel({ id: 'small', max_tokens: 100 }), ['body', 'mental_models', 1, 'max_tokens']],
        [withModel({ id: 'cron', trigger: { refresh_cron: 'not a cron' } }), ['body', 'mental_models', 1, 'trigger', 'refresh_cron']],
        [withModel({ id: 'delta', trigger: { mode: 'delta' } }), ['body', 'mental_models', 1, 'trigger', 'mode']],
        [withDirective({ name: 'Tone', content: 'Again.' }), ['body', 'directives', 2, 'name']],
        [withDirective({ name: 'Blank', content: '  ' }), ['body', 'directives', 2, 'content']],
        [{ ...good, bank: { retain_mission: 'x', disposition_empathy: 9 } }, ['body', 'bank', 'disposition_empathy']],
        [{ ...good, bank: { entity_labels: [{ name: 'x' }] } }, ['body', 'bank', 'entity_labels']],
        [{ ...good, version: '2' }, ['body', 'version']],
      ];
      for (const [manifest, loc] of cases) {
        const refused = await importInto(target, manifest);
        expect(refused.response.status).toBe(422);
        expect(locs(refused.error)).toContainEqual(loc);
      }
      expect((await call(http.url, 'POST', `/v1/default/banks/${target}/import`, [good])).status).toBe(422);
      expect(await exportOf(target)).toEqual(before);

      const missing = `bank-${randomUUID().slice(0, 8)}`;
      expect((await importInto(missing, cases[0][0])).response.status).toBe(422);
      expect((await sdk.exportBankTemplate({ client: raw, path: { bank_id: missing } })).response.status).toBe(404);
    });
  });
});

describe('reflect options without an LLM', () => {
  let http: HttpApp;
  let client: HindsightClient;

  beforeAll(async () => {
    http = await startHttpApp({ DATABASE_URL: `pglite://memory/parity-directives-nollm-${randomUUID()}` });
    client = new HindsightClient({ baseUrl: http.url });
  });

  afterAll(async () => {
    await http?.close();
  });

  it('refuses response_schema with a 4xx naming it, and answers extractively with zero usage otherwise', async () => {
    await client.retain('plain', 'Alice works at Globex as an engineer.');
    await client.createDirective('plain', 'Language', 'Always answer in French.');
    const refused = await call(http.url, 'POST', '/v1/default/banks/plain/reflect', {
      query: 'Where does Alice work?',
      response_schema: { type: 'object' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.detail[0]).toMatchObject({ loc: ['body', 'response_schema'], msg: expect.stringContaining('LLM') });

    const answer = await client.reflect('plain', 'Where does Alice work?', { includeToolCalls: true, includeToolCallOutput: false });
    expect(answer).toMatchObject({ extractive: true, usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 } });
    expect(answer.based_on?.directives).toEqual([]);
    expect(answer.trace?.tool_calls?.[0]).toMatchObject({ tool: 'recall' });
    expect(answer.trace?.tool_calls?.[0].output).toBeUndefined();
    expect(answer.trace?.llm_calls).toEqual([]);
  });
});

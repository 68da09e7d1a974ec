import { createClient, createConfig, sdk } from '@vectorize-io/hindsight-client';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, dropTestDatabase } from '../helpers/postgres.js';
import { startHttpApp, type HttpApp } from './http-app.js';

/**
 * The server's own OpenAPI document (`/docs-json`) against Hindsight's published one (0.9.1,
 * kept in test/fixtures so the comparison does not depend on anything outside the repository):
 * every success answer is described, what Hindsight promises a client in a response is promised
 * here too with the same JSON type (an integer stays an integer), and the key is declared where
 * the server asks for it. Generated clients and the Hindsight SDK are built from these documents,
 * so a drift here is a drift in what clients believe they receive.
 */

interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
}

interface MediaType {
  schema?: Schema;
}

interface Operation {
  operationId?: string;
  parameters?: { in: string; name: string }[];
  responses?: Record<string, { content?: Record<string, MediaType> }>;
  security?: Record<string, string[]>[];
}

interface Document {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema>; securitySchemes?: Record<string, { type: string; scheme?: string }> };
}

/** Routes this server answers differently on purpose, each with the status it documents instead. */
const DELIBERATELY_DIFFERENT: Record<string, string> = {
  // Hindsight 0.9.1 itself answers 410 (mental models replaced entity observations), although its
  // document still describes the old 200.
  regenerate_entity_observations: '410',
  // The synchronous export: removed in Hindsight 0.9.1 too, which answers 410 and documents a 200.
  export_documents_sync_removed: '410',
};

/**
 * Response fields typed wider than Hindsight's on purpose, by the end of their path: webhook
 * timeouts accept fractions of a second (README, webhooks), so they are answered as numbers.
 */
const DELIBERATELY_WIDER = ['.http_config.timeout_seconds'];

const API_KEY = 'openapi-contract-key';

const hindsight = JSON.parse(readFileSync(join(process.cwd(), 'test/fixtures/hindsight-openapi-0.9.1.json'), 'utf8')) as Document;

/**
 * Both back ends: the document is the same, but what the routes answer is not necessarily (a
 * PostgreSQL count arrives as a string unless the mapper converts it), and the answers are checked
 * against the document.
 */
describe.each([
  ['PGlite', 'pglite'],
  ['PostgreSQL', 'postgres'],
] as const)('OpenAPI document against Hindsight 0.9.1 (%s)', (_name, backend) => {
  let http: HttpApp;
  let ours: Document;
  let database: { name: string; url: string } | undefined;

  beforeAll(async () => {
    if (backend === 'postgres') database = await createTestDatabase('openapi_contract');
    http = await startHttpApp({
      DATABASE_URL: database?.url ?? `pglite://memory/openapi-contract-${process.pid}`,
      MEMORY_API_KEY: API_KEY,
      MEMORY_WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    const response = await fetch(`${http.url}/docs-json`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(response.status).toBe(200);
    ours = (await response.json()) as Document;
  });

  afterAll(async () => {
    await http?.close();
    if (database) await dropTestDatabase(database.name);
  });

  it('describes the body of every success answer', () => {
    const undescribed: string[] = [];
    for (const { id, operation } of operations(ours)) {
      const successes = Object.entries(operation.responses ?? {}).filter(([status]) => status.startsWith('2'));
      if (successes.length === 0 && !DELIBERATELY_DIFFERENT[id]) undescribed.push(`${id}: no 2xx response`);
      for (const [status, response] of successes) {
        const described = Object.values(response.content ?? {}).some((media) => media.schema && Object.keys(media.schema).length > 0);
        if (!described) undescribed.push(`${id} ${status}`);
      }
    }
    expect(undescribed).toEqual([]);
  });

  it('documents the error body of the routes that deliberately answer otherwise', () => {
    for (const [id, status] of Object.entries(DELIBERATELY_DIFFERENT)) {
      const operation = operations(ours).find((entry) => entry.id === id)?.operation;
      const schema = operation?.responses?.[status]?.content?.['application/json']?.schema;
      expect({ id, detail: schema && kindOf(ours, schema, new Set()).properties?.detail !== undefined }).toEqual({ id, detail: true });
    }
  });

  it("promises every response field Hindsight requires, with Hindsight's JSON types", () => {
    const theirs = new Map(operations(hindsight).map((entry) => [entry.id, entry.operation]));
    const problems: string[] = [];
    let compared = 0;
    for (const { id, operation } of operations(ours)) {
      const reference = theirs.get(id);
      if (!reference || DELIBERATELY_DIFFERENT[id]) continue;
      for (const [status, response] of Object.entries(reference.responses ?? {})) {
        if (!status.startsWith('2')) continue;
        const expected = response.content?.['application/json']?.schema;
        if (!expected || Object.keys(expected).length === 0) continue;
        const actual = operation.responses?.[status]?.content?.['application/json']?.schema;
        if (!actual) {
          problems.push(`${id}: Hindsight answers ${status} with JSON, this server documents no JSON ${status}`);
          continue;
        }
        compared++;
        compare(ours, expected, actual, id, problems, new Set());
      }
    }
    expect(problems).toEqual([]);
    // The walk must have had something to walk: a renamed operationId would otherwise pass silently.
    expect(compared).toBeGreaterThan(50);
  });

  it('answers what it documents, through the Hindsight client', async () => {
    const client = createClient(createConfig({ baseUrl: http.url, headers: { authorization: `Bearer ${API_KEY}` } }));
    const answers: Answer[] = [];
    const answer = async <T extends { response: Response; data?: unknown; error?: unknown }>(id: string, call: Promise<T>) => {
      const result = await call;
      answers.push({ id, status: result.response.status, body: result.data ?? result.error });
      return result;
    };
    const bank = { path: { bank_id: 'contract' }, client };

    await answer('get_version', sdk.getVersion({ client }));
    await answer('health_endpoint_health_get', sdk.healthEndpointHealthGet({ client }));
    await answer('get_readiness', sdk.getReadiness({ client }));
    await answer('create_or_update_bank', sdk.createOrUpdateBank({ ...bank, body: { name: 'Contract', mission: 'Remember' } }));
    await answer('update_bank', sdk.updateBank({ ...bank, body: { disposition_empathy: 4 } }));
    await answer(
      'update_bank_disposition',
      sdk.updateBankDisposition({ ...bank, body: { disposition: { skepticism: 2, literalism: 3, empathy: 4 } } }),
    );
    await answer('update_bank_config', sdk.updateBankConfig({ ...bank, body: { updates: { retain_chunk_size: 900 } } }));
    // Before the retains, so that they queue deliveries to list (the port refuses them).
    const webhook = await answer(
      'create_webhook',
      sdk.createWebhook({
        ...bank,
        body: { url: 'http://127.0.0.1:9/hook', secret: 's3cret', event_types: ['retain.completed'] },
      }),
    );
    const hook = { client, path: { bank_id: 'contract', webhook_id: webhook.data!.id } };
    await answer(
      'retain_memories',
      sdk.retainMemories({
        ...bank,
        body: {
          items: [
            { content: 'Alice met Bob in Paris.', document_id: 'trip', tags: ['travel'], metadata: { source: 'chat' } },
            { content: 'Carol lives in Oslo.', timestamp: '2026-01-02T03:04:05Z', entities: [{ text: 'Carol', type: 'PERSON' }] },
          ],
        },
      }),
    );
    await answer('retain_memories', sdk.retainMemories({ ...bank, body: { items: [{ content: 'Dave plays chess.' }], async: true } }));
    const recalled = await answer(
      'recall_memories',
      sdk.recallMemories({
        ...bank,
        body: { query: 'Where did Alice meet Bob?', trace: true, include: { entities: {}, chunks: {}, source_facts: {} } },
      }),
    );
    const memoryId = recalled.data!.results[0].id;
    await answer('list_memories', sdk.listMemories({ ...bank }));
    await answer('get_memory', sdk.getMemory({ client, path: { bank_id: 'contract', memory_id: memoryId } }));
    await answer(
      'update_memory',
      sdk.updateMemory({ client, path: { bank_id: 'contract', memory_id: memoryId }, body: { context: 'edited' } }),
    );
    await answer('list_documents', sdk.listDocuments({ ...bank }));
    await answer('get_document', sdk.getDocument({ client, path: { bank_id: 'contract', document_id: 'trip' } }));
    await answer('list_tags', sdk.listTags({ ...bank }));
    await answer('list_banks', sdk.listBanks({ client }));
    await answer('get_bank_profile', sdk.getBankProfile({ ...bank }));
    await answer('get_agent_stats', sdk.getAgentStats({ ...bank }));
    await answer('get_bank_config', sdk.getBankConfig({ ...bank }));
    await answer('reset_bank_config', sdk.resetBankConfig({ ...bank }));
    await answer('trigger_consolidation', sdk.triggerConsolidation({ ...bank }));
    await answer(
      'update_webhook',
      sdk.updateWebhook({ ...hook, body: { enabled: false, http_config: { timeout_seconds: 5, headers: { 'x-a': 'b' } } } }),
    );
    await answer('list_webhooks', sdk.listWebhooks({ ...bank }));
    const deliveries = await answer('list_webhook_deliveries', sdk.listWebhookDeliveries({ ...hook }));
    expect(deliveries.data!.items.length).toBeGreaterThan(0);
    await answer('delete_webhook', sdk.deleteWebhook({ ...hook }));
    await answer(
      'regenerate_entity_observations',
      sdk.regenerateEntityObservations({
        client,
        path: { bank_id: 'contract', entity_id: '00000000-0000-4000-8000-000000000000' },
      }),
    );
    await answer('delete_document', sdk.deleteDocument({ client, path: { bank_id: 'contract', document_id: 'trip' } }));
    await answer('clear_bank_memories', sdk.clearBankMemories({ ...bank }));
    await answer('delete_bank', sdk.deleteBank({ ...bank }));

    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const mismatches = answers.flatMap(({ id, status, body }) => {
      const operation = operations(ours).find((entry) => entry.id === id)?.operation;
      const schema = operation?.responses?.[String(status)]?.content?.['application/json']?.schema;
      if (!schema) return [`${id}: answered ${status}, which is not documented`];
      const validate = ajv.compile({
        ...toJsonSchema(schema),
        components: { schemas: mapValues(ours.components?.schemas ?? {}, toJsonSchema) },
      });
      return validate(body) ? [] : [`${id} ${status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 300)}`];
    });
    expect(mismatches).toEqual([]);
    expect(new Set(answers.map(({ id }) => id)).size).toBeGreaterThanOrEqual(30);

    const metrics = await fetch(`${http.url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(
      Object.keys(operations(ours).find(({ id }) => id === 'metrics_endpoint_metrics_get')!.operation.responses!['200'].content!),
    ).toEqual(['text/plain']);
  });

  it('declares the bearer key on every route that asks for it, and on no open route', async () => {
    const schemes = Object.entries(ours.components?.securitySchemes ?? {}).filter(
      ([, scheme]) => scheme.type === 'http' && scheme.scheme === 'bearer',
    );
    expect(schemes).toHaveLength(1);
    const [bearer] = schemes[0];

    const protectedByHindsight = new Set(
      operations(hindsight)
        .filter(({ operation }) => (operation.parameters ?? []).some((p) => p.in === 'header' && p.name.toLowerCase() === 'authorization'))
        .map(({ id }) => id),
    );
    const undeclared: string[] = [];
    const open: { id: string; path: string }[] = [];
    for (const { id, path, operation } of operations(ours)) {
      const declared = (operation.security ?? []).some((requirement) => bearer in requirement);
      if (!declared) open.push({ id, path });
      if (protectedByHindsight.has(id) && !declared) undeclared.push(id);
    }
    expect(undeclared).toEqual([]);
    // What the document says is what the server does: the routes it leaves open answer without a
    // key, and one it protects does not.
    expect(open.map(({ id }) => id).sort()).toEqual(['get_liveness', 'get_readiness', 'get_version', 'health_endpoint_health_get']);
    for (const { path } of open) expect({ path, status: (await fetch(`${http.url}${path}`)).status }).toEqual({ path, status: 200 });
    expect((await fetch(`${http.url}/v1/default/banks`)).status).toBe(401);
  });
});

interface Answer {
  id: string;
  status: number;
  body: unknown;
}

/**
 * OpenAPI 3.0 to JSON Schema for Ajv: `nullable` becomes a null branch, and an object that lists
 * its properties admits no others, so a field sent but not documented is found too.
 */
function toJsonSchema(schema: Schema): Schema {
  const { nullable, ...rest } = schema as Schema & Record<string, unknown>;
  const converted: Record<string, unknown> = { ...rest };
  if (rest.properties) {
    converted.properties = mapValues(rest.properties, toJsonSchema);
    if (rest.additionalProperties === undefined) converted.additionalProperties = false;
  }
  if (typeof rest.additionalProperties === 'object') converted.additionalProperties = toJsonSchema(rest.additionalProperties);
  if (rest.items) converted.items = toJsonSchema(rest.items);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) if (rest[key]) converted[key] = rest[key].map(toJsonSchema);
  return nullable ? { anyOf: [converted as Schema, { type: 'null' }] } : (converted as Schema);
}

function mapValues<T, U>(object: Record<string, T>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, map(value)]));
}

function operations(document: Document): { id: string; path: string; method: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ id: operation.operationId ?? `${method} ${path}`, path, method, operation })),
  );
}

type Kind = 'integer' | 'number' | 'string' | 'boolean' | 'array' | 'object' | 'union' | 'untyped';

interface Resolved {
  kind: Kind;
  schema: Schema;
  properties?: Record<string, Schema>;
}

/** Follows `$ref`s and drops the `null` branch of `anyOf`/`oneOf`, which only says "nullable". */
function resolve(document: Document, schema: Schema, seen: Set<string>): Schema {
  let current = schema;
  for (;;) {
    if (current.$ref) {
      const name = current.$ref.replace('#/components/schemas/', '');
      const target = document.components?.schemas?.[name];
      if (!target) throw new Error(`Unresolvable ${current.$ref}`);
      seen.add(current.$ref);
      current = target;
      continue;
    }
    const branches = (current.anyOf ?? current.oneOf ?? (current.allOf?.length === 1 ? current.allOf : undefined))?.filter(
      (branch) => branch.type !== 'null',
    );
    if (branches?.length === 1) {
      current = branches[0];
      continue;
    }
    return current;
  }
}

function kindOf(document: Document, schema: Schema, seen: Set<string>): Resolved {
  const resolved = resolve(document, schema, seen);
  const types = (Array.isArray(resolved.type) ? resolved.type : resolved.type ? [resolved.type] : []).filter((type) => type !== 'null');
  let kind: Kind;
  if (types.length === 1) kind = types[0] as Kind;
  else if (types.length > 1 || resolved.anyOf || resolved.oneOf) kind = 'union';
  else if (resolved.properties || resolved.additionalProperties !== undefined) kind = 'object';
  else if (resolved.items) kind = 'array';
  else if (resolved.enum?.length) kind = typeof resolved.enum[0] as Kind;
  else kind = 'untyped';
  return { kind, schema: resolved, properties: resolved.properties };
}

/**
 * Hindsight's schema (`expected`) against ours (`actual`): same JSON type (an integer may stand
 * for Hindsight's number, not the other way round), every property Hindsight requires present
 * and required, and the properties both declare compared in turn.
 */
function compare(ours: Document, expected: Schema, actual: Schema, at: string, problems: string[], pairs: Set<string>): void {
  const theirSeen = new Set<string>();
  const ourSeen = new Set<string>();
  const theirs = kindOf(hindsight, expected, theirSeen);
  const mine = kindOf(ours, actual, ourSeen);
  const pair = `${[...theirSeen].join()}|${[...ourSeen].join()}`;
  if (theirSeen.size > 0 && pairs.has(pair)) return;
  pairs.add(pair);

  if (theirs.kind === 'untyped' || theirs.kind === 'union') return;
  if (mine.kind === 'untyped' || mine.kind === 'union') {
    problems.push(`${at}: Hindsight says ${theirs.kind}, this server does not say`);
    return;
  }
  const wider = theirs.kind === 'integer' && mine.kind === 'number' && DELIBERATELY_WIDER.some((suffix) => at.endsWith(suffix));
  if (theirs.kind !== mine.kind && !(theirs.kind === 'number' && mine.kind === 'integer') && !wider) {
    problems.push(`${at}: Hindsight says ${theirs.kind}, this server says ${mine.kind}`);
    return;
  }
  if (theirs.kind === 'array' && theirs.schema.items && mine.schema.items) {
    compare(ours, theirs.schema.items, mine.schema.items, `${at}[]`, problems, pairs);
  }
  if (theirs.kind !== 'object') return;
  const required = new Set(mine.schema.required ?? []);
  for (const name of theirs.schema.required ?? []) {
    if (!mine.properties?.[name]) problems.push(`${at}.${name}: required by Hindsight, missing here`);
    else if (!required.has(name)) problems.push(`${at}.${name}: required by Hindsight, optional here`);
  }
  for (const [name, property] of Object.entries(theirs.properties ?? {})) {
    const own = mine.properties?.[name];
    if (own) compare(ours, property, own, `${at}.${name}`, problems, pairs);
  }
  const theirValues = theirs.schema.additionalProperties;
  const ourValues = mine.schema.additionalProperties;
  if (typeof theirValues === 'object' && !theirs.properties && !mine.properties) {
    if (typeof ourValues === 'object') compare(ours, theirValues, ourValues, `${at}{}`, problems, pairs);
    else problems.push(`${at}{}: Hindsight types the values of this map, this server does not`);
  }
}

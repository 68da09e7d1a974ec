import { randomUUID } from 'node:crypto';
import { HindsightClient, HindsightError } from '@vectorize-io/hindsight-client';
import { eventually } from '../helpers/eventually.js';
import { BACK_ENDS } from '../helpers/back-ends.js';
import { call, startHttpApp, type HttpApp } from '../http/http-app.js';

/**
 * Hindsight's retain options through its own client: a client's `operation_id` makes an async
 * retain safe to resubmit, and what this server cannot do (`strategy`, `update_mode: "append"`)
 * is refused by name rather than done some other way.
 */
describe.each(BACK_ENDS)('retain options on %s', (_name, database) => {
  let http: HttpApp;
  let client: HindsightClient;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const created = await database('retain_options');
    drop = created.drop;
    http = await startHttpApp({ DATABASE_URL: created.url });
    client = new HindsightClient({ baseUrl: http.url });
  });

  afterAll(async () => {
    await http?.close();
    await drop?.();
  });

  const operationsOf = async (bankId: string) =>
    (await call(http.url, 'GET', `/v1/default/banks/${bankId}/operations`)).body.operations as Array<{ id: string; status: string }>;
  const memoriesOf = async (bankId: string) =>
    (await call(http.url, 'GET', `/v1/default/banks/${bankId}/memories/list`)).body.total as number;

  it('an async retain resubmitted with its operation_id, even concurrently, is queued and retained once', async () => {
    const operationId = randomUUID();
    const submit = () => client.retain('idempotent', 'Nadia keeps her bike in the basement.', { async: true, operationId });
    const answers = await Promise.all([submit(), submit(), submit()]);
    expect(answers.map((answer) => answer.operation_id)).toEqual([operationId, operationId, operationId]);

    await eventually(
      () => operationsOf('idempotent'),
      (operations) => operations.length === 1 && operations[0].status === 'completed',
      20_000,
    );
    expect((await operationsOf('idempotent')).map((operation) => operation.id)).toEqual([operationId]);
    expect(await memoriesOf('idempotent')).toBe(1);

    // After it completed, the same id still answers the original operation and writes nothing.
    expect((await submit()).operation_id).toBe(operationId);
    expect(await operationsOf('idempotent')).toHaveLength(1);
    expect(await memoriesOf('idempotent')).toBe(1);
  });

  it("answers 409 for an id that belongs to another bank's operation, and queues nothing", async () => {
    const operationId = randomUUID();
    await client.createBank('intruder', {});
    await client.retain('owner', 'Omar waters the plants on Fridays.', { async: true, operationId });
    const reused = await call(http.url, 'POST', '/v1/default/banks/intruder/memories', {
      items: [{ content: 'Something else entirely.' }],
      async: true,
      operation_id: operationId,
    });
    expect(reused.status).toBe(409);
    expect(JSON.stringify(reused.body.detail)).toContain('operation_id');
    expect(await operationsOf('intruder')).toEqual([]);
  });

  it('refuses a malformed operation_id and a named strategy, naming the field, and stores nothing', async () => {
    await client.createBank('refusals', {});
    const refused = async (body: Record<string, unknown>, field: string) => {
      const response = await call(http.url, 'POST', '/v1/default/banks/refusals/memories', body);
      expect({ status: response.status, detail: JSON.stringify(response.body.detail) }).toEqual({
        status: 422,
        detail: expect.stringContaining(field),
      });
    };
    await refused({ items: [{ content: 'Kept?' }], async: true, operation_id: 'not-a-uuid' }, 'operation_id');
    await refused({ items: [{ content: 'Kept?', strategy: 'fast' }] }, 'strategy');
    await expect(client.retain('refusals', 'Kept?', { strategy: 'fast' })).rejects.toBeInstanceOf(HindsightError);
    expect(await memoriesOf('refusals')).toBe(0);
  });
});

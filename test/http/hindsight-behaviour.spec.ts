import { HindsightClient, createClient, createConfig, sdk } from '@vectorize-io/hindsight-client';
import { eventually } from '../helpers/eventually.js';
import { call, startHttpApp, type HttpApp } from './http-app.js';

/** Answers where this server used to differ from Hindsight's, on the standalone app. */
describe("Hindsight's answers for liveness and unknown routes", () => {
  let http: HttpApp;

  beforeAll(async () => {
    http = await startHttpApp({ DATABASE_URL: `pglite://memory/hindsight-behaviour-${process.pid}`, MEMORY_WEBHOOK_ALLOW_PRIVATE: 'true' });
  });

  afterAll(async () => {
    await http?.close();
  });

  it('answers /health/live with LivenessResponse and no database work', async () => {
    const live = await call(http.url, 'GET', '/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'alive', version: '0.9.1', uptime_seconds: expect.any(Number) });
  });

  it.each([
    ['GET', '/nope'],
    ['POST', '/v1/default/banks/b/not-a-route'],
    ['DELETE', '/v1/default'],
  ])('answers %s %s with 404 and a detail, like every other error', async (method, path) => {
    const response = await call(http.url, method, path);
    expect(response.status).toBe(404);
    expect(response.contentType).toContain('application/json');
    expect(Object.keys(response.body)).toEqual(['detail']);
    expect(response.body.detail).toEqual(expect.any(String));
  });
  /** Each delete answers what Hindsight 0.9.1's server sends, message wording included. */
  describe('delete answers', () => {
    const bank = 'deletes';
    const raw = () => createClient(createConfig({ baseUrl: http.url }));

    it('match Hindsight field for field, and a delete of nothing is a 4xx that changes nothing', async () => {
      const client = new HindsightClient({ baseUrl: http.url });
      await client.retainBatch(bank, [
        { content: 'Pia paints murals.', document_id: 'murals' },
        { content: 'Pia teaches art on Fridays.' },
      ]);
      const path = { bank_id: bank };

      const missing = [
        await call(http.url, 'DELETE', `/v1/default/banks/${bank}/documents/no-such-document`),
        await call(http.url, 'DELETE', `/v1/default/banks/${bank}/webhooks/00000000-0000-4000-8000-000000000000`),
        await call(http.url, 'DELETE', `/v1/default/banks/${bank}/operations/not-a-uuid/delete`),
      ];
      expect(missing.map((response) => [response.status, response.body])).toEqual([
        [404, { detail: 'Document not found' }],
        [404, { detail: 'Webhook not found' }],
        [400, { detail: 'Invalid operation_id format: not-a-uuid' }],
      ]);
      expect((await client.listMemories(bank)).items).toHaveLength(2);

      const document = (await sdk.deleteDocument({ client: raw(), path: { ...path, document_id: 'murals' } })).data!;
      expect(document).toEqual({
        success: true,
        message: `Document 'murals' and ${document.memory_units_deleted} associated memory units deleted successfully`,
        document_id: 'murals',
        memory_units_deleted: expect.any(Number),
      });
      expect(document.memory_units_deleted).toBeGreaterThan(0);

      const webhook = (await sdk.createWebhook({ client: raw(), path, body: { url: 'http://127.0.0.1:9/hook' } })).data!;
      expect((await sdk.deleteWebhook({ client: raw(), path: { ...path, webhook_id: webhook.id } })).data).toEqual({ success: true });

      const directive = await client.createDirective(bank, 'Brevity', 'Answer briefly.');
      expect((await sdk.deleteDirective({ client: raw(), path: { ...path, directive_id: directive.id } })).data).toEqual({
        status: 'deleted',
      });
      const model = await client.createMentalModel(bank, 'Pia', 'What does Pia do?');
      const modelId = (model as { mental_model_id: string }).mental_model_id;
      expect((await sdk.deleteMentalModel({ client: raw(), path: { ...path, mental_model_id: modelId } })).data).toEqual({
        status: 'deleted',
      });

      const queued = (await sdk.retainMemories({ client: raw(), path, body: { items: [{ content: 'Pia sells prints.' }], async: true } }))
        .data!;
      const operationId = queued.operation_id!;
      await eventually(
        async () => (await sdk.getOperationStatus({ client: raw(), path: { ...path, operation_id: operationId } })).data?.status,
        (status) => status === 'completed',
        10_000,
      );
      expect((await sdk.deleteOperation({ client: raw(), path: { ...path, operation_id: operationId } })).data).toEqual({
        success: true,
        message: `Operation ${operationId} deleted`,
        operation_id: operationId,
      });

      expect((await sdk.clearObservations({ client: raw(), path })).data).toEqual({
        success: true,
        message: 'Cleared 0 observations',
        deleted_count: 0,
      });
      expect((await sdk.clearBankMemories({ client: raw(), path })).data).toEqual({ success: true });
      expect((await client.listMemories(bank)).items).toEqual([]);

      await client.retain(bank, 'Quinn repairs clocks.', { documentId: 'clocks' });
      const deleted = (await sdk.deleteBank({ client: raw(), path })).data!;
      expect(deleted).toEqual({
        success: true,
        message: `Bank '${bank}' and all associated data deleted successfully`,
        deleted_count: expect.any(Number),
      });
      // The memories, the entities and the document, as Hindsight counts them.
      expect(deleted.deleted_count).toBeGreaterThanOrEqual(3);
    });
  });
});

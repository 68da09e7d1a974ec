import { call, startHttpApp, type HttpApp } from './http-app.js';

/** Answers where this server used to differ from Hindsight's, on the standalone app. */
describe("Hindsight's answers for liveness and unknown routes", () => {
  let http: HttpApp;

  beforeAll(async () => {
    http = await startHttpApp({ DATABASE_URL: `pglite://memory/hindsight-behaviour-${process.pid}` });
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
});

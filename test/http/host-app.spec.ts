import { BadRequestException, Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MemoryHttpModule } from '../../src/http/memory-http.module.js';
import { MemoryModule } from '../../src/memory.module.js';
import { call } from './http-app.js';

@Controller('host')
class HostController {
  @Get('fail')
  fail(): never {
    throw new BadRequestException('host says no');
  }
}

@Module({
  imports: [MemoryModule.forRoot({ databaseUrl: 'pglite://memory', isGlobal: true }), MemoryHttpModule],
  controllers: [HostController],
})
class HostModule {}

/** MemoryHttpModule binds its filter, pipe and guard to its own controllers, never globally. */
describe('a host application importing MemoryHttpModule', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await NestFactory.create(HostModule, { logger: ['error'], abortOnError: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app?.close();
  });

  it("keeps Nest's own error format on the host's routes", async () => {
    const response = await call(url, 'GET', '/host/fail');
    expect(response).toMatchObject({ status: 400, body: { statusCode: 400, message: 'host says no' } });
    expect(response.body.detail).toBeUndefined();
  });

  it('serves the memory API, open when imported without an API key, with its own error format', async () => {
    expect((await call(url, 'PUT', '/v1/default/banks/host-bank', { name: 'Host' })).body).toMatchObject({
      bank_id: 'host-bank',
      name: 'Host',
    });
    const invalid = await call(url, 'POST', '/v1/default/banks/host-bank/memories', { items: [{ content: '' }] });
    expect(invalid.status).toBe(422);
    expect(invalid.body.detail[0].loc).toEqual(['body', 'items', 0, 'content']);
  });

  it('leaves the memory console out unless forRoot asks for it', async () => {
    expect((await fetch(`${url}/ui`)).status).toBe(404);
    expect((await fetch(`${url}/ui/assets/index.js`)).status).toBe(404);
  });
});

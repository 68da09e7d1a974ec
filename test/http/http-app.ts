import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../src/app.module.js';
import { loadServerConfig } from '../../src/config/server-config.js';
import { configureHttpApp } from '../../src/http/configure-http-app.js';
import { ShutdownCoordinator } from '../../src/lifecycle/shutdown-coordinator.js';

export interface HttpApp {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/**
 * The standalone server's application, in process: the same module, the same app-level set-up
 * (`configureHttpApp`), configured from environment variables, on a free port. The consolidation
 * schedule is off unless a test sets MEMORY_CONSOLIDATION_CRON, as in `bootMemory`: a tick at a
 * random moment would add observations to what a test counts.
 */
export async function startHttpApp(env: Record<string, string>): Promise<HttpApp> {
  const config = loadServerConfig({ HOST: '127.0.0.1', PORT: '0', MEMORY_CONSOLIDATION_CRON: 'off', ...env });
  const coordinator = new ShutdownCoordinator({ timeoutMs: config.memory.shutdownTimeoutMs });
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(AppModule.forRoot(config, coordinator), {
      abortOnError: false,
      bodyParser: false,
      forceCloseConnections: true,
      logger: ['error'],
    });
    configureHttpApp(app, { maxBodyBytes: config.maxBodyBytes });
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app?.close().catch(() => undefined);
    await coordinator.shutdown('startup failed');
    throw error;
  }
  const started = app;
  const url = (await started.getUrl()).replace('[::1]', '127.0.0.1');
  return { app: started, url, close: () => started.close() };
}

export interface JsonResponse<T = any> {
  status: number;
  contentType: string | null;
  body: T;
}

/** One request with a JSON body (or a raw string sent as is), answered as parsed JSON. */
export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
}

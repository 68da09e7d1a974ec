import { randomUUID } from 'node:crypto';
import { type CallHandler, type ExecutionContext, Inject, Injectable, Logger, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { MemoryMetrics } from '../metrics/memory-metrics.js';

/** A caller's id when it sends one (so its logs and ours line up), else ours. */
const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Times every request of the memory controllers by route pattern (`/v1/default/banks/:bank_id/
 * memories`, never the concrete URL, so the label set stays small) and logs one line per request
 * with its request id, also echoed in the `X-Request-Id` response header. Measured to the
 * response's `finish`, so the status is the one sent, after the exception filter, errors included.
 */
@Injectable()
export class HttpMetricsInterceptor implements NestInterceptor {
  private readonly logger = new Logger('HttpRequest');

  constructor(@Inject(MemoryMetrics) private readonly metrics: MemoryMetrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const requestId = requestIdOf(request);
    response.setHeader('X-Request-Id', requestId);
    const started = performance.now();
    const stop = this.metrics.httpRequestDuration.startTimer({ method: request.method });
    const route = routeOf(request);
    response.once('finish', () => {
      stop({ route, status: String(response.statusCode) });
      const ms = Math.round(performance.now() - started);
      this.logger.log(`${request.method} ${request.originalUrl} ${response.statusCode} ${ms}ms request_id=${requestId}`);
    });
    return next.handle();
  }
}

function requestIdOf(request: Request): string {
  const given = request.headers[REQUEST_ID_HEADER];
  const id = Array.isArray(given) ? given[0] : given;
  return id && /^[\w.:-]{1,128}$/.test(id) ? id : randomUUID();
}

function routeOf(request: Request): string {
  const path = (request.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : 'unmatched';
}

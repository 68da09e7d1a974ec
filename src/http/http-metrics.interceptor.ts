import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { MemoryMetrics } from '../metrics/memory-metrics.js';

/**
 * Times every request of the memory controllers by route pattern (`/v1/default/banks/:bank_id/
 * memories`, never the concrete URL, so the label set stays small). Measured to the response's
 * `finish`, so the status is the one sent, after the exception filter, errors included.
 */
@Injectable()
export class HttpMetricsInterceptor implements NestInterceptor {
  constructor(@Inject(MemoryMetrics) private readonly metrics: MemoryMetrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const stop = this.metrics.httpRequestDuration.startTimer({ method: request.method });
    const route = routeOf(request);
    response.once('finish', () => stop({ route, status: String(response.statusCode) }));
    return next.handle();
  }
}

function routeOf(request: Request): string {
  const path = (request.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : 'unmatched';
}

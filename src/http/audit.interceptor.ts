import { type CallHandler, type ExecutionContext, HttpStatus, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { DECORATORS } from '@nestjs/swagger';
import type { Request } from 'express';
import { Observable, catchError, from, mergeMap, throwError } from 'rxjs';
import { describeRequest, describeResponse } from '../audit/audit-content.js';
import { auditActionOf } from '../audit/audit-actions.js';
import { AuditLogService } from '../audit/audit-log.service.js';
import { ApiKeyVerifier } from './api-key.guard.js';
import { toHttpError } from './memory-exception.filter.js';

/**
 * Runs each request that may write (every method but GET) in an audit scope named after its
 * operation, so that its first committed write records who, what, when and the request id; then,
 * before the answer goes out, records its status and ids. Recorded before rather than after the
 * response so that no work of a request outlives it (a shutdown that closes the database after
 * the last response cannot cut it short), and a client that got its answer finds the entry whole.
 * Bound after HttpMetricsInterceptor, which picks the request id.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    @Inject(AuditLogService) private readonly audit: AuditLogService,
    @Inject(ApiKeyVerifier) private readonly verifier: ApiKeyVerifier,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const bankId = request.params?.bank_id;
    if (!this.audit.enabled || request.method === 'GET' || typeof bankId !== 'string') return next.handle();
    const handler = context.getHandler();
    const operationId = this.reflector.get<{ operationId?: string } | undefined>(DECORATORS.API_OPERATION, handler)?.operationId;
    const action = operationId && auditActionOf(operationId);
    if (!action) return next.handle();

    const includeContent = this.audit.settings.includeContent;
    const scope = this.audit.open({
      bankId,
      action,
      transport: 'http',
      caller: {
        actor: this.verifier.identityOf(request.headers.authorization),
        requestId: String(http.getResponse<{ getHeader(name: string): unknown }>().getHeader('X-Request-Id') ?? ''),
      },
      request: describeRequest(
        { params: request.params, query: request.query as Record<string, unknown>, body: request.body },
        includeContent,
      ),
    });
    const status =
      this.reflector.get<number | undefined>(HTTP_CODE_METADATA, handler) ??
      (request.method === 'POST' ? HttpStatus.CREATED : HttpStatus.OK);
    return new Observable((subscriber) =>
      this.audit.run(scope, () =>
        next
          .handle()
          .pipe(
            mergeMap(async (body: unknown) => {
              await this.audit.finish(scope, status, describeResponse(body, includeContent));
              return body;
            }),
            catchError((error: unknown) =>
              from(this.audit.finish(scope, toHttpError(error).status, null)).pipe(mergeMap(() => throwError(() => error))),
            ),
          )
          .subscribe(subscriber),
      ),
    );
  }
}

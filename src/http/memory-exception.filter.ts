import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';

/** One entry of a 422 body, as FastAPI/Pydantic writes it (Hindsight's `ValidationError`). */
export interface ValidationIssue {
  loc: Array<string | number>;
  msg: string;
  type: string;
}

export interface HttpError {
  status: number;
  body: { detail: unknown };
}

/**
 * The one place where domain errors become HTTP statuses. Bodies are Hindsight's: `{"detail": …}`,
 * a string, or for a 422 the list of fields at fault.
 */
@Catch()
export class MemoryExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(MemoryExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const error = toHttpError(exception);
    if (error.status >= 500) {
      const reason = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
      this.logger.error(`Request failed with ${error.status}: ${reason}`);
    }
    if (response.headersSent) return;
    response.status(error.status).json(error.body);
  }
}

export function toHttpError(exception: unknown): HttpError {
  if (exception instanceof MemoryException) return fromMemoryException(exception);
  if (exception instanceof HttpException) return fromHttpException(exception);
  return { status: HttpStatus.INTERNAL_SERVER_ERROR, body: { detail: 'Internal Server Error' } };
}

function fromMemoryException(exception: MemoryException): HttpError {
  const detail = { detail: exception.message };
  const code = exception.code;
  switch (code) {
    case MemoryErrorCode.BankNotFound:
    case MemoryErrorCode.MemoryNotFound:
    case MemoryErrorCode.DocumentNotFound:
    case MemoryErrorCode.ChunkNotFound:
    case MemoryErrorCode.OperationNotFound:
    case MemoryErrorCode.WebhookNotFound:
      return { status: HttpStatus.NOT_FOUND, body: detail };
    case MemoryErrorCode.InvalidInput:
      return unprocessable([{ loc: ['body', ...fieldPath(exception.field)], msg: exception.message, type: 'value_error' }]);
    case MemoryErrorCode.InvalidConfigKey:
      return { status: HttpStatus.BAD_REQUEST, body: detail };
    case MemoryErrorCode.OperationNotCancellable:
    case MemoryErrorCode.Conflict:
      return { status: HttpStatus.CONFLICT, body: detail };
    case MemoryErrorCode.LlmOutputInvalid:
    case MemoryErrorCode.ExternalServiceFailed:
      return { status: HttpStatus.BAD_GATEWAY, body: detail };
    case MemoryErrorCode.ShuttingDown:
      return { status: HttpStatus.SERVICE_UNAVAILABLE, body: detail };
    default:
      return assertNever(code);
  }
}

function fromHttpException(exception: HttpException): HttpError {
  const response = exception.getResponse();
  if (typeof response === 'object' && response !== null && 'detail' in response) {
    return { status: exception.getStatus(), body: { detail: (response as { detail: unknown }).detail } };
  }
  const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
  const detail = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : exception.message;
  return { status: exception.getStatus(), body: { detail } };
}

export function unprocessable(issues: ValidationIssue[]): HttpError {
  return { status: HttpStatus.UNPROCESSABLE_ENTITY, body: { detail: issues } };
}

/** `items.0.content` → `['items', 0, 'content']`: indices are numbers, as in Pydantic's `loc`. */
export function fieldPath(field: string | undefined): Array<string | number> {
  if (!field) return [];
  return field.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** Compile-time exhaustiveness: a code added to an enum without a status here fails the build. */
function assertNever(code: never): HttpError {
  void code;
  return { status: HttpStatus.INTERNAL_SERVER_ERROR, body: { detail: 'Internal Server Error' } };
}

import { type ArgumentMetadata, HttpException, Injectable, ValidationPipe, type ValidationError } from '@nestjs/common';
import * as classTransformer from 'class-transformer';
import * as classValidator from 'class-validator';
import { type ValidationIssue, unprocessable } from './memory-exception.filter.js';

/** Carries class-validator's errors to `transform`, which knows where (body, query) they were. */
class FieldErrors extends Error {
  constructor(readonly errors: ValidationError[]) {
    super('validation failed');
  }
}

/**
 * Validates request DTOs and answers a bad one as FastAPI does: 422 with one
 * `{loc: ['body', 'items', 0, 'content'], msg, type}` per field at fault. Unknown fields are
 * dropped, not refused (Hindsight ignores them); `null` counts as absent for optional fields.
 */
@Injectable()
export class MemoryValidationPipe extends ValidationPipe {
  constructor() {
    super({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: false,
      validatorPackage: classValidator,
      transformerPackage: classTransformer,
      exceptionFactory: (errors) => new FieldErrors(errors),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const location = metadata.type === 'custom' ? 'body' : metadata.type;
    if (location === 'body' && metadata.metatype && value !== undefined && !isPlainObject(value)) {
      throw validationFailed([{ loc: ['body'], msg: 'Input should be a valid dictionary or object', type: 'value_error' }]);
    }
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (!(error instanceof FieldErrors)) throw error;
      throw validationFailed(error.errors.flatMap((child) => issuesOf(child, [location])));
    }
  }
}

function validationFailed(issues: ValidationIssue[]): HttpException {
  const { status, body } = unprocessable(issues);
  return new HttpException(body, status);
}

function issuesOf(error: ValidationError, parent: Array<string | number>): ValidationIssue[] {
  const loc = [...parent, /^\d+$/.test(error.property) ? Number(error.property) : error.property];
  const own = Object.values(error.constraints ?? {}).map((msg) => ({ loc, msg, type: 'value_error' }));
  return [...own, ...(error.children ?? []).flatMap((child) => issuesOf(child, loc))];
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

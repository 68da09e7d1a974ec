import { type ArgumentMetadata, HttpException, Inject, Injectable, Optional, ValidationPipe, type ValidationError } from '@nestjs/common';
import * as classTransformer from 'class-transformer';
import * as classValidator from 'class-validator';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits, type ResolvedMemoryOptions } from '../memory.options.js';
import { inspectInput, inspectParam, nestsDeeperThan, tooDeepMessage } from './input-rules.js';
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
 *
 * Then every value a route takes, path and query parameters included, passes the rules of
 * `input-rules.ts`: text the database can store, and the configured `InputLimits`.
 */
@Injectable()
export class MemoryValidationPipe extends ValidationPipe {
  private readonly limits: InputLimits;

  // Optional: MemoryModule provides the options, but the pipe must also stand without it.
  constructor(@Optional() @Inject(MEMORY_OPTIONS) options?: ResolvedMemoryOptions) {
    super({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: false,
      validatorPackage: classValidator,
      transformerPackage: classTransformer,
      exceptionFactory: (errors) => new FieldErrors(errors),
    });
    this.limits = options?.limits ?? DEFAULT_INPUT_LIMITS;
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'param' && metadata.data) {
      const issues = inspectParam(metadata.data, value, this.limits);
      if (issues.length) throw validationFailed(issues);
      return value;
    }
    // FastAPI's names of where a field was: `path` for path parameters.
    const location = metadata.type === 'custom' ? 'body' : metadata.type === 'param' ? 'path' : metadata.type;
    const loc = metadata.data ? [location, metadata.data] : [location];
    // class-transformer recurses through whatever it is given; a body nested deep enough
    // overflows the stack (a 500). The standalone server's parser refuses such text already.
    if (nestsDeeperThan(value, this.limits.maxJsonDepth)) throw validationFailed([issue(loc, tooDeepMessage(this.limits.maxJsonDepth))]);
    if (location === 'body' && metadata.metatype && value !== undefined && !isPlainObject(value)) {
      throw validationFailed([issue(['body'], 'Input should be a valid dictionary or object')]);
    }
    let transformed: unknown;
    try {
      transformed = await super.transform(value, metadata);
    } catch (error) {
      if (!(error instanceof FieldErrors)) throw error;
      throw validationFailed(error.errors.flatMap((child) => issuesOf(child, [location])));
    }
    const issues = inspectInput(transformed, loc, this.limits);
    if (issues.length) throw validationFailed(issues);
    return transformed;
  }
}

function issue(loc: Array<string | number>, msg: string): ValidationIssue {
  return { loc, msg, type: 'value_error' };
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

import { Ajv, type ValidateFunction } from 'ajv';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';

// One instance: ajv caches compiled schemas by content, so a caller repeating its schema pays once.
// `strict: false` because callers write schemas for several tools, with keywords ajv does not know.
const ajv = new Ajv({ allErrors: true, strict: false });

/** Compiles the caller's JSON Schema; one that does not compile is the caller's error, named. */
export function compileResponseSchema(schema: unknown): ValidateFunction {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new MemoryException(MemoryErrorCode.InvalidInput, 'response_schema must be a JSON Schema object', 'response_schema');
  }
  try {
    return ajv.compile(schema);
  } catch (error) {
    throw new MemoryException(
      MemoryErrorCode.InvalidInput,
      `response_schema is not a valid JSON Schema: ${(error as Error).message}`,
      'response_schema',
    );
  }
}

/** Why a value failed its schema, short enough for an error message. */
export function schemaErrors(validate: ValidateFunction): string {
  const errors = validate.errors ?? [];
  const shown = errors.slice(0, 3).map((error) => `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}`);
  return shown.join('; ') + (errors.length > 3 ? `; and ${errors.length - 3} more` : '');
}

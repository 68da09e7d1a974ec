import { applyDecorators } from '@nestjs/common';
import { type ApiPropertyOptions, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { TAGS_MATCHES } from '../../recall/recall.types.js';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, ValidateBy, type ValidationOptions } from 'class-validator';
import { stripUnstorable } from '../../storage/storable-text.js';
import { STORABLE_INSTANT_RULE, isStorableInstant } from '../../storage/storable-instant.js';
import { LimitedInput } from '../input-rules.js';

/**
 * Hindsight's `tags` accepts a list, a JSON-encoded list (`'["a","b"]'`), or one plain string;
 * a query string gives a string for one value and a list for several. Anything else is left as
 * it is, for the validators to refuse.
 */
export function CoerceTags(): PropertyDecorator {
  return Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    const trimmed = value.trim();
    if (trimmed.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        if (Array.isArray(parsed)) return parsed;
      } catch {
        // Not JSON after all: a tag that happens to start with a bracket.
      }
    }
    return [value];
  });
}

/**
 * Removes what PostgreSQL cannot store (NUL, unpaired surrogates) instead of refusing it: for
 * retained free text, pasted from transcripts and documents the caller cannot easily clean.
 * Everywhere else the validation pipe refuses such text, naming the field.
 */
export function StripUnstorable(): PropertyDecorator {
  return Transform(({ value }) => (typeof value === 'string' ? stripUnstorable(value) : value));
}

/** `true` / `false` in a query string, as FastAPI reads them. */
export function QueryBoolean(): PropertyDecorator {
  return Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    const lower = value.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return true;
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    return value;
  });
}

/** A query-string integer; what does not parse stays a string, for `@IsInt` to refuse. */
export function QueryInt(): PropertyDecorator {
  return Transform(({ value }) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value));
}

/** Whitespace-only text counts as empty; a value that is no string is left to `@IsString`. */
export function IsNotBlank(message: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isNotBlank',
      validator: { validate: (value) => typeof value !== 'string' || value.trim() !== '', defaultMessage: () => message },
    },
    options,
  );
}

/** An object whose values are all strings (`metadata`). */
export function IsStringRecord(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringRecord',
      validator: {
        validate: (value) =>
          typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string'),
        defaultMessage: (args) => `${args?.property} must be an object whose values are strings`,
      },
    },
    options,
  );
}

/** An ISO 8601 date-time (`Z` or an offset), or what `extra` allows (`"unset"`). */
export function IsIsoTimestamp(extra: string[] = [], options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIsoTimestamp',
      validator: {
        validate: (value) => typeof value === 'string' && (extra.includes(value) || parseIsoTimestamp(value) !== null),
        defaultMessage: (args) =>
          typeof args?.value === 'string' && parseIsoText(args.value) !== null
            ? `${args.property} ${STORABLE_INSTANT_RULE}`
            : `${args?.property} must be an ISO 8601 timestamp${extra.length ? ` or one of ${extra.map((v) => `'${v}'`).join(', ')}` : ''}`,
      },
    },
    options,
  );
}

/**
 * Timestamps without a zone are taken as UTC, as Hindsight stores them. `null` for text that is
 * no such timestamp, and for one outside the years a memory's times may be (`isStorableInstant`).
 */
export function parseIsoTimestamp(value: string): Date | null {
  const date = parseIsoText(value);
  return date && isStorableInstant(date) ? date : null;
}

function parseIsoText(value: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(value.trim())) return null;
  const text = value.trim().replace(' ', 'T');
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) || !text.includes('T') ? text : `${text}Z`;
  const date = new Date(zoned);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** An optional list of tags, given as a list, one string, or a JSON list in a string. */
export function OptionalTags(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: [String], nullable: true }),
    IsOptional(),
    CoerceTags(),
    IsArray(),
    IsString({ each: true }),
    LimitedInput('tags'),
  );
}

/** How `tags` select memories (see RecallRequest.tagsMatch). */
export function OptionalTagsMatch(): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ enum: TAGS_MATCHES, default: 'any' }), IsOptional(), IsIn([...TAGS_MATCHES]));
}

/** Hindsight's boolean tag expressions: accepted empty, refused otherwise, naming the field. */
/**
 * Hindsight's `tag_groups`: its structure (recursive, with paths in the errors) is checked by
 * recall itself (`src/recall/tag-groups.ts`), which a caller of the module reaches without HTTP.
 */
export function TagGroups(): PropertyDecorator {
  // Swagger's option types have no room for oneOf inside items; the schema is plain OpenAPI.
  const group = {
    oneOf: [
      {
        type: 'object',
        required: ['tags'],
        properties: {
          tags: { type: 'array', items: { type: 'string' } },
          match: { type: 'string', enum: [...TAGS_MATCHES], default: 'any_strict' },
        },
      },
      { type: 'object', required: ['and'], properties: { and: { type: 'array', items: { type: 'object' } } } },
      { type: 'object', required: ['or'], properties: { or: { type: 'array', items: { type: 'object' } } } },
      { type: 'object', required: ['not'], properties: { not: { type: 'object' } } },
    ],
  };
  return applyDecorators(
    ApiPropertyOptional({
      type: 'array',
      items: group,
      nullable: true,
      description:
        'Compound tag filters, AND-ed with each other and with tags: a leaf {tags, match} or {and: [...]}, {or: [...]}, {not: ...}',
    } as unknown as ApiPropertyOptions),
    IsOptional(),
    IsArray(),
  );
}

export function UnsupportedTagGroups(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ nullable: true, description: 'Not supported: use tags and tags_match' }),
    IsOptional(),
    IsArray(),
    ArrayMaxSize(0, { message: 'tag_groups is not supported by this server; use tags and tags_match' }),
  );
}

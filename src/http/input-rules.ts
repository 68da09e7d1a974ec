import type { InputLimits } from '../memory.options.js';
import { unstorableReason } from '../storage/storable-text.js';
import type { ValidationIssue } from './memory-exception.filter.js';

/**
 * The rules every request value passes at the edge, whatever its DTO: each string and object key
 * must be storable by PostgreSQL, and the fields a DTO marks with `@LimitedInput` must keep within
 * the configured `InputLimits`. Applied by `MemoryValidationPipe` after class-transformer, so it
 * sees exactly what reaches the services (unknown fields already dropped, coercions done).
 */

/** What a field holds, for the limits that apply to it. */
export type LimitedKind = 'bankId' | 'documentId' | 'tags' | 'query' | 'metadata';

const LIMITED_KIND = Symbol('memory:limited-input');

/** Marks a DTO property as one whose size the pipe bounds with the configured limit of its kind. */
export function LimitedInput(kind: LimitedKind): PropertyDecorator {
  return (target, property) => Reflect.defineMetadata(LIMITED_KIND, kind, target, property);
}

/** Path parameters are plain strings with no DTO to mark: their kind goes by name. */
const PARAM_KINDS: Record<string, LimitedKind> = { bank_id: 'bankId', document_id: 'documentId' };

type Loc = Array<string | number>;

export function inspectParam(name: string, value: unknown, limits: InputLimits): ValidationIssue[] {
  const loc: Loc = ['path', name];
  // A wildcard parameter (`*document_id`) arrives as its decoded segments; the id is their join.
  const text = Array.isArray(value) ? value.join('/') : value;
  if (typeof text !== 'string') return [];
  const reason = unstorableReason(text);
  if (reason) return [issue(loc, `${name} ${reason}`)];
  const kind = PARAM_KINDS[name];
  return kind ? checkLimit(kind, text, loc, limits) : [];
}

/** Every issue of `value` (a DTO instance, or whatever a route took), at `loc` and below. */
export function inspectInput(value: unknown, loc: Loc, limits: InputLimits): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  // Iterative, so that no shape of input can exhaust the stack here.
  const pending: Array<{ value: unknown; loc: Loc }> = [{ value, loc }];
  while (pending.length) {
    const node = pending.pop()!;
    if (typeof node.value === 'string') {
      const reason = unstorableReason(node.value);
      if (reason) issues.push(issue(node.loc, `${nameOf(node.loc)} ${reason}`));
      continue;
    }
    if (typeof node.value !== 'object' || node.value === null) continue;
    if (Array.isArray(node.value)) {
      node.value.forEach((child, index) => pending.push({ value: child, loc: [...node.loc, index] }));
      continue;
    }
    const owner = node.value as Record<string, unknown>;
    for (const key of Object.keys(owner)) {
      const reason = unstorableReason(key);
      if (reason) {
        issues.push(issue(node.loc, `${nameOf(node.loc)} keys ${reason}`));
        continue;
      }
      const childLoc = [...node.loc, key];
      const kind = Reflect.getMetadata(LIMITED_KIND, owner, key) as LimitedKind | undefined;
      if (kind && owner[key] != null) issues.push(...checkLimit(kind, owner[key], childLoc, limits));
      pending.push({ value: owner[key], loc: childLoc });
    }
  }
  // The walk is depth-first from the end; fields are reported in the order they were sent.
  return issues.reverse();
}

function checkLimit(kind: LimitedKind, value: unknown, loc: Loc, limits: InputLimits): ValidationIssue[] {
  const name = nameOf(loc);
  switch (kind) {
    case 'bankId':
      return tooLong(value, limits.maxBankIdLength, loc, name);
    case 'documentId':
      return tooLong(value, limits.maxDocumentIdLength, loc, name);
    case 'query':
      return tooLong(value, limits.maxQueryChars, loc, name);
    case 'tags': {
      if (!Array.isArray(value)) return [];
      if (value.length > limits.maxTags) return [issue(loc, `${name} must contain at most ${limits.maxTags} tags`)];
      return value.flatMap((tag, index) => tooLong(tag, limits.maxTagLength, [...loc, index], 'tag'));
    }
    case 'metadata': {
      if (typeof value !== 'object' || value === null) return [];
      const entries = Object.entries(value);
      if (entries.length > limits.maxMetadataKeys) return [issue(loc, `${name} must have at most ${limits.maxMetadataKeys} keys`)];
      const chars = entries.reduce((sum, [key, text]) => sum + key.length + (typeof text === 'string' ? text.length : 0), 0);
      if (chars > limits.maxMetadataChars) {
        return [issue(loc, `${name} must have at most ${limits.maxMetadataChars} characters in its keys and values together`)];
      }
      return [];
    }
  }
}

function tooLong(value: unknown, max: number, loc: Loc, name: string): ValidationIssue[] {
  return typeof value === 'string' && value.length > max ? [issue(loc, `${name} must be at most ${max} characters long`)] : [];
}

/** The field's own name: the last named segment of its `loc` (`tags`, not `3`). */
function nameOf(loc: Loc): string {
  const named = loc.filter((part): part is string => typeof part === 'string');
  return named.at(-1) ?? 'value';
}

function issue(loc: Loc, msg: string): ValidationIssue {
  return { loc, msg, type: 'value_error' };
}

/**
 * Whether a parsed value nests objects and arrays deeper than `max` (the value itself is level 1).
 * Checked before class-transformer, whose recursion a deep enough body would overflow.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const pending: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (pending.length) {
    const node = pending.pop()!;
    if (typeof node.value !== 'object' || node.value === null) continue;
    if (node.depth > max) return true;
    for (const child of Object.values(node.value)) pending.push({ value: child, depth: node.depth + 1 });
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The same bound on the raw text of a JSON body, before it is parsed: brackets and braces counted
 * outside strings. Works on the bytes of any ASCII-compatible encoding (UTF-8, the only one JSON
 * bodies use in practice); bytes of multi-byte characters never equal these.
 */
export function jsonTextNestsDeeperThan(body: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

export function tooDeepMessage(max: number): string {
  return `JSON nested deeper than ${max} levels of objects and arrays`;
}

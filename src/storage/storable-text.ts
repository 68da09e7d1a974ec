import { MemoryErrorCode, MemoryException } from '../memory.exception.js';

/**
 * What PostgreSQL's `text` and `jsonb` cannot hold: the NUL character, which they refuse
 * (`invalid byte sequence for encoding "UTF8": 0x00`), and a UTF-16 surrogate without its other
 * half, which has no UTF-8 encoding (jsonb refuses the `\ud800` escape; text would silently get
 * U+FFFD instead). Both are valid in a JSON string, so a parsed request can carry them.
 */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** Why the text cannot be stored, phrased to follow a field name; `null` when it can. */
export function unstorableReason(text: string): string | null {
  const match = UNSTORABLE.exec(text);
  if (!match) return null;
  return match[0] === '\u0000' ? 'must not contain the NUL character (\\u0000)' : 'must not contain an unpaired UTF-16 surrogate';
}

/** The text without its NUL characters and unpaired surrogates. */
export function stripUnstorable(text: string): string {
  return UNSTORABLE.test(text) ? text.replace(UNSTORABLE_ALL, '') : text;
}

/**
 * Throws the domain's invalid-input error (422 over HTTP, naming `field`) for text the database
 * cannot store. For services reached without the HTTP edge, whose validation pipe already refuses
 * such text in every request field.
 */
export function assertStorableText(value: string | null | undefined, field: string): void {
  if (typeof value !== 'string') return;
  const reason = unstorableReason(value);
  if (reason) throw new MemoryException(MemoryErrorCode.InvalidInput, `${field.split('.').at(-1)} ${reason}`, field);
}

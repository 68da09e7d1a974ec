const REDACTED = '[REDACTED]';

/**
 * Keys shorter than this are not searched for literally: no provider issues one, and a short
 * value such as `test` would blank out every occurrence of the word in a prompt.
 */
const MIN_LITERAL_SECRET_LENGTH = 8;

/** Credentials by their shape, whoever configured them: OpenAI-style keys, bearer tokens, `"api_key": "…"`. */
const SECRET_PATTERNS: ReadonlyArray<{ pattern: RegExp; replacement: string }> = [
  { pattern: /\bsk-[A-Za-z0-9_-]{8,}/g, replacement: REDACTED },
  { pattern: /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, replacement: `Bearer ${REDACTED}` },
  { pattern: /("api[_-]?key"\s*:\s*")(?:[^"\\]|\\.)*"/gi, replacement: `$1${REDACTED}"` },
];

/**
 * Removes secrets from text a trace keeps: the configured keys as written, then anything shaped
 * like a credential. A prompt quotes what users retained, and an error quotes what a provider
 * answered; either can carry a key.
 */
export class SecretRedactor {
  private readonly literals: string[];

  constructor(secrets: ReadonlyArray<string | undefined>) {
    // Longest first, so a key that contains another is replaced whole.
    this.literals = [...new Set(secrets.filter((secret): secret is string => !!secret && secret.length >= MIN_LITERAL_SECRET_LENGTH))].sort(
      (a, b) => b.length - a.length,
    );
  }

  redact(text: string): string {
    let redacted = text;
    for (const literal of this.literals) redacted = redacted.split(literal).join(REDACTED);
    for (const { pattern, replacement } of SECRET_PATTERNS) redacted = redacted.replace(pattern, replacement);
    return redacted;
  }
}

/** At most `maxChars` of the text, with a marker saying how much was cut. */
export function truncated(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}…[truncated ${text.length - maxChars} characters]`;
}

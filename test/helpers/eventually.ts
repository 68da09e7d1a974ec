/**
 * Polls `probe` until `accept` holds, and returns the accepted value; throws with the last value
 * seen once `timeoutMs` has passed. Tests wait for what they assert with this instead of
 * sleeping a guessed time: a fixed sleep is either too short on a loaded machine (the test
 * fails) or, when it is meant to prove that something did *not* happen, passes whatever happens.
 */
export async function eventually<T>(
  probe: () => Promise<T> | T,
  accept: (value: T) => boolean,
  timeoutMs = 15_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!accept(value)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms (last value: ${describe(value)})`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    value = await probe();
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 2000 ? `…${value.slice(-2000)}` : value;
  try {
    const text = JSON.stringify(value);
    return text && text.length > 2000 ? `${text.slice(0, 2000)}…` : String(text);
  } catch {
    return String(value);
  }
}

/** How many times `pattern` (a global regular expression) occurs in `text`. */
export function occurrences(text: string, pattern: RegExp): number {
  if (!pattern.global) throw new Error(`occurrences() needs a global pattern, got ${pattern}`);
  return text.match(pattern)?.length ?? 0;
}

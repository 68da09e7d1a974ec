/** Counts tokens as OpenAI's cl100k_base encoding does, so a budget means what an LLM will see. */
export interface TokenCounter {
  count(text: string): number;
}

let loading: Promise<TokenCounter> | undefined;

/** Special-token text such as "<|endoftext|>" in a memory is counted as ordinary text, not refused. */
const AS_ORDINARY_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * The encoding, loaded on first use and then shared; its ranks are bundled, never fetched, so
 * recall works offline.
 *
 * gpt-tokenizer rather than js-tiktoken: recall counts every candidate it may return (some 200
 * at the default budget) on the event loop, and js-tiktoken took 50 to 150 ms for 200 memories
 * of the benchmark corpus where gpt-tokenizer, which caches the encoding of the words it has
 * seen, takes 1 to 2 ms once a bank's vocabulary is warm. The counts are the same (the recall
 * test checks them against js-tiktoken).
 */
export function cl100kTokenCounter(): Promise<TokenCounter> {
  if (!loading) {
    loading = load();
    // A failed load must not stay cached: the next recall tries again.
    loading.catch(() => (loading = undefined));
  }
  return loading;
}

async function load(): Promise<TokenCounter> {
  const { countTokens } = await import('gpt-tokenizer/encoding/cl100k_base');
  return { count: (text) => countTokens(text, AS_ORDINARY_TEXT) };
}

/**
 * Keeps candidates in order while they fit. It stops at the first that does not, rather than
 * skipping to smaller ones further down, so that every returned memory outranks every dropped one.
 */
export function trimToTokenBudget<T>(ranked: T[], tokensOf: (item: T) => number, maxTokens: number): { kept: T[]; tokens: number } {
  const kept: T[] = [];
  let tokens = 0;
  for (const item of ranked) {
    const cost = tokensOf(item);
    if (tokens + cost > maxTokens) break;
    kept.push(item);
    tokens += cost;
  }
  return { kept, tokens };
}

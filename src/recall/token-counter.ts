import type { Tiktoken } from 'js-tiktoken/lite';

/** Counts tokens as OpenAI's cl100k_base encoding does, so a budget means what an LLM will see. */
export interface TokenCounter {
  count(text: string): number;
}

let loading: Promise<TokenCounter> | undefined;

/**
 * The encoding, loaded on first use and then shared. The ranks come from the package's bundled
 * module (about 1 MB, parsed once), never from the network, so recall works offline.
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
  const [{ Tiktoken: Encoding }, { default: ranks }] = await Promise.all([
    import('js-tiktoken/lite'),
    import('js-tiktoken/ranks/cl100k_base'),
  ]);
  const encoding: Tiktoken = new Encoding(ranks);
  return {
    // Special-token text such as "<|endoftext|>" in a memory is counted as ordinary text rather
    // than refused (the library's default throws on it).
    count: (text) => encoding.encode(text, [], []).length,
  };
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

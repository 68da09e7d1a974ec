/** Counts tokens as OpenAI's cl100k_base encoding does, so a budget means what an LLM will see. */
export interface TokenCounter {
  count(text: string): number;
}

let loading: Promise<TokenCounter> | undefined;
let loadingEncoder: Promise<(text: string) => number> | undefined;

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
    loading = cl100kEncoder().then((count) => new RememberingCounter(count));
    // A failed load must not stay cached: the next recall tries again.
    loading.catch(() => (loading = undefined));
  }
  return loading;
}

/**
 * The same encoding without the remembered counts: what writers use to store a memory's count
 * (`memoryTokens`), each text counted once, when it is written, so keeping it would only push
 * out the counts recall reuses.
 */
export async function cl100kStorageCounter(): Promise<TokenCounter> {
  return { count: await cl100kEncoder() };
}

function cl100kEncoder(): Promise<(text: string) => number> {
  if (!loadingEncoder) {
    loadingEncoder = import('gpt-tokenizer/encoding/cl100k_base').then(
      ({ countTokens }) =>
        (text: string) =>
          countTokens(text, AS_ORDINARY_TEXT),
    );
    loadingEncoder.catch(() => (loadingEncoder = undefined));
  }
  return loadingEncoder;
}

/**
 * What a memory costs a recall's token budget: its text, then its context if any. Stored with the
 * memory (`memory_units.tokens_cl100k`) by whoever writes it, so that recall reads the count rather
 * than counting; recall counts a row itself only where no count is stored.
 */
export function memoryTokens(counter: TokenCounter, memory: { text: string; context: string | null }): number {
  return counter.count(memory.text) + (memory.context ? counter.count(memory.context) : 0);
}

/** Characters of text whose counts are kept: some 20,000 memories of a typical sentence, a few MB. */
const REMEMBERED_CHARACTERS = 2_000_000;
/** A text longer than this (a whole document, not a memory) is counted every time rather than kept. */
export const LONGEST_REMEMBERED_TEXT = 20_000;

/**
 * Remembers whole texts' counts, least recently used out first. A bank is recalled over and over
 * and the same memories come back as candidates (a person's memories, for every question about
 * them), so most of a recall's counting is a count already made: even gpt-tokenizer's warm word
 * cache spent a few milliseconds per recall on the event loop re-encoding 200 candidates, which is
 * the queue every concurrent request waits in. Keyed by the text itself, so an edited memory is
 * simply a new key; texts too long to be worth keeping are counted every time.
 */
export class RememberingCounter implements TokenCounter {
  private readonly counts = new Map<string, number>();
  private characters = 0;

  constructor(
    private readonly countFresh: (text: string) => number,
    private readonly capacity = REMEMBERED_CHARACTERS,
  ) {}

  count(text: string): number {
    const known = this.counts.get(text);
    if (known !== undefined) {
      // Re-inserted: a Map iterates in insertion order, so the front is the least recently used.
      this.counts.delete(text);
      this.counts.set(text, known);
      return known;
    }
    const counted = this.countFresh(text);
    if (text.length > LONGEST_REMEMBERED_TEXT) return counted;
    this.counts.set(text, counted);
    this.characters += text.length;
    for (const [oldest] of this.counts) {
      if (this.characters <= this.capacity) break;
      this.counts.delete(oldest);
      this.characters -= oldest.length;
    }
    return counted;
  }
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

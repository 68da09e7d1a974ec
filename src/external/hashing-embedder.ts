import type { Embedder } from './embedder.js';
import type { ExternalCallGuard } from './external-call-guard.js';

export const DEFAULT_HASHING_DIMENSION = 384;

/*
 * Feature weights. Words carry the topic, so they set the scale. A word pair is more specific
 * than either word but repeats what its two words already contributed: 0.7 lets a shared phrase
 * add to the shared words without outweighing them. A word of n letters yields n trigrams, so
 * each must be light: at 0.4 a six-letter word's trigrams weigh about as much as the word itself,
 * enough for "memory"/"memories" or a typo to still meet, while an exact word match dominates.
 */
const WORD_WEIGHT = 1.0;
const BIGRAM_WEIGHT = 0.7;
const TRIGRAM_WEIGHT = 0.4;

// Letters or digits, with the combining marks that some scripts (Devanagari, Thai) need inside
// a word; NFKC first so that composed and decomposed accents tokenise alike.
const WORD = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Namespaces, so that the word "the" and the trigram "the" are different features.
const WORD_NAMESPACE = 0x57;
const BIGRAM_NAMESPACE = 0x42;
const TRIGRAM_NAMESPACE = 0x54;
const EMPTY_NAMESPACE = 0x45;
const SPACE = 0x20;

/** The lowercased words of a text, as the hashing embedder and the fake reranker see them. */
export function wordsOf(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(WORD) ?? [];
}

/**
 * The hashing embedding of one text: signed feature hashing of its words, word pairs and
 * character trigrams into `dimension` buckets, L2-normalised. Pure and deterministic, so that the
 * fake OpenAI server can return the very same vectors.
 *
 * Always a unit vector, never all zeros, because a zero vector has no cosine with anything
 * (pgvector returns NaN): a text without a single word is embedded as one fixed "no content"
 * feature, identical for every empty text and unrelated to any text with words.
 */
export function hashingVector(text: string, dimension: number): number[] {
  const buckets = new Float64Array(dimension);
  const words = wordsOf(text);
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    addFeature(buckets, hashString(hashCode(FNV_OFFSET, WORD_NAMESPACE), word), WORD_WEIGHT);
    if (i > 0) addFeature(buckets, bigramHash(words[i - 1], word), BIGRAM_WEIGHT);
    addTrigrams(buckets, word);
  }
  return normalised(buckets);
}

function bigramHash(first: string, second: string): number {
  const hash = hashString(hashCode(FNV_OFFSET, BIGRAM_NAMESPACE), first);
  return hashString(hashCode(hash, SPACE), second);
}

/** Trigrams of the word padded with a boundary on each side, over code points, not UTF-16 units. */
function addTrigrams(buckets: Float64Array, word: string): void {
  let before = SPACE;
  let current = -1;
  for (let i = 0; i < word.length;) {
    const next = word.codePointAt(i)!;
    i += next > 0xffff ? 2 : 1;
    if (current !== -1) {
      addFeature(buckets, trigramHash(before, current, next), TRIGRAM_WEIGHT);
      before = current;
    }
    current = next;
  }
  addFeature(buckets, trigramHash(before, current, SPACE), TRIGRAM_WEIGHT);
}

function trigramHash(a: number, b: number, c: number): number {
  return hashCode(hashCode(hashCode(hashCode(FNV_OFFSET, TRIGRAM_NAMESPACE), a), b), c);
}

/**
 * FNV-1a is fast on short keys but diffuses its low bits poorly, so the bucket and the sign come
 * from the murmur3 finaliser of it: the bucket from the low 31 bits, the sign from the top bit,
 * which keeps the two independent.
 */
function addFeature(buckets: Float64Array, hash: number, weight: number): void {
  const mixed = finalMix(hash);
  const bucket = (mixed & 0x7fffffff) % buckets.length;
  buckets[bucket] += mixed >>> 31 ? -weight : weight;
}

function normalised(buckets: Float64Array): number[] {
  let squares = 0;
  for (let i = 0; i < buckets.length; i++) squares += buckets[i] * buckets[i];
  if (squares === 0) {
    // No words, or (vanishingly rarely) features that cancelled out exactly.
    buckets.fill(0);
    addFeature(buckets, hashCode(FNV_OFFSET, EMPTY_NAMESPACE), 1);
    squares = 1;
  }
  const norm = Math.sqrt(squares);
  const vector = new Array<number>(buckets.length);
  for (let i = 0; i < buckets.length; i++) vector[i] = buckets[i] / norm;
  return vector;
}

function hashString(hash: number, text: string): number {
  for (let i = 0; i < text.length; i++) hash = hashCode(hash, text.charCodeAt(i));
  return hash;
}

function hashCode(hash: number, code: number): number {
  return Math.imul(hash ^ code, FNV_PRIME);
}

function finalMix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * The default embedder: no network, no model, good enough for lexical similarity.
 *
 * It still goes through the guard although it holds no connection open for long: a call site
 * that embeds inside a SQL scope is a bug the day a network embedder is configured, and this way
 * it fails the test suite on the default settings.
 */
export class HashingEmbedder implements Embedder {
  readonly provider = 'hashing' as const;

  constructor(
    private readonly guard: ExternalCallGuard,
    readonly dimension: number = DEFAULT_HASHING_DIMENSION,
  ) {
    if (!Number.isInteger(dimension) || dimension < 1) {
      throw new RangeError(`hashing embedder dimension must be a positive integer, got ${dimension}`);
    }
  }

  embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    return this.guard.call('embedder', 'embed', async () => {
      signal?.throwIfAborted();
      return texts.map((text) => hashingVector(text, this.dimension));
    });
  }
}

import { ExternalCallGuard } from '../../src/external/external-call-guard.js';
import { DEFAULT_HASHING_DIMENSION, HashingEmbedder, hashingVector } from '../../src/external/hashing-embedder.js';

function cosine(a: number[], b: number[]): number {
  return a.reduce((sum, value, i) => sum + value * b[i], 0);
}

function norm(vector: number[]): number {
  return Math.sqrt(cosine(vector, vector));
}

describe('HashingEmbedder', () => {
  const embedder = new HashingEmbedder(new ExternalCallGuard('strict'));

  it('returns the same vector for the same text, across calls and instances', async () => {
    const [first] = await embedder.embed(['Alice moved to Berlin in 2021']);
    const [again] = await new HashingEmbedder(new ExternalCallGuard()).embed(['Alice moved to Berlin in 2021']);
    expect(again).toEqual(first);
    expect(hashingVector('Alice moved to Berlin in 2021', DEFAULT_HASHING_DIMENSION)).toEqual(first);
  });

  it('returns one unit vector of the configured dimension per text, in input order', async () => {
    const texts = ['the first text', 'a second, different one', 'third'];
    const vectors = await new HashingEmbedder(new ExternalCallGuard(), 64).embed(texts);
    expect(vectors).toHaveLength(3);
    for (const [i, vector] of vectors.entries()) {
      expect(vector).toHaveLength(64);
      expect(norm(vector)).toBeCloseTo(1, 10);
      expect(vector).toEqual(hashingVector(texts[i], 64));
    }
    expect(embedder.dimension).toBe(384);
  });

  it('places texts about the same thing closer than unrelated ones', async () => {
    const [query, related, unrelated] = await embedder.embed([
      'The cat sat on the mat',
      'a cat was sitting on my mat',
      'Quarterly revenue grew in European markets',
    ]);
    expect(cosine(query, related)).toBeGreaterThan(0.25);
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated) + 0.25);
  });

  it('relates inflected forms and typos that share no word, through character trigrams', async () => {
    const [text, inflected, misspelt, unrelated] = await embedder.embed([
      'consolidation of memories',
      'consolidating memory',
      'consolidaton memries',
      'weather forecast today',
    ]);
    expect(cosine(text, inflected)).toBeGreaterThan(cosine(text, unrelated) + 0.2);
    expect(cosine(text, misspelt)).toBeGreaterThan(cosine(text, unrelated) + 0.2);
  });

  it('ignores case, punctuation and Unicode normalisation form', async () => {
    const [plain, shouted, decomposed] = await embedder.embed(['café au lait', 'CAFÉ, au LAIT!', 'cafe\u0301 au lait']);
    expect(shouted).toEqual(plain);
    expect(decomposed).toEqual(plain);
  });

  it('tells word order apart through word pairs', async () => {
    const [a, b] = await embedder.embed(['dog bites man', 'man bites dog']);
    expect(cosine(a, b)).toBeLessThan(0.999);
    expect(cosine(a, b)).toBeGreaterThan(0.5);
  });

  it('embeds a text without words as one fixed unit vector, unrelated to texts with words', async () => {
    const [empty, punctuation, text] = await embedder.embed(['', '  ?! … ', 'hello world']);
    expect(norm(empty)).toBeCloseTo(1, 10);
    expect(punctuation).toEqual(empty);
    expect(Math.abs(cosine(empty, text))).toBeLessThan(0.2);
  });

  it('refuses a dimension that is not a positive integer', () => {
    expect(() => new HashingEmbedder(new ExternalCallGuard(), 0)).toThrow(RangeError);
    expect(() => new HashingEmbedder(new ExternalCallGuard(), 12.5)).toThrow(RangeError);
  });

  it('embeds without a network or an event-loop turn per text', async () => {
    const texts = Array.from({ length: 2000 }, (_, i) => `memory number ${i} about project apollo and its launch schedule`);
    const started = performance.now();
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(2000);
    // ~10x headroom over a laptop: this only catches an accidental quadratic or per-text await.
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

/**
 * Turns texts into vectors of one fixed dimension, in input order. The dimension is part of the
 * store's schema, so an implementation must never return vectors of another size.
 */
export interface Embedder {
  readonly provider: 'hashing' | 'openai';
  readonly dimension: number;
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

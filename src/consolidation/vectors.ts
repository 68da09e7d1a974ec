/**
 * Embeddings as the driver hands them back: pgvector's text form `'[0.1,0.2]'`, or a `real[]`
 * parsed to numbers (some drivers give the array literal `'{0.1,0.2}'`).
 */
export function parseVector(value: unknown): number[] {
  if (Array.isArray(value)) return value.map(Number);
  if (typeof value === 'string') {
    const inner = value
      .trim()
      .replace(/^[[{]/, '')
      .replace(/[\]}]$/, '');
    return inner ? inner.split(',').map(Number) : [];
  }
  return [];
}

/** Vectors are stored L2-normalised, so the dot product is the cosine. */
export function cosine(a: number[], b: number[]): number {
  let dot = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) dot += a[i] * b[i];
  return dot;
}

/** Hindsight's default `retain_chunk_size`, in characters. */
export const DEFAULT_CHUNK_SIZE = 3000;

/**
 * Boundaries to cut at, best first: a chunk that ends mid-sentence gives the extractor half a
 * fact on each side, so a cut falls on the widest break that fits.
 */
const BREAKS: readonly RegExp[] = [/\n\s*\n/g, /\n/g, /[.!?…]["')\]]*\s+/g, /[;:,]\s+/g, /\s+/g];

/**
 * Splits text into chunks of at most `size` characters, cut at paragraph, line, sentence, clause
 * or word boundaries, in that order of preference (a word longer than a chunk is cut where it
 * must). The chunks concatenated give back the text, less the whitespace at the cuts, so every
 * fact extracted from a chunk is found in the stored text it points to.
 */
export function splitIntoChunks(text: string, size: number = DEFAULT_CHUNK_SIZE): string[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const chunks: string[] = [];
  let rest = text.trim();
  while (rest.length > size) {
    const cut = cutPoint(rest, size);
    const head = rest.slice(0, cut).trimEnd();
    if (head) chunks.push(head);
    rest = rest.slice(cut).trimStart();
  }
  if (rest) chunks.push(rest);
  return chunks;
}

/** Where the widest break ends within the first `size` characters; past the first quarter, so a chunk is never a sliver. */
function cutPoint(text: string, size: number): number {
  const window = text.slice(0, size + 1);
  const floor = Math.floor(size / 4);
  for (const pattern of BREAKS) {
    let best = -1;
    for (const match of window.matchAll(pattern)) {
      const end = match.index + match[0].length;
      // Its punctuation must fit; its whitespace may run past the window, as it is dropped at the cut.
      if (match.index > floor && match.index + match[0].trimEnd().length <= size) best = Math.min(end, size);
    }
    if (best > 0) return best;
  }
  return size;
}

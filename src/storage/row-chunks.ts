/**
 * Consecutive slices of at most `size` rows. Multi-row statements bind one array per column, so
 * their parameter count is fixed; this bounds each array, and so one message and one statement's
 * work.
 */
export function* inChunks<T>(rows: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < rows.length; start += size) yield rows.slice(start, start + size);
}

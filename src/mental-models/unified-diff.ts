/**
 * A unified diff of two texts, line by line, with three lines of context: what a dry run shows
 * between a model's content and the content a refresh would write. Empty when they are equal.
 * Quadratic in the number of lines, which a mental model (at most 8,192 tokens) keeps small.
 */
export function unifiedDiff(before: string, after: string, context = 3): string {
  if (before === after) return '';
  const a = before === '' ? [] : before.split('\n');
  const b = after === '' ? [] : after.split('\n');
  const ops = lineOps(a, b);
  const out: string[] = ['--- current', '+++ preview'];
  let i = 0;
  while (i < ops.length) {
    if (ops[i].kind === ' ') {
      i += 1;
      continue;
    }
    const start = Math.max(0, i - context);
    let end = i;
    // A hunk runs until more than twice the context separates two changes.
    for (let j = i; j < ops.length; j += 1) {
      if (ops[j].kind !== ' ') end = j;
      else if (j - end > context * 2) break;
    }
    const stop = Math.min(ops.length, end + context + 1);
    const hunk = ops.slice(start, stop);
    const aStart = ops[start].a;
    const bStart = ops[start].b;
    const aCount = hunk.filter((op) => op.kind !== '+').length;
    const bCount = hunk.filter((op) => op.kind !== '-').length;
    out.push(`@@ -${aCount ? aStart + 1 : aStart},${aCount} +${bCount ? bStart + 1 : bStart},${bCount} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.text}`);
    i = stop;
  }
  return `${out.join('\n')}\n`;
}

interface LineOp {
  kind: ' ' | '-' | '+';
  text: string;
  /** Lines of each side before this one. */
  a: number;
  b: number;
}

function lineOps(a: string[], b: string[]): LineOp[] {
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: LineOp[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', text: a[i], a: i, b: j });
      i += 1;
      j += 1;
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      ops.push({ kind: '+', text: b[j], a: i, b: j });
      j += 1;
    } else {
      ops.push({ kind: '-', text: a[i], a: i, b: j });
      i += 1;
    }
  }
  return ops;
}

import type { Sql } from '../../src/storage/memory-database.js';

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  /** With `analyze`: the pages the node read from the buffer pool, and from outside it. */
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

/**
 * Every node of the plan the server makes for a statement with its parameters bound, as it
 * would run it: the way the tests check which indexes recall's own statements (not copies) use.
 * With `analyze`, the statement is run, and each node says what it read.
 */
export async function planNodes(
  database: Pick<Sql, 'query'>,
  { text, values }: { text: string; values: unknown[] },
  { analyze = false } = {},
): Promise<PlanNode[]> {
  const [row] = await database.query<{ 'QUERY PLAN': unknown }>(
    `EXPLAIN (${analyze ? 'ANALYZE, BUFFERS, ' : ''}FORMAT JSON) ${text}`,
    values,
  );
  const output = row['QUERY PLAN'];
  // PGlite returns the JSON parsed, node-postgres as text.
  const [document] = (typeof output === 'string' ? JSON.parse(output) : output) as Array<{ Plan: PlanNode }>;
  return nodesOf(document.Plan);
}

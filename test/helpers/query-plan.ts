import type { Sql } from '../../src/storage/memory-database.js';

export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

/**
 * Every node of the plan the server makes for a statement with its parameters bound, as it
 * would run it: the way the tests check which indexes recall's own statements (not copies) use.
 */
export async function planNodes(database: Pick<Sql, 'query'>, { text, values }: { text: string; values: unknown[] }): Promise<PlanNode[]> {
  const [row] = await database.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, values);
  const output = row['QUERY PLAN'];
  // PGlite returns the JSON parsed, node-postgres as text.
  const [document] = (typeof output === 'string' ? JSON.parse(output) : output) as Array<{ Plan: PlanNode }>;
  return nodesOf(document.Plan);
}

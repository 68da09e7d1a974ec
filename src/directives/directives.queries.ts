import { SqlParams } from '../recall/arms/sql-params.js';
import { tagPredicate } from '../recall/arms/visible-memories.js';
import type { Sql } from '../storage/memory-database.js';
import type { DirectiveListFilter, DirectiveScope } from './directive.types.js';

export interface DirectiveRow {
  bank_id: string;
  id: string;
  name: string;
  content: string;
  priority: number;
  is_active: boolean;
  tags: string[];
  created_at: Date;
  updated_at: Date;
}

/** Highest priority first, as they are put into prompts; ties keep creation order. */
const ORDER = 'ORDER BY d.priority DESC, d.created_at, d.id';

export async function listDirectives(sql: Sql, bankId: string, filter: DirectiveListFilter): Promise<DirectiveRow[]> {
  const params = new SqlParams();
  const where = [`d.bank_id = ${params.add(bankId)}`];
  if (filter.activeOnly) where.push('d.is_active');
  // Global directives apply in every scope, so a scope filter always lists them.
  if (filter.tags.length > 0) where.push(`(cardinality(d.tags) = 0 OR ${tagPredicate('d.tags', filter.tags, filter.tagsMatch, params)})`);
  return sql.query<DirectiveRow>(
    `SELECT d.* FROM directives d WHERE ${where.join(' AND ')} ${ORDER}
      LIMIT ${params.add(filter.limit)} OFFSET ${params.add(filter.offset)}`,
    params.values,
  );
}

/** The active directives a prompt in this scope carries (see DirectiveScope). */
export async function applicableDirectives(sql: Sql, bankId: string, scope: DirectiveScope): Promise<DirectiveRow[]> {
  const params = new SqlParams();
  const where = [`d.bank_id = ${params.add(bankId)}`, 'd.is_active'];
  if (!scope.applyAll) {
    const tags = scope.tags ?? [];
    // Without tags only the global directives apply; `any` and `all` would otherwise match every row.
    const tagged = tags.length > 0 ? tagPredicate('d.tags', tags, scope.tagsMatch ?? 'any', params) : 'FALSE';
    where.push(`(cardinality(d.tags) = 0 OR ${tagged})`);
  }
  return sql.query<DirectiveRow>(`SELECT d.* FROM directives d WHERE ${where.join(' AND ')} ${ORDER}`, params.values);
}

export async function selectDirective(sql: Sql, bankId: string, id: string): Promise<DirectiveRow | undefined> {
  const [row] = await sql.query<DirectiveRow>(`SELECT * FROM directives WHERE bank_id = $1 AND id = $2::uuid`, [bankId, id]);
  return row;
}

export async function insertDirective(
  sql: Sql,
  directive: { bankId: string; name: string; content: string; priority: number; isActive: boolean; tags: string[] },
): Promise<DirectiveRow> {
  const [row] = await sql.query<DirectiveRow>(
    `INSERT INTO directives (bank_id, name, content, priority, is_active, tags)
     VALUES ($1, $2, $3, $4, $5, $6::text[])
     RETURNING *`,
    [directive.bankId, directive.name, directive.content, directive.priority, directive.isActive, directive.tags],
  );
  return row;
}

/** A null field is left as it is; undefined when the directive does not exist. */
export async function updateDirective(
  sql: Sql,
  bankId: string,
  id: string,
  fields: { name: string | null; content: string | null; priority: number | null; isActive: boolean | null; tags: string[] | null },
): Promise<DirectiveRow | undefined> {
  const [row] = await sql.query<DirectiveRow>(
    `UPDATE directives
        SET name = COALESCE($3, name), content = COALESCE($4, content), priority = COALESCE($5, priority),
            is_active = COALESCE($6, is_active), tags = COALESCE($7::text[], tags), updated_at = clock_timestamp()
      WHERE bank_id = $1 AND id = $2::uuid
      RETURNING *`,
    [bankId, id, fields.name, fields.content, fields.priority, fields.isActive, fields.tags],
  );
  return row;
}

/** Returns how many rows went (0 or 1). */
export async function deleteDirective(sql: Sql, bankId: string, id: string): Promise<number> {
  const { affected } = await sql.execute(`DELETE FROM directives WHERE bank_id = $1 AND id = $2::uuid`, [bankId, id]);
  return affected;
}

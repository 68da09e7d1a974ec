import type { DirectiveRow } from '../directives/directives.queries.js';
import type { ModelRow } from '../mental-models/mental-models.queries.js';
import type { Sql } from '../storage/memory-database.js';

/** Every model of the bank, by id: an export of an import lists them as the original did, whatever their creation times. */
export async function templateModels(sql: Sql, bankId: string): Promise<ModelRow[]> {
  return sql.query<ModelRow>(`SELECT * FROM mental_models WHERE bank_id = $1 ORDER BY id`, [bankId]);
}

/** Every directive of the bank, active or not, in the order prompts carry them. */
export async function templateDirectives(sql: Sql, bankId: string): Promise<DirectiveRow[]> {
  return sql.query<DirectiveRow>(`SELECT * FROM directives WHERE bank_id = $1 ORDER BY priority DESC, created_at, id`, [bankId]);
}

/** Which of these model ids the bank has. */
export async function existingModelIds(sql: Sql, bankId: string, ids: string[]): Promise<string[]> {
  const rows = await sql.query<{ id: string }>(`SELECT id FROM mental_models WHERE bank_id = $1 AND id = ANY($2::text[])`, [bankId, ids]);
  return rows.map((row) => row.id);
}

/**
 * The directive a template's name matches, per name: the oldest of that name, since the
 * directive routes let a bank hold several.
 */
export async function directivesByName(sql: Sql, bankId: string, names: string[]): Promise<Map<string, string>> {
  const rows = await sql.query<{ name: string; id: string }>(
    `SELECT DISTINCT ON (name) name, id FROM directives
      WHERE bank_id = $1 AND name = ANY($2::text[])
      ORDER BY name, created_at, id`,
    [bankId, names],
  );
  return new Map(rows.map((row) => [row.name, row.id]));
}

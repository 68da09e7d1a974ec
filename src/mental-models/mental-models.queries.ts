import { SqlParams } from '../recall/arms/sql-params.js';
import { groupsPredicate, sourcesVisible, tagPredicate } from '../recall/arms/visible-memories.js';
import type { TagsMatch } from '../recall/recall.types.js';
import type { TagGroup } from '../recall/tag-groups.js';
import type { ReflectFact } from '../reflect/reflect.types.js';
import type { Sql } from '../storage/memory-database.js';
import { MENTAL_MODEL_PLACEHOLDER, type MentalModelTrigger, REFRESH_MENTAL_MODEL } from './mental-model.types.js';

export interface ModelRow {
  bank_id: string;
  id: string;
  name: string;
  source_query: string;
  content: string | null;
  based_on: ReflectFact[];
  tags: string[];
  max_tokens: number;
  trigger: Partial<MentalModelTrigger>;
  last_refreshed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A model with a `refresh_cron`, and the moment from which its schedule counts. */
export interface ScheduledModelRow {
  bank_id: string;
  id: string;
  cron: string;
  since: Date;
}

/** The cron check's lock, held until the transaction ends; false when another instance holds it. */
export async function tryCronLock(sql: Sql): Promise<boolean> {
  const [{ locked }] = await sql.query<{ locked: boolean }>(
    `SELECT pg_try_advisory_xact_lock(hashtext('nestjs-memory:mental-model-cron')) AS locked`,
  );
  return locked;
}

/**
 * Every model with a `refresh_cron`, with the later of its last refresh (or creation) and its
 * last queued refresh: a refresh that failed waits for the next slot instead of being queued again
 * at every check. A queued cron refresh counts from the check that queued it (`cron_checked_at`).
 */
export async function scheduledModels(sql: Sql): Promise<ScheduledModelRow[]> {
  return sql.query<ScheduledModelRow>(
    `SELECT m.bank_id, m.id, m.trigger ->> 'refreshCron' AS cron,
            GREATEST(COALESCE(m.last_refreshed_at, m.created_at), m.created_at,
                     (SELECT max(GREATEST(o.created_at, COALESCE((o.payload ->> 'cron_checked_at')::timestamptz, o.created_at)))
                        FROM operations o
                       WHERE o.bank_id = m.bank_id AND o.kind = $1 AND o.payload ->> 'mental_model_id' = m.id)) AS since
       FROM mental_models m
      WHERE m.trigger ->> 'refreshCron' IS NOT NULL
      ORDER BY m.bank_id, m.id`,
    [REFRESH_MENTAL_MODEL],
  );
}

/**
 * Models whose tags pass the filter and, under a tag filter, whose every basis (and an
 * observation basis's sources) the same filter would show: a model's content repeats what it was
 * built from.
 */
export async function listModels(
  sql: Sql,
  bankId: string,
  filter: { tags: string[]; match: TagsMatch; limit: number; offset: number },
): Promise<ModelRow[]> {
  const { tags, match } = filter;
  const params = new SqlParams();
  const bank = params.add(bankId);
  const where = [`mm.bank_id = ${bank}`, tagPredicate('mm.tags', tags, match, params)];
  if (tags.length > 0 || match === 'exact') {
    where.push(`NOT EXISTS (
      SELECT 1 FROM jsonb_array_elements(mm.based_on) AS fact
        JOIN memory_units basis ON basis.bank_id = ${bank} AND basis.id = (fact->>'id')::uuid
       WHERE NOT (${tagPredicate('basis.tags', tags, match, params)} AND ${sourcesVisible('basis', tags, match, params)}))`);
  }
  return sql.query<ModelRow>(
    `SELECT mm.* FROM mental_models mm WHERE ${where.join(' AND ')}
      ORDER BY mm.created_at, mm.id LIMIT ${params.add(filter.limit)} OFFSET ${params.add(filter.offset)}`,
    params.values,
  );
}

export async function selectModel(sql: Sql, bankId: string, id: string): Promise<ModelRow | undefined> {
  const [row] = await sql.query<ModelRow>(`SELECT * FROM mental_models WHERE bank_id = $1 AND id = $2`, [bankId, id]);
  return row;
}

/** The model, locked for the caller's update. */
export async function lockModel(sql: Sql, bankId: string, id: string): Promise<ModelRow | undefined> {
  const [row] = await sql.query<ModelRow>(`SELECT * FROM mental_models WHERE bank_id = $1 AND id = $2 FOR UPDATE`, [bankId, id]);
  return row;
}

/** Inserts the model with the placeholder content; undefined when the id is taken in the bank. */
export async function insertModel(
  sql: Sql,
  model: { bankId: string; id: string; name: string; sourceQuery: string; tags: string[]; maxTokens: number; trigger: MentalModelTrigger },
): Promise<string | undefined> {
  const rows = await sql.query<{ id: string }>(
    `INSERT INTO mental_models (bank_id, id, name, source_query, content, tags, max_tokens, trigger)
     VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8::jsonb)
     ON CONFLICT (bank_id, id) DO NOTHING
     RETURNING id`,
    [
      model.bankId,
      model.id,
      model.name,
      model.sourceQuery,
      MENTAL_MODEL_PLACEHOLDER,
      model.tags,
      model.maxTokens,
      JSON.stringify(model.trigger),
    ],
  );
  return rows[0]?.id;
}

/** A null field is left as it is. */
export async function updateModel(
  sql: Sql,
  bankId: string,
  id: string,
  fields: {
    name: string | null;
    sourceQuery: string | null;
    maxTokens: number | null;
    tags: string[] | null;
    trigger: MentalModelTrigger | null;
  },
): Promise<ModelRow> {
  const [row] = await sql.query<ModelRow>(
    `UPDATE mental_models
        SET name = COALESCE($3, name), source_query = COALESCE($4, source_query), max_tokens = COALESCE($5, max_tokens),
            tags = COALESCE($6::text[], tags), trigger = COALESCE($7::jsonb, trigger), updated_at = now()
      WHERE bank_id = $1 AND id = $2
      RETURNING *`,
    [bankId, id, fields.name, fields.sourceQuery, fields.maxTokens, fields.tags, fields.trigger ? JSON.stringify(fields.trigger) : null],
  );
  return row;
}

/** Returns how many rows went (0 or 1). */
export async function deleteModel(sql: Sql, bankId: string, id: string): Promise<number> {
  const { affected } = await sql.execute(`DELETE FROM mental_models WHERE bank_id = $1 AND id = $2`, [bankId, id]);
  return affected;
}

/** Locks the model `FOR SHARE`, so it cannot be deleted before what the caller queues for it commits. */
export async function lockModelForRefresh(sql: Sql, bankId: string, id: string): Promise<boolean> {
  const [row] = await sql.query(`SELECT 1 FROM mental_models WHERE bank_id = $1 AND id = $2 FOR SHARE`, [bankId, id]);
  return row !== undefined;
}

/**
 * The models of the bank whose trigger asks for a refresh after consolidation and that have no
 * refresh waiting, locked until the caller's transaction ends.
 */
export async function modelsToRefreshAfterConsolidation(sql: Sql, bankId: string): Promise<string[]> {
  const models = await sql.query<{ id: string }>(
    `SELECT m.id FROM mental_models m
      WHERE m.bank_id = $1 AND (m.trigger ->> 'refreshAfterConsolidation')::boolean IS TRUE
        AND NOT EXISTS (SELECT 1 FROM operations o
                         WHERE o.bank_id = m.bank_id AND o.kind = $2 AND o.status = 'pending'
                           AND o.payload ->> 'mental_model_id' = m.id)
      ORDER BY m.id
      FOR UPDATE OF m`,
    [bankId, REFRESH_MENTAL_MODEL],
  );
  return models.map((model) => model.id);
}

/**
 * `basedOn` as stored (JSON-ready facts), with the change recorded in the model's history in the
 * caller's transaction. Returns how many rows changed: 0 when the model is gone.
 */
export async function writeRefreshedContent(
  sql: Sql,
  bankId: string,
  id: string,
  content: string,
  basedOn: Array<Record<string, unknown>>,
): Promise<number> {
  const [previous] = await sql.query<{ content: string | null }>(
    `SELECT content FROM mental_models WHERE bank_id = $1 AND id = $2 FOR UPDATE`,
    [bankId, id],
  );
  if (!previous) return 0;
  const { affected } = await sql.execute(
    `UPDATE mental_models SET content = $3, based_on = $4::jsonb, last_refreshed_at = now(), updated_at = now()
      WHERE bank_id = $1 AND id = $2`,
    [bankId, id, content, JSON.stringify(basedOn)],
  );
  await recordHistory(sql, bankId, id, previous.content, content, 'refresh');
  return affected;
}

/**
 * Empties the model so its next refresh starts from nothing, recording the change; undefined
 * when the model does not exist.
 */
export async function clearModelContent(sql: Sql, bankId: string, id: string): Promise<ModelRow | undefined> {
  const current = await lockModel(sql, bankId, id);
  if (!current) return undefined;
  const [row] = await sql.query<ModelRow>(
    `UPDATE mental_models SET content = NULL, based_on = '[]'::jsonb, last_refreshed_at = NULL, updated_at = now()
      WHERE bank_id = $1 AND id = $2
      RETURNING *`,
    [bankId, id],
  );
  await recordHistory(sql, bankId, id, current.content, null, 'clear');
  return row;
}

async function recordHistory(
  sql: Sql,
  bankId: string,
  id: string,
  previous: string | null,
  next: string | null,
  reason: 'refresh' | 'clear',
): Promise<void> {
  await sql.execute(
    `INSERT INTO mental_model_history (bank_id, mental_model_id, previous_content, new_content, reason)
     VALUES ($1, $2, $3, $4, $5)`,
    [bankId, id, previous, next, reason],
  );
}

export interface HistoryRow {
  previous_content: string | null;
  new_content: string | null;
  reason: 'refresh' | 'clear';
  changed_at: Date;
}

/** Newest first. */
export async function selectHistory(sql: Sql, bankId: string, id: string): Promise<HistoryRow[]> {
  return sql.query<HistoryRow>(
    `SELECT previous_content, new_content, reason, changed_at FROM mental_model_history
      WHERE bank_id = $1 AND mental_model_id = $2
      ORDER BY changed_at DESC, id`,
    [bankId, id],
  );
}

/**
 * Whether a live memory of the model's scope (its fact types, its tags as its refresh matches
 * them) was written after `since`; any such memory counts when the model was never refreshed.
 */
export async function memoriesWrittenSince(
  sql: Sql,
  bankId: string,
  scope: { since: Date | null; types: string[] | null; tags: string[]; tagsMatch: TagsMatch; tagGroups: TagGroup[] | null },
): Promise<boolean> {
  const params = new SqlParams();
  const where = [
    `m.bank_id = ${params.add(bankId)}`,
    `m.state = 'valid'`,
    tagPredicate('m.tags', scope.tags, scope.tagsMatch, params),
    groupsPredicate('m.tags', scope.tagGroups ?? undefined, params),
  ];
  if (scope.since) where.push(`m.created_at > ${params.add(scope.since)}`);
  if (scope.types && scope.types.length > 0) where.push(`m.fact_type = ANY(${params.add(scope.types)}::text[])`);
  const [row] = await sql.query<{ stale: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM memory_units m WHERE ${where.join(' AND ')}) AS stale`,
    params.values,
  );
  return row.stale;
}

/** The newest `created_at` among the live memories of the scope: what a refresh now would be current to. */
export async function newestMemoryOfScope(
  sql: Sql,
  bankId: string,
  scope: { types: string[] | null; tags: string[]; tagsMatch: TagsMatch; tagGroups: TagGroup[] | null },
): Promise<{ newest: Date | null; now: Date }> {
  const params = new SqlParams();
  const where = [
    `m.bank_id = ${params.add(bankId)}`,
    `m.state = 'valid'`,
    tagPredicate('m.tags', scope.tags, scope.tagsMatch, params),
    groupsPredicate('m.tags', scope.tagGroups ?? undefined, params),
  ];
  if (scope.types && scope.types.length > 0) where.push(`m.fact_type = ANY(${params.add(scope.types)}::text[])`);
  const [row] = await sql.query<{ newest: Date | null; now: Date }>(
    `SELECT (SELECT max(m.created_at) FROM memory_units m WHERE ${where.join(' AND ')}) AS newest, now() AS now`,
    params.values,
  );
  return row;
}

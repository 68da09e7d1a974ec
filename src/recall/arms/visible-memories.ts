import type { FactType, TagsMatch } from '../recall.types.js';
import { type TagGroup, tagGroupsPredicate } from '../tag-groups.js';
import type { SqlParams } from './sql-params.js';

/** Which memories one recall may see; every arm and every follow-up query applies the same one. */
export interface RecallScope {
  bankId: string;
  types: readonly FactType[];
  /** Deduplicated; empty when the request named none. */
  tags: readonly string[];
  tagsMatch: TagsMatch;
  /** AND-ed with `tags`; none when the request named none. */
  tagGroups?: readonly TagGroup[];
}

/**
 * The WHERE condition for memories of `scope` under alias `alias`: live (`state = 'valid'`) rows
 * of the bank, of the requested fact types, passing the tag filter, and for an observation, built
 * only from memories that pass it too.
 */
export function visibleMemories(alias: string, scope: RecallScope, params: SqlParams): string {
  return [
    `${alias}.bank_id = ${params.add(scope.bankId)}`,
    `${alias}.state = 'valid'`,
    `${alias}.fact_type = ANY(${params.add([...scope.types])}::text[])`,
    tagPredicate(`${alias}.tags`, scope.tags, scope.tagsMatch, params),
    groupsPredicate(`${alias}.tags`, scope.tagGroups, params),
    sourcesVisible(alias, scope.tags, scope.tagsMatch, params, scope.tagGroups),
  ].join(' AND ');
}

/** The request's `tag_groups` on a tags column, built from the same leaf as `tagPredicate`. */
export function groupsPredicate(column: string, groups: readonly TagGroup[] | undefined, params: SqlParams): string {
  return tagGroupsPredicate(column, groups ?? [], params, tagPredicate);
}

/**
 * An observation repeats what its sources say, so it is shown only where every one of them would
 * be: its own tags are its scope, and a scope (`shared`, `per_tag`, an explicit list) may be
 * wider than some source's tags. Raw memories, and reads with no tag filter, pass as they are.
 * The other half of the guarantee that a tag filter never shows another scope's text
 * (docs/ARCHITECTURE.md, "Observation scopes"); consolidation is the first.
 */
export function sourcesVisible(
  alias: string,
  tags: readonly string[],
  match: TagsMatch,
  params: SqlParams,
  groups: readonly TagGroup[] = [],
): string {
  if (tags.length === 0 && match !== 'exact' && groups.length === 0) return 'TRUE';
  return `(${alias}.fact_type <> 'observation' OR NOT EXISTS (
            SELECT 1 FROM memory_units source
             WHERE source.id = ANY(${alias}.source_memory_ids)
               AND NOT (${tagPredicate('source.tags', tags, match, params)} AND ${groupsPredicate('source.tags', groups, params)})))`;
}

/**
 * The tag filter, in one place so that no arm can disagree with another about visibility.
 *
 * Tags usually scope memories to a user or a session, so a strict mode must never let an
 * untagged memory through. With no tags requested only `exact` filters (to untagged memories):
 * "any of nothing" would otherwise mean "nothing", which no caller means by omitting tags.
 */
export function tagPredicate(column: string, tags: readonly string[], match: TagsMatch, params: SqlParams): string {
  if (tags.length === 0) return match === 'exact' ? `cardinality(${column}) = 0` : 'TRUE';
  const requested = `${params.add([...tags])}::text[]`;
  switch (match) {
    case 'any':
      return `(${column} && ${requested} OR cardinality(${column}) = 0)`;
    case 'all':
      return `(${column} @> ${requested} OR cardinality(${column}) = 0)`;
    case 'any_strict':
      // Overlap with a non-empty set already implies the memory is tagged.
      return `${column} && ${requested}`;
    case 'all_strict':
      return `${column} @> ${requested}`;
    case 'exact':
      // Set equality: order and duplicates in the stored array do not matter.
      return `(${column} @> ${requested} AND ${column} <@ ${requested})`;
    default: {
      const unknown: never = match;
      throw new Error(`unknown tags match '${String(unknown)}'`);
    }
  }
}

import type { SqlParams } from './arms/sql-params.js';
import { TAGS_MATCHES, type TagsMatch } from './recall.types.js';

/**
 * Hindsight's compound tag filter (`tag_groups`): a leaf `{tags, match}` or `{and: [...]}`,
 * `{or: [...]}`, `{not: ...}`. The groups of a request are AND-ed with each other and with its
 * `tags`/`tags_match`.
 */
export type TagGroup = { tags: string[]; match: TagsMatch } | { and: TagGroup[] } | { or: TagGroup[] } | { not: TagGroup };

/** Hindsight's default for a leaf, stricter than `tags_match`'s: a leaf names tags to require. */
const LEAF_DEFAULT_MATCH: TagsMatch = 'any_strict';
/** A filter is a few groups deep; past these it is an attack on the planner, not a question. */
const MAX_DEPTH = 8;
const MAX_NODES = 64;

export class InvalidTagGroupError extends Error {}

/**
 * Checks a request's `tag_groups` as it arrived on the wire, naming the first bad field by its
 * path (`tag_groups[1].or[0].match`), and returns them typed.
 */
export function parseTagGroups(value: unknown, field = 'tag_groups'): TagGroup[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidTagGroupError(`${field} must be a list of tag groups`);
  const budget = { nodes: 0 };
  return value.map((group, index) => parseGroup(group, `${field}[${index}]`, 1, budget));
}

function parseGroup(value: unknown, path: string, depth: number, budget: { nodes: number }): TagGroup {
  budget.nodes += 1;
  if (budget.nodes > MAX_NODES) throw new InvalidTagGroupError(`tag_groups has more than ${MAX_NODES} groups`);
  if (depth > MAX_DEPTH) throw new InvalidTagGroupError(`${path} nests deeper than ${MAX_DEPTH} levels`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidTagGroupError(`${path} must be an object with tags, and, or, or not`);
  }
  const keys = Object.keys(value);
  const record = value as Record<string, unknown>;
  const kind = ['tags', 'and', 'or', 'not'].filter((key) => key in record);
  if (kind.length !== 1)
    throw new InvalidTagGroupError(`${path} must have exactly one of tags, and, or, not (got ${keys.join(', ') || 'none'})`);
  const allowed = kind[0] === 'tags' ? ['tags', 'match'] : kind;
  const unknown = keys.find((key) => !allowed.includes(key));
  if (unknown)
    throw new InvalidTagGroupError(`${path}.${unknown} is not a field of a ${kind[0] === 'tags' ? 'leaf' : `'${kind[0]}'`} tag group`);

  switch (kind[0]) {
    case 'tags': {
      const tags = record.tags;
      if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) {
        throw new InvalidTagGroupError(`${path}.tags must be a list of strings`);
      }
      const match = record.match ?? LEAF_DEFAULT_MATCH;
      if (!TAGS_MATCHES.includes(match as TagsMatch)) {
        throw new InvalidTagGroupError(`${path}.match must be one of ${TAGS_MATCHES.join(', ')}`);
      }
      return { tags: [...new Set(tags as string[])], match: match as TagsMatch };
    }
    case 'and':
    case 'or': {
      const children = record[kind[0]];
      if (!Array.isArray(children) || children.length === 0) {
        throw new InvalidTagGroupError(`${path}.${kind[0]} must be a non-empty list of tag groups`);
      }
      const parsed = children.map((child, index) => parseGroup(child, `${path}.${kind[0]}[${index}]`, depth + 1, budget));
      return kind[0] === 'and' ? { and: parsed } : { or: parsed };
    }
    default:
      return { not: parseGroup(record.not, `${path}.not`, depth + 1, budget) };
  }
}

/**
 * The SQL condition of `groups` on a `text[]` column; each leaf is the same predicate as the
 * request's own `tags`/`tags_match` (`leafPredicate`), so the two can never disagree.
 */
export function tagGroupsPredicate(
  column: string,
  groups: readonly TagGroup[],
  params: SqlParams,
  leafPredicate: (column: string, tags: readonly string[], match: TagsMatch, params: SqlParams) => string,
): string {
  const render = (group: TagGroup): string => {
    if ('tags' in group) return `(${leafPredicate(column, group.tags, group.match, params)})`;
    if ('and' in group) return `(${group.and.map(render).join(' AND ')})`;
    if ('or' in group) return `(${group.or.map(render).join(' OR ')})`;
    return `(NOT ${render(group.not)})`;
  };
  return groups.length === 0 ? 'TRUE' : groups.map(render).join(' AND ');
}

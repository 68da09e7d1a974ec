/**
 * Observation scopes: which memories may be consolidated together, and what an observation is
 * tagged with. Tags are how callers keep one user's memories from another's inside a bank, so a
 * scope is a privacy boundary: an observation is built from memories of one scope only, and its
 * tags are that scope (docs/ARCHITECTURE.md, "Observation scopes").
 *
 * The modes are Hindsight's `observation_scopes` on retain:
 * - `combined` (the default): one scope, the memory's whole tag set;
 * - `per_tag`: one scope per tag;
 * - `all_combinations`: one scope per non-empty subset of the tags;
 * - `shared`: one untagged scope (the tags stay on the memory itself);
 * - an explicit list of tag lists: one scope per list.
 * A memory without tags has the one untagged scope in every mode.
 */

export const OBSERVATION_SCOPE_MODES = ['combined', 'per_tag', 'all_combinations', 'shared'] as const;
export type ObservationScopeMode = (typeof OBSERVATION_SCOPE_MODES)[number];

/** What a caller may ask for on retain; `null` or absent means `combined`. */
export type ObservationScopesSpec = ObservationScopeMode | string[][];

/** An exact tag set in canonical order: the scope's identity and the tags of its observations. */
export type Scope = readonly string[];

/** `all_combinations` over n tags makes 2^n − 1 scopes: bounded so one memory cannot ask for millions. */
export const MAX_ALL_COMBINATIONS_TAGS = 6;
/** An explicit list of scopes is bounded for the same reason. */
export const MAX_EXPLICIT_SCOPES = 32;

/**
 * Canonical order: by code point, so that the same set always gives the same array whatever
 * order the caller wrote it in, independently of any database collation.
 */
export function canonicalScope(tags: Iterable<string>): string[] {
  return [...new Set(tags)].sort(compareCodePoints);
}

/** A scope's key: stable, unambiguous for any tag text, and what `consolidated_scopes` stores. */
export function scopeKey(scope: Scope): string {
  return JSON.stringify(canonicalScope(scope));
}

export function sameScope(a: Scope, b: Scope): boolean {
  return scopeKey(a) === scopeKey(b);
}

/** The scopes a memory with these tags is consolidated in, each once, in a stable order. */
export function scopesOf(tags: readonly string[], spec: ObservationScopesSpec | null | undefined): string[][] {
  const own = canonicalScope(tags);
  const mode = spec ?? 'combined';
  if (own.length === 0 || mode === 'shared') return [[]];
  let scopes: string[][];
  if (Array.isArray(mode)) scopes = mode.map((scope) => canonicalScope(scope));
  else if (mode === 'combined') scopes = [own];
  else if (mode === 'per_tag') scopes = own.map((tag) => [tag]);
  else scopes = nonEmptySubsets(own);
  const byKey = new Map(scopes.map((scope) => [scopeKey(scope), scope]));
  return [...byKey.values()];
}

/**
 * Checks a retain item's `observation_scopes` and returns it in stored form (`null` for the
 * default). An explicit scope may only name tags the memory carries: a scope made of other tags
 * would file the memory's text under somebody else's tags.
 */
export function parseScopesSpec(value: unknown, tags: readonly string[]): { spec: ObservationScopesSpec | null } | { error: string } {
  if (value === undefined || value === null) return { spec: null };
  if (typeof value === 'string') {
    if (!(OBSERVATION_SCOPE_MODES as readonly string[]).includes(value)) {
      return { error: `must be one of ${OBSERVATION_SCOPE_MODES.join(', ')}, or a list of tag lists` };
    }
    if (value === 'all_combinations' && canonicalScope(tags).length > MAX_ALL_COMBINATIONS_TAGS) {
      return { error: `all_combinations allows at most ${MAX_ALL_COMBINATIONS_TAGS} tags on the item` };
    }
    return { spec: value === 'combined' ? null : (value as ObservationScopeMode) };
  }
  if (!Array.isArray(value) || value.some((scope) => !Array.isArray(scope) || scope.some((tag) => typeof tag !== 'string'))) {
    return { error: `must be one of ${OBSERVATION_SCOPE_MODES.join(', ')}, or a list of tag lists` };
  }
  if (value.length === 0) return { error: 'an explicit list needs at least one tag list' };
  if (value.length > MAX_EXPLICIT_SCOPES) return { error: `at most ${MAX_EXPLICIT_SCOPES} tag lists` };
  const carried = new Set(tags);
  for (const scope of value as string[][]) {
    const foreign = scope.find((tag) => !carried.has(tag));
    if (foreign !== undefined) return { error: `names tag '${foreign}', which the item does not carry` };
  }
  return { spec: (value as string[][]).map((scope) => canonicalScope(scope)) };
}

function nonEmptySubsets(tags: string[]): string[][] {
  const subsets: string[][] = [];
  for (let mask = 1; mask < 1 << tags.length; mask += 1) subsets.push(tags.filter((_, index) => mask & (1 << index)));
  return subsets.sort((a, b) => a.length - b.length || compareCodePoints(scopeKey(a), scopeKey(b)));
}

function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    const difference = left[index].codePointAt(0)! - right[index].codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

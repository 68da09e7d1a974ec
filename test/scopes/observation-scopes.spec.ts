import { canonicalScope, parseScopesSpec, scopeKey, scopesOf } from '../../src/consolidation/observation-scopes.js';

describe('observation scopes', () => {
  it('derives the scopes of each mode from the tags', () => {
    expect(scopesOf(['b', 'a'], null)).toEqual([['a', 'b']]);
    expect(scopesOf(['b', 'a'], 'combined')).toEqual([['a', 'b']]);
    expect(scopesOf(['b', 'a'], 'per_tag')).toEqual([['a'], ['b']]);
    expect(scopesOf(['c', 'b', 'a'], 'all_combinations')).toEqual([
      ['a'],
      ['b'],
      ['c'],
      ['a', 'b'],
      ['a', 'c'],
      ['b', 'c'],
      ['a', 'b', 'c'],
    ]);
    expect(scopesOf(['b', 'a'], 'shared')).toEqual([[]]);
    expect(scopesOf(['b', 'a'], [['b'], ['a', 'b'], ['b', 'a']])).toEqual([['b'], ['a', 'b']]);
    for (const mode of ['combined', 'per_tag', 'all_combinations', 'shared'] as const) expect(scopesOf([], mode)).toEqual([[]]);
  });

  it('keys a scope by its set, in code-point order whatever the input order', () => {
    expect(canonicalScope(['\u{1F600}', '\uFFFD', 'a', 'a'])).toEqual(['a', '\uFFFD', '\u{1F600}']);
    expect(scopeKey(['y', 'x'])).toBe(scopeKey(['x', 'y', 'x']));
    expect(scopeKey(['a,b'])).not.toBe(scopeKey(['a', 'b']));
  });

  it('accepts the modes and explicit lists of carried tags, and says what is wrong otherwise', () => {
    expect(parseScopesSpec(undefined, ['a'])).toEqual({ spec: null });
    expect(parseScopesSpec('combined', ['a'])).toEqual({ spec: null });
    expect(parseScopesSpec('per_tag', ['a'])).toEqual({ spec: 'per_tag' });
    expect(parseScopesSpec([['b', 'a'], []], ['a', 'b'])).toEqual({ spec: [['a', 'b'], []] });
    expect(parseScopesSpec('everything', ['a'])).toEqual({ error: expect.stringContaining('per_tag') });
    expect(parseScopesSpec([['user:ivan']], ['user:julia'])).toEqual({ error: "names tag 'user:ivan', which the item does not carry" });
    expect(parseScopesSpec([], ['a'])).toEqual({ error: expect.stringContaining('at least one') });
    expect(parseScopesSpec([[1]], ['a'])).toEqual({ error: expect.stringContaining('list of tag lists') });
    expect(parseScopesSpec('all_combinations', ['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toEqual({
      error: expect.stringContaining('at most 6'),
    });
  });
});

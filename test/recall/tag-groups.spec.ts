import { HindsightClient } from '@vectorize-io/hindsight-client';
import { parseTagGroups } from '../../src/recall/tag-groups.js';
import { eventually } from '../helpers/eventually.js';
import { call, startHttpApp, type HttpApp } from '../http/http-app.js';

describe('parseTagGroups', () => {
  it('types a valid filter, with any_strict as a leaf default', () => {
    expect(parseTagGroups([{ or: [{ tags: ['a'] }, { not: { tags: ['b', 'b'], match: 'all' } }] }])).toEqual([
      { or: [{ tags: ['a'], match: 'any_strict' }, { not: { tags: ['b'], match: 'all' } }] },
    ]);
    expect(parseTagGroups(undefined)).toEqual([]);
  });

  it.each([
    [{ and: [] }, 'tag_groups[0].and must be a non-empty list'],
    [{ tags: ['a'], match: 'some' }, 'tag_groups[0].match must be one of'],
    [{ or: [{ tags: 'a' }] }, 'tag_groups[0].or[0].tags must be a list of strings'],
    [{ tags: ['a'], and: [] }, 'tag_groups[0] must have exactly one of'],
    [{ not: { tags: ['a'], extra: 1 } }, 'tag_groups[0].not.extra is not a field'],
    [{ not: 'a' }, 'tag_groups[0].not must be an object'],
  ])('names the bad field of %j', (group, message) => {
    expect(() => parseTagGroups([group])).toThrow(message);
  });

  it('refuses a filter nested past its limits', () => {
    let deep: unknown = { tags: ['a'] };
    for (let level = 0; level < 10; level += 1) deep = { not: deep };
    expect(() => parseTagGroups([deep])).toThrow('nests deeper than 8 levels');
    expect(() => parseTagGroups(Array.from({ length: 65 }, () => ({ tags: ['a'] })))).toThrow('more than 64 groups');
  });
});

/**
 * `tag_groups` and `prefer_observations` through Hindsight's own client against the server in
 * process, on the embedded default (no LLM: consolidation clusters near-duplicates).
 */
describe('recall with tag_groups and prefer_observations (PGlite, HTTP)', () => {
  let http: HttpApp;
  let client: HindsightClient;
  const bank = (id: string) => `/v1/default/banks/${id}`;

  beforeAll(async () => {
    http = await startHttpApp({ DATABASE_URL: `pglite://memory/tag-groups-${process.pid}` });
    client = new HindsightClient({ baseUrl: http.url });
    await client.retainBatch('teams', [
      { content: 'Ivan drinks green tea every morning.', tags: ['user:ivan', 'team:red'] },
      { content: 'Julia drinks black coffee every morning.', tags: ['user:julia', 'team:red'] },
      { content: 'Olga drinks mint tea every morning.', tags: ['user:olga', 'team:blue'] },
      { content: 'Everyone drinks water every morning.' },
    ]);
  });

  afterAll(async () => {
    await http?.close();
  });

  async function consolidate(bankId: string): Promise<void> {
    const queued = await call(http.url, 'POST', `${bank(bankId)}/consolidate`);
    expect(queued.status).toBe(200);
    const done = await eventually(
      () => call(http.url, 'GET', `${bank(bankId)}/operations/${queued.body.operation_id}`),
      (response) => response.body.status === 'completed' || response.body.status === 'failed',
      20_000,
    );
    expect(done.body.status).toBe('completed');
  }

  async function texts(tagGroups: unknown[]): Promise<string[]> {
    const answer = await client.recall('teams', 'What does everyone drink every morning?', { tagGroups: tagGroups as never });
    return answer.results.map((result) => result.text).sort();
  }

  it('ANDs the groups, ORs within an or, negates a not, and leaves untagged memories out of a strict leaf', async () => {
    expect(await texts([{ or: [{ tags: ['user:ivan'] }, { tags: ['user:olga'] }] }])).toEqual([
      'Ivan drinks green tea every morning.',
      'Olga drinks mint tea every morning.',
    ]);
    expect(await texts([{ tags: ['team:red'] }, { not: { tags: ['user:julia'] } }])).toEqual(['Ivan drinks green tea every morning.']);
    expect(await texts([{ tags: ['team:blue'], match: 'any' }])).toEqual([
      'Everyone drinks water every morning.',
      'Olga drinks mint tea every morning.',
    ]);
  });

  it('applies on top of tags and tags_match', async () => {
    const answer = await client.recall('teams', 'What does everyone drink every morning?', {
      tags: ['team:red'],
      tagsMatch: 'any_strict',
      tagGroups: [{ not: { tags: ['user:ivan'] } }] as never,
    });
    expect(answer.results.map((result) => result.text)).toEqual(['Julia drinks black coffee every morning.']);
  });

  it('answers a malformed filter with a 422 naming the field, as a FastAPI validation error, and stores nothing', async () => {
    const before = (await call(http.url, 'GET', `${bank('teams')}/memories/list`)).body.total;
    const response = await call(http.url, 'POST', `${bank('teams')}/memories/recall`, {
      query: 'tea',
      tag_groups: [{ or: [{ tags: ['user:ivan'], match: 'most' }] }],
    });
    expect(response.status).toBe(422);
    expect(response.body.detail[0].msg).toContain('tag_groups[0].or[0].match');
    expect((await call(http.url, 'GET', `${bank('teams')}/memories/list`)).body.total).toBe(before);
  });

  it('hides an observation when one of its sources fails a group, whatever the observation is tagged', async () => {
    // A shared scope builds one untagged observation from facts of two users.
    await call(http.url, 'POST', `${bank('shared')}/memories`, {
      items: [
        { content: "The team's locker code is 4419.", tags: ['user:ivan', 'team:red'], observation_scopes: 'shared' },
        { content: "The team's locker code is 4419, as said again.", tags: ['user:julia', 'team:red'], observation_scopes: 'shared' },
      ],
    });
    await consolidate('shared');
    const observations = async (tagGroups: unknown[]) => {
      const response = await call(http.url, 'POST', `${bank('shared')}/memories/recall`, {
        query: 'locker code',
        types: ['observation'],
        tag_groups: tagGroups,
      });
      expect(response.status).toBe(200);
      return response.body.results;
    };
    expect(await observations([{ tags: ['team:red'], match: 'any' }])).toHaveLength(1);
    expect(await observations([{ tags: ['team:red'], match: 'any' }, { not: { tags: ['user:julia'] } }])).toEqual([]);
  });

  it("prefer_observations gives a raw fact's place to the observation built from it", async () => {
    await call(http.url, 'POST', `${bank('prefer')}/memories`, {
      items: [
        { content: "Mara's bike is a red Bianchi road bike." },
        { content: "Mara's bike is a red Bianchi road bike, she repeated." },
        { content: 'Tomas rides a blue city bike to work.' },
      ],
    });
    await consolidate('prefer');
    const recall = async (preferObservations: boolean) =>
      (
        await call(http.url, 'POST', `${bank('prefer')}/memories/recall`, {
          query: "What is Mara's bike?",
          types: ['world', 'observation'],
          prefer_observations: preferObservations,
        })
      ).body.results as Array<{ id: string; type: string; text: string }>;

    const plain = await recall(false);
    const observation = plain.find((result) => result.type === 'observation');
    expect(observation).toBeDefined();
    const sources = (await call(http.url, 'GET', `${bank('prefer')}/memories/${observation!.id}`)).body.source_memory_ids as string[];
    expect(sources.length).toBeGreaterThan(0);
    expect(plain.some((result) => sources.includes(result.id))).toBe(true);

    const preferred = await recall(true);
    expect(preferred.map((result) => result.id)).toContain(observation!.id);
    expect(preferred.some((result) => sources.includes(result.id))).toBe(false);
    expect(preferred.map((result) => result.text)).toContain('Tomas rides a blue city bike to work.');
  });
});

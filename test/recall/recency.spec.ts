import type { INestApplicationContext } from '@nestjs/common';
import { MemoriesService } from '../../src/memories/memories.service.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { type AnswerFacts, contentWords, preferNewerAnswers, stem } from '../../src/recall/recency.js';
import type { FusedCandidate } from '../../src/recall/reciprocal-rank-fusion.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { bootOnPglite } from '../helpers/memory-app.js';

const LENA = { entityId: 'e-lena', canonicalName: 'lena park' };
const TOM = { entityId: 'e-tom', canonicalName: 'tom berg' };
const OSLO = { entityId: 'e-oslo', canonicalName: 'oslo' };

/** Candidates in the fused order given, scores decreasing from 1. */
function fusedOf(ids: string[]): FusedCandidate[] {
  return ids.map((id, index) => ({ id, score: 1 - index / 10, armRanks: { keyword: index + 1 }, armScores: { keyword: 1 } }));
}

function fact(text: string, year: number, entities: AnswerFacts['entities'] = [LENA], superseded = false): AnswerFacts {
  return { text, time: new Date(`${year}-06-01T00:00:00Z`), entities, superseded };
}

const order = (candidates: FusedCandidate[]) => candidates.map((candidate) => candidate.id);

describe('preferNewerAnswers', () => {
  const facts = new Map<string, AnswerFacts>([
    ['half', fact('Lena Park is training for a half marathon.', 2023)],
    ['full', fact('Lena Park is training for a full marathon now.', 2025)],
    ['oslo', fact('Lena Park lives in Oslo.', 2025, [LENA, OSLO])],
    ['tom-half', fact('Tom Berg is training for a half marathon.', 2021, [TOM])],
    ['tom-full', fact('Tom Berg is training for a full marathon.', 2024, [TOM])],
  ]);

  it('puts the newer of two answers to the same question about one person first, scores still decreasing', () => {
    const fused = fusedOf(['half', 'oslo', 'full']);
    const result = preferNewerAnswers(fused, 'Is Lena Park training for a half marathon?', facts);
    expect(order(result)).toEqual(['full', 'oslo', 'half']);
    // The newer takes the first place's score; its own arm ranks stay its own.
    expect(result.map((candidate) => candidate.score)).toEqual(fused.map((candidate) => candidate.score));
    expect(result[0].armRanks).toEqual({ keyword: 3 });
    // Nothing else moved.
    expect(result[1]).toBe(fused[1]);
  });

  it('matches what "she" said too: the entity link, not the name in the text, says whom it is about', () => {
    const withPronoun = new Map(facts).set('she', fact('She is training for a full marathon now.', 2025));
    const result = preferNewerAnswers(fusedOf(['half', 'she']), 'What is Lena Park training for?', withPronoun);
    expect(order(result)).toEqual(['she', 'half']);
  });

  it('never reorders facts about different people, however alike', () => {
    // Tom's fact is newer than Lena's and says the same thing about him: it keeps its place.
    const fused = fusedOf(['half', 'tom-full']);
    expect(order(preferNewerAnswers(fused, 'Who is training for a full marathon?', facts))).toEqual(['half', 'tom-full']);
    // Each person's facts swap among their own places only.
    const mixed = fusedOf(['tom-half', 'half', 'tom-full', 'full']);
    expect(order(preferNewerAnswers(mixed, 'Who is training for a marathon?', facts))).toEqual(['tom-full', 'full', 'tom-half', 'half']);
  });

  it('never reorders unrelated facts about the same person', () => {
    const fused = fusedOf(['half', 'oslo']);
    expect(order(preferNewerAnswers(fused, 'Where does Lena Park live and train?', facts))).toEqual(['half', 'oslo']);
  });

  it('needs the shared words to be what the question asks about', () => {
    // Both facts are about Lena's training, but the question is about her city.
    const fused = fusedOf(['half', 'full']);
    expect(order(preferNewerAnswers(fused, 'Which city does Lena Park live in?', facts))).toEqual(['half', 'full']);
  });

  it('needs most of the words to coincide, not one', () => {
    const clinic = new Map(facts).set('clinic', fact('Lena Park finished her training at the clinic in Bergen.', 2025));
    const fused = fusedOf(['half', 'clinic']);
    expect(order(preferNewerAnswers(fused, 'What is Lena Park training for?', clinic))).toEqual(['half', 'clinic']);
  });

  it('leaves superseded facts where supersession put them, and candidates it knows nothing about', () => {
    const withHistory = new Map(facts).set('old-full', fact('Lena Park is training for a full marathon.', 2026, [LENA], true));
    const fused = fusedOf(['half', 'unknown', 'old-full', 'full']);
    const result = preferNewerAnswers(fused, 'What is Lena Park training for?', withHistory);
    expect(order(result)).toEqual(['full', 'unknown', 'old-full', 'half']);
  });

  it('keeps the fused order between facts of the same time, and of three answers puts the newest first', () => {
    const three = new Map(facts)
      .set('a', fact('Lena Park is training for a 10k race.', 2022))
      .set('b', fact('Lena Park is training for a 5k race.', 2022))
      .set('c', fact('Lena Park is training for a relay race.', 2024));
    const result = preferNewerAnswers(fusedOf(['a', 'b', 'c']), 'What race is Lena Park training for?', three);
    expect(order(result)).toEqual(['c', 'a', 'b']);
  });

  it('does nothing for a question of function words only', () => {
    const fused = fusedOf(['half', 'full']);
    expect(preferNewerAnswers(fused, 'What is it?', facts)).toBe(fused);
  });
});

describe('the words recency compares', () => {
  it('cuts the usual endings to one stem', () => {
    for (const group of [
      ['train', 'trains', 'training', 'trained'],
      ['live', 'lives', 'living', 'lived'],
      ['run', 'runs', 'running'],
      ['study', 'studies', 'studied', 'studying'],
    ]) {
      expect(new Set(group.map(stem)).size).toBe(1);
    }
    expect(stem('marathons')).toBe(stem('marathon'));
    expect(stem('class')).toBe('class');
    expect(stem('bus')).toBe('bus');
  });

  it('drops function words, possessives and words that only place a statement in time', () => {
    expect([...contentWords("Lena's sister is still training for a marathon now.")]).toEqual(['lena', 'sister', 'train', 'marathon']);
  });
});

describe('recency in recall, end to end (PGlite, no LLM)', () => {
  let app: INestApplicationContext;
  let recall: RecallService;
  let half: string;
  let full: string;

  beforeAll(async () => {
    app = await bootOnPglite('recency', { watchdogIntervalMs: 60_000 });
    recall = app.get(RecallService);
    const retain = app.get(RetainService);
    const remember = async (content: string, at: string) =>
      (await retain.retain('lena', { items: [{ content, timestamp: new Date(at) }] })).memoryIds[0];
    half = await remember('Lena Park is training for a half marathon.', '2023-04-02T09:00:00Z');
    full = await remember('Lena Park is training for a full marathon now.', '2025-05-20T09:00:00Z');
  });

  afterAll(async () => {
    await app?.close();
  });

  const recallAt = (query: string) =>
    recall.recall({ bankId: 'lena', query, queryTimestamp: new Date('2025-06-18T12:00:00Z'), trace: true });

  it('answers the present with the newer fact, though the older shares more words with the question', async () => {
    // No supersession rule covers training: both facts are current, neither replaced the other.
    const memories = app.get(MemoriesService);
    expect(await memories.get('lena', half)).toMatchObject({ supersededBy: null });
    expect(await memories.get('lena', full)).toMatchObject({ supersededBy: null });

    const outcome = await recallAt('Is Lena Park training for a half marathon?');
    // Fusion alone put the 2023 fact first ("half" is in it)...
    const keyword = outcome.trace!.arms.find((arm) => arm.name === 'keyword')!.candidates.map((candidate) => candidate.id);
    expect(keyword[0]).toBe(half);
    // ...and recency puts the 2025 one ahead of it.
    expect(outcome.results.map((result) => result.id).slice(0, 2)).toEqual([full, half]);
  });

  it('does not demote the older fact when the question is about the past', async () => {
    const outcome = await recallAt('What was Lena training for in 2023?');
    expect(outcome.trace!.temporalRange).not.toBeNull();
    expect(outcome.results[0].id).toBe(half);
  });
});

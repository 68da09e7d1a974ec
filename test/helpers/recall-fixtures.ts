import { randomUUID } from 'node:crypto';
import type { INestApplicationContext } from '@nestjs/common';
import { AiClients } from '../../src/external/ai-clients.js';
import type { Embedder } from '../../src/external/embedder.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import type { FactType } from '../../src/recall/recall.types.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';
import { seededRandom, seededUuid } from './seeded-random.js';

/**
 * Seeds memories for recall tests straight into the tables, with the same hashing embeddings the
 * default embedder computes at query time. The retain pipeline (fact extraction, entity
 * resolution, dating) is tested on its own; here the rows are exactly what a test says, so a
 * recall assertion cannot be disturbed by a change in how retain phrases or links facts.
 */
export interface SeedMemory {
  id?: string;
  text: string;
  context?: string | null;
  type?: FactType;
  tags?: string[];
  occurredStart?: Date | null;
  occurredEnd?: Date | null;
  mentionedAt?: Date;
  state?: 'valid' | 'invalidated';
  /** Display names; the canonical name is the lower-cased name, as retain stores it. */
  entities?: string[];
  metadata?: Record<string, string>;
  sourceMemoryIds?: string[];
}

const ROWS_PER_INSERT = 100;

/** Inserts the bank if needed, then the memories, their entities and links; returns the ids in input order. */
/** Plain memories (text only) written with the app's own database, vectors and embedder. */
export function seedTexts(app: INestApplicationContext, bankId: string, texts: string[]): Promise<string[]> {
  return seedMemories(
    app.get(MemoryDatabase),
    app.get<VectorBackend>(MEMORY_VECTOR_BACKEND),
    app.get(AiClients).embedder,
    bankId,
    texts.map((text) => ({ text })),
  );
}

export async function seedMemories(
  database: MemoryDatabase,
  vectors: VectorBackend,
  embedder: Embedder,
  bankId: string,
  memories: SeedMemory[],
): Promise<string[]> {
  // Embedded before the transaction: the embedder's guard refuses calls made while a
  // connection is held, in tests as in production.
  const embeddings = await embedder.embed(memories.map(embeddingInput));
  const ids = memories.map((memory) => memory.id ?? randomUUID());
  await database.transaction(async (sql) => {
    await sql.query(`INSERT INTO banks (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING`, [bankId]);
    for (let offset = 0; offset < memories.length; offset += ROWS_PER_INSERT) {
      const values: unknown[] = [];
      const tuples = memories.slice(offset, offset + ROWS_PER_INSERT).map((memory, index) => {
        const row = [
          ids[offset + index],
          bankId,
          memory.text,
          memory.context ?? null,
          memory.type ?? 'world',
          memory.occurredStart ?? null,
          memory.occurredEnd ?? null,
          memory.mentionedAt ?? new Date(),
          memory.tags ?? [],
          vectors.serialize(embeddings[offset + index]),
          memory.state ?? 'valid',
          JSON.stringify(memory.metadata ?? {}),
          memory.sourceMemoryIds ?? null,
        ];
        const first = values.length + 1;
        values.push(...row);
        const p = (column: number) => `$${first + column}`;
        return `(${p(0)}::uuid, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}::timestamptz, ${p(6)}::timestamptz,
                 ${p(7)}::timestamptz, ${p(8)}::text[], ${vectors.param(p(9))}, ${p(10)}, ${p(11)}::jsonb, ${p(12)}::uuid[])`;
      });
      await sql.query(
        `INSERT INTO memory_units (id, bank_id, text, context, fact_type, occurred_start, occurred_end, mentioned_at,
                                   tags, embedding, state, metadata, source_memory_ids)
         VALUES ${tuples.join(', ')}`,
        values,
      );
    }

    const names = [...new Set(memories.flatMap((memory) => memory.entities ?? []))];
    if (names.length === 0) return;
    const entities = await sql.query<{ id: string; canonical_name: string }>(
      `INSERT INTO entities (bank_id, name, canonical_name)
       SELECT $1, name, lower(name) FROM unnest($2::text[]) AS name
       ON CONFLICT (bank_id, canonical_name) DO UPDATE SET mention_count = entities.mention_count
       RETURNING id, canonical_name`,
      [bankId, names],
    );
    const entityIds = new Map(entities.map((entity) => [entity.canonical_name, entity.id]));
    const links = memories.flatMap((memory, index) =>
      [...new Set((memory.entities ?? []).map((name) => name.toLowerCase()))].map((name) => [ids[index], entityIds.get(name)!]),
    );
    await sql.query(
      `INSERT INTO unit_entities (bank_id, unit_id, entity_id)
       SELECT $1, unit_id, entity_id FROM unnest($2::uuid[], $3::uuid[]) AS link(unit_id, entity_id)`,
      [bankId, links.map((link) => link[0]), links.map((link) => link[1])],
    );
  });
  return ids;
}

function embeddingInput(memory: SeedMemory): string {
  return memory.context ? `${memory.text}\n${memory.context}` : memory.text;
}

// ---------------------------------------------------------------------------------------------
// The synthetic corpus of the recall quality test.
// ---------------------------------------------------------------------------------------------

export type QueryKind = 'paraphrase' | 'detail' | 'entity' | 'superseded' | 'temporal';

export interface CorpusQuery {
  kind: QueryKind;
  query: string;
  /** Ids of the memories that answer it. */
  relevant: string[];
}

export interface RecallCorpus {
  /** "Now" for every query: Wednesday 18 June 2025, 15:30 UTC. */
  now: Date;
  memories: SeedMemory[];
  queries: CorpusQuery[];
  /** The superseded fact: both versions, and the query that must find both. */
  superseded: { older: string; newer: string; query: string };
  /** The memories dated last week (Monday 9 to Sunday 15 June 2025). */
  lastWeek: string[];
}

const NOW = new Date('2025-06-18T15:30:00Z');
const DAY_MS = 86_400_000;
// Every background date falls before this, so "last week" (9-15 June) holds only the needles.
const BACKGROUND_FROM = Date.parse('2023-06-01T00:00:00Z');
const BACKGROUND_TO = Date.parse('2025-05-20T00:00:00Z');

// Syllables that cannot spell a month, a weekday or a common English word, so that names never
// trip the temporal parser or the stemmer.
const NAME_SYLLABLES = [
  'ka',
  'ven',
  'tor',
  'li',
  'sa',
  'bre',
  'don',
  'mi',
  'ro',
  'zel',
  'fa',
  'nor',
  'qui',
  'dru',
  'hal',
  'vis',
  'te',
  'gor',
  'yel',
  'pan',
];
const FIRM_SYLLABLES = ['trex', 'ova', 'lum', 'kor', 'zan', 'pyr', 'eld', 'vox', 'quin', 'bax'];
const PET_SYLLABLES = ['zu', 'mo', 'pip', 'ko', 'bix', 'lo', 'taz', 'wu', 'fen', 'ri'];

const JOBS = [
  'pharmacist',
  'carpenter',
  'data analyst',
  'airline pilot',
  'veterinarian',
  'librarian',
  'architect',
  'pastry chef',
  'translator',
  'geologist',
  'dentist',
  'electrician',
  'journalist',
  'florist',
  'physiotherapist',
];
const CITIES = [
  'Lisbon',
  'Tallinn',
  'Bruges',
  'Porto',
  'Krakow',
  'Ghent',
  'Bergen',
  'Lyon',
  'Graz',
  'Turin',
  'Split',
  'Cork',
  'Malmo',
  'Basel',
  'Utrecht',
];
const LANDMARKS = ['harbour', 'old cathedral', 'central station', 'botanical garden', 'river bridge', 'market square', 'university campus'];
const ANIMALS = ['greyhound', 'tabby cat', 'parrot', 'tortoise', 'beagle', 'rabbit', 'ferret', 'corgi', 'goldfish', 'iguana'];
const HOBBIES = [
  'rock climbing at the quarry',
  'restoring vintage radios',
  'brewing cider',
  'sketching birds',
  'sailing small dinghies',
  'playing cello in a quartet',
  'growing chilli peppers',
  'repairing old bicycles',
  'baking sourdough bread',
  'learning Portuguese',
];
const FOODS = [
  'mushroom risotto',
  'lamb tagine',
  'pad thai',
  'smoked salmon bagels',
  'spinach lasagne',
  'chicken katsu curry',
  'falafel wraps',
  'beef goulash',
];
const ALLERGENS = ['peanuts', 'penicillin', 'cat hair', 'shellfish', 'pollen', 'latex'];
const COLOURS = ['red', 'silver', 'dark green', 'white', 'navy blue', 'yellow'];
const CARS = ['hatchback', 'pickup truck', 'estate car', 'electric scooter', 'camper van', 'convertible'];
const EVENTS = [
  'wedding',
  'jazz festival',
  'trade fair',
  'chess tournament',
  'film premiere',
  'charity gala',
  'science conference',
  'half marathon',
];
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

// Background noise with no person in it: the office, the weather, the building.
const NOISE_SUBJECTS = [
  'The quarterly budget review',
  'The printer on the third floor',
  'The team offsite',
  'The server migration',
  'The kitchen renovation',
  'The new expense policy',
  'The fire drill',
  'The client workshop',
  'The parking permit renewal',
  'The website redesign',
  'The recycling schedule',
  'The security audit',
];
const NOISE_PREDICATES = [
  'was postponed because of the storm',
  'needs approval from finance',
  'went better than expected',
  'caused a lot of complaints',
  'is blocked on a vendor contract',
  'was moved to the large meeting room',
  'finished two days early',
  'was discussed at length in the standup',
  'requires everyone to update their passwords',
  'overran its budget by a small margin',
];

/**
 * A seeded synthetic memory bank: 48 made-up people with nine facts each, flatmate links between
 * them, observations, and office noise, about 600 memories; then about 65 questions worded
 * differently from the facts they ask about.
 */
export function generateRecallCorpus(seed = 20250618): RecallCorpus {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const backgroundDate = () => new Date(BACKGROUND_FROM + Math.floor(random() * (BACKGROUND_TO - BACKGROUND_FROM)));
  const uniqueWords = (syllables: string[], parts: number, count: number, taken: Set<string>) => {
    const words: string[] = [];
    while (words.length < count) {
      const word = capitalise(Array.from({ length: parts }, () => pick(syllables)).join(''));
      if (!taken.has(word.toLowerCase())) {
        taken.add(word.toLowerCase());
        words.push(word);
      }
    }
    return words;
  };

  const taken = new Set<string>();
  const firstNames = uniqueWords(NAME_SYLLABLES, 2, 48, taken);
  const lastNames = uniqueWords(NAME_SYLLABLES, 3, 48, taken);
  const firms = uniqueWords(FIRM_SYLLABLES, 2, 48, taken).map((word) => `${word} ${pick(['Labs', 'Works', 'Group', 'Partners'])}`);
  const petNames = uniqueWords(PET_SYLLABLES, 2, 48, taken);

  const memories: SeedMemory[] = [];
  const add = (memory: Omit<SeedMemory, 'id'>): string => {
    const id = seededUuid(random);
    memories.push({ ...memory, id });
    return id;
  };

  interface Person {
    name: string;
    facts: Record<'job' | 'city' | 'pet' | 'hobby' | 'food' | 'allergy' | 'car', string>;
    events: Array<{ id: string; event: string; when: Date }>;
    animal: string;
    petName: string;
    firm: string;
    all: string[];
  }
  const people: Person[] = firstNames.map((first, index) => {
    const name = `${first} ${lastNames[index]}`;
    const animal = pick(ANIMALS);
    const fact = (text: string) => add({ text, entities: [name], mentionedAt: backgroundDate() });
    const facts = {
      job: fact(`${name} works as a ${pick(JOBS)} at ${firms[index]}.`),
      city: fact(`${name} lives in ${pick(CITIES)} near the ${pick(LANDMARKS)}.`),
      pet: fact(`${name} adopted a ${animal} named ${petNames[index]} from a shelter.`),
      hobby: fact(`On weekends ${name} enjoys ${pick(HOBBIES)}.`),
      food: fact(`${name}'s favourite dish is ${pick(FOODS)}.`),
      allergy: fact(`${name} is allergic to ${pick(ALLERGENS)}.`),
      car: fact(`${name} drives a ${pick(COLOURS)} ${pick(CARS)}.`),
    };
    const events = [0, 1].map(() => {
      const when = backgroundDate();
      const event = pick(EVENTS);
      const id = add({
        text: `${name} attended a ${event} in ${pick(CITIES)}.`,
        type: 'experience',
        entities: [name],
        occurredStart: when,
        mentionedAt: new Date(when.getTime() + Math.floor(random() * 3) * DAY_MS),
      });
      return { id, event, when };
    });
    return {
      name,
      facts,
      events,
      animal,
      petName: petNames[index],
      firm: firms[index],
      all: [...Object.values(facts), ...events.map((e) => e.id)],
    };
  });

  // Flatmates: facts that name two people, for questions about a pair.
  const flatmates: Array<{ a: Person; b: Person; id: string }> = [];
  for (let index = 0; index + 1 < people.length; index += 2) {
    const [a, b] = [people[index], people[index + 1]];
    const id = add({
      text: `${a.name} and ${b.name} have shared a flat for years.`,
      entities: [a.name, b.name],
      mentionedAt: backgroundDate(),
    });
    a.all.push(id);
    b.all.push(id);
    flatmates.push({ a, b, id });
  }

  // Observations (what consolidation would write), a few per person, also part of the haystack.
  for (const person of people.slice(0, 16)) {
    const id = add({
      text: `${person.name} is sociable and keeps busy outside of work.`,
      type: 'observation',
      entities: [person.name],
      mentionedAt: backgroundDate(),
    });
    person.all.push(id);
  }

  for (let index = 0; index < 160; index++) {
    add({ text: `${pick(NOISE_SUBJECTS)} ${pick(NOISE_PREDICATES)}.`, mentionedAt: backgroundDate() });
  }

  // The superseded fact: person 47 moved. Their city fact becomes the old version, and a newer
  // one is added a year and a half later; both stay valid memories (retain does not invalidate
  // a fact because a later one contradicts it). The two are worded alike but for the city.
  const mover = people[47];
  const older = mover.facts.city;
  Object.assign(
    memories.find((memory) => memory.id === older)!,
    {
      text: `${mover.name} lives in Bruges near the harbour.`,
      mentionedAt: new Date('2023-09-10T10:00:00Z'),
    },
  );
  const newer = add({
    text: `${mover.name} lives in Tallinn near the harbour.`,
    entities: [mover.name],
    mentionedAt: new Date('2025-04-02T10:00:00Z'),
  });
  mover.all.push(newer);

  // Last week's needles: four events between Monday 9 and Sunday 15 June 2025.
  const lastWeekPeople = [people[40], people[41], people[42], people[43]];
  const lastWeek = lastWeekPeople.map((person, index) => {
    const when = new Date(Date.parse('2025-06-09T09:00:00Z') + (index * 2 + 0.5) * DAY_MS);
    const id = add({
      text: `${person.name} gave a talk at the ${pick(EVENTS)} in ${pick(CITIES)}.`,
      type: 'experience',
      entities: [person.name],
      occurredStart: when,
      mentionedAt: new Date('2025-06-17T08:00:00Z'),
    });
    person.all.push(id);
    return id;
  });

  const queries: CorpusQuery[] = [];
  const paraphrases: Record<keyof Person['facts'], (person: Person) => string> = {
    job: (p) => `What does ${p.name} do for work?`,
    city: (p) => `Which city is ${p.name} living in these days?`,
    pet: (p) => `What is the name of ${p.name}'s ${p.animal}?`,
    hobby: (p) => `How does ${p.name} like to spend a weekend?`,
    food: (p) => `What meal would ${p.name} order at a restaurant?`,
    allergy: (p) => `Does ${p.name} have any allergies?`,
    car: (p) => `What vehicle does ${p.name} drive?`,
  };
  const kinds = Object.keys(paraphrases) as Array<keyof Person['facts']>;
  people.slice(0, 40).forEach((person, index) => {
    const kind = kinds[index % kinds.length];
    queries.push({ kind: 'paraphrase', query: paraphrases[kind](person), relevant: [person.facts[kind]] });
  });
  for (const person of people.slice(0, 6)) {
    queries.push({ kind: 'detail', query: `Who has a pet called ${person.petName}?`, relevant: [person.facts.pet] });
  }
  for (const person of people.slice(6, 10)) {
    queries.push({ kind: 'detail', query: `Who is employed by ${person.firm}?`, relevant: [person.facts.job] });
  }
  for (const person of people.slice(10, 13)) {
    queries.push({ kind: 'entity', query: `Tell me about ${person.name}.`, relevant: person.all });
  }
  for (const pair of flatmates.slice(7, 10)) {
    queries.push({ kind: 'entity', query: `How do ${pair.a.name} and ${pair.b.name} know each other?`, relevant: [pair.id] });
  }
  const supersededQuery = `Which city does ${mover.name} live in?`;
  queries.push({ kind: 'superseded', query: supersededQuery, relevant: [older, newer] });
  queries.push({ kind: 'temporal', query: 'What happened last week?', relevant: lastWeek });
  queries.push({ kind: 'temporal', query: `What did ${lastWeekPeople[1].name} do last week?`, relevant: [lastWeek[1]] });
  queries.push({ kind: 'temporal', query: `What did ${lastWeekPeople[3].name} do last week?`, relevant: [lastWeek[3]] });
  for (const person of people.slice(20, 24)) {
    const { id, event, when } = person.events[0];
    const month = `${MONTH_NAMES[when.getUTCMonth()]} ${when.getUTCFullYear()}`;
    queries.push({ kind: 'temporal', query: `Which ${event} did ${person.name} go to in ${month}?`, relevant: [id] });
  }

  return { now: NOW, memories, queries, superseded: { older, newer, query: supersededQuery }, lastWeek };
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

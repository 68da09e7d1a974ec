import { seededRandom, seededUuid } from '../../test/helpers/seeded-random.js';

/**
 * A seeded stream of synthetic memories and questions about them, for the benchmarks that need
 * a large bank (recall latency) or a steady supply of content (retain throughput).
 *
 * Every memory is one sentence naming one or two people and often a place, so the sentence
 * splitter keeps it whole and the proper-noun heuristic finds exactly those names: the entity
 * arm then has the links retain would have written. Names are built from syllables that spell
 * no English word, month or weekday, so they never reach the stemmer or the temporal parser as
 * anything but names. People are drawn with a skew (a few are mentioned in thousands of
 * memories, most in a handful), as in a real agent's memory of its user's circle.
 */

/** "Now" of the corpus: every memory is dated in the year before it, and queries are asked at it. */
export const CORPUS_NOW = new Date('2025-06-18T15:30:00Z');
const YEAR_MS = 365 * 86_400_000;

export interface SyntheticMemory {
  id: string;
  /** One sentence, as retain's sentence splitter would keep it. */
  text: string;
  /** The event time; retain stores it as occurred start, occurred end and mention time. */
  timestamp: Date;
}

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
const PLACE_SYLLABLES = ['ost', 'var', 'bel', 'kin', 'dor', 'mus', 'tal', 'rin', 'gev', 'lor', 'pesk', 'und'];

const VERBS_PAST = [
  'repaired',
  'painted',
  'ordered',
  'borrowed',
  'returned',
  'cleaned',
  'photographed',
  'measured',
  'sold',
  'bought',
  'wrapped',
  'packed',
  'tested',
  'replaced',
  'cooked',
  'planted',
  'assembled',
  'delivered',
  'inspected',
  'booked',
  'cancelled',
  'recommended',
  'reviewed',
  'sketched',
  'translated',
  'priced',
  'polished',
  'collected',
  'donated',
  'labelled',
];
const VERBS_BASE = [
  'repair',
  'paint',
  'order',
  'borrow',
  'return',
  'clean',
  'photograph',
  'measure',
  'sell',
  'buy',
  'wrap',
  'pack',
  'test',
  'replace',
  'cook',
  'plant',
  'assemble',
  'deliver',
  'inspect',
  'book',
];
const ADJECTIVES = [
  'old',
  'new',
  'broken',
  'heavy',
  'small',
  'wooden',
  'silver',
  'green',
  'antique',
  'expensive',
  'cheap',
  'fragile',
  'noisy',
  'quiet',
  'folding',
  'electric',
  'vintage',
  'spare',
  'rusty',
  'shiny',
  'woollen',
  'leather',
  'ceramic',
  'glass',
  'striped',
  'tiny',
  'enormous',
  'portable',
  'waterproof',
  'handmade',
];
const NOUNS = [
  'bicycle',
  'kettle',
  'piano',
  'lamp',
  'tent',
  'camera',
  'ladder',
  'sofa',
  'clock',
  'guitar',
  'teapot',
  'mirror',
  'suitcase',
  'blender',
  'telescope',
  'canoe',
  'wardrobe',
  'printer',
  'radio',
  'umbrella',
  'jacket',
  'scarf',
  'rug',
  'vase',
  'chessboard',
  'microscope',
  'saddle',
  'trumpet',
  'hammock',
  'lantern',
  'toaster',
  'bookshelf',
  'violin',
  'helmet',
  'backpack',
  'notebook',
  'compass',
  'drone',
  'skateboard',
  'sewing machine',
  'fridge',
  'heater',
  'desk',
  'curtain',
  'quilt',
  'shovel',
  'wheelbarrow',
  'aquarium',
  'birdhouse',
  'painting',
  'sculpture',
  'map',
  'globe',
  'typewriter',
  'projector',
  'speaker',
  'tablet',
  'keyboard',
  'monitor',
  'stroller',
];
const VENUES = [
  'farmers market',
  'repair cafe',
  'flea market',
  'community hall',
  'garden centre',
  'hardware shop',
  'train station',
  'public library',
  'boat club',
  'art school',
  'bakery',
  'post office',
  'swimming pool',
  'youth hostel',
  'bike shop',
];
const PREDICATES = [
  'needs a new battery',
  'was left in the garage',
  'arrived two days late',
  'costs more than expected',
  'fits in the car boot',
  'was a birthday present',
  'still smells of paint',
  'broke during the move',
  'came with a long warranty',
  'is too big for the hallway',
  'belongs to the neighbours',
  'was found in the attic',
];
const RELATIONS = ['sister', 'brother', 'landlord', 'neighbour', 'colleague', 'cousin', 'mentor', 'flatmate', 'uncle', 'aunt'];

/** Questions always name a person and a time, so that the entity and temporal arms do real work. */
const TIMES = [
  'last week',
  'last month',
  'in March',
  'in January',
  'two months ago',
  'since April',
  'in the past 30 days',
  'in February',
  'three weeks ago',
  'last year',
];

export interface Vocabulary {
  people: string[];
  places: string[];
}

/** The people and places of every corpus; fixed, so that a seed names one corpus forever. */
export function vocabulary(): Vocabulary {
  const random = seededRandom(1);
  const taken = new Set<string>();
  const names = (syllables: string[], parts: number, count: number) => {
    const words: string[] = [];
    while (words.length < count) {
      const word = capitalise(Array.from({ length: parts }, () => pick(random, syllables)).join(''));
      if (!taken.has(word)) {
        taken.add(word);
        words.push(word);
      }
    }
    return words;
  };
  const first = names(NAME_SYLLABLES, 2, 150);
  const last = names(NAME_SYLLABLES, 3, 400);
  const people = new Set<string>();
  while (people.size < 1000) people.add(`${pick(random, first)} ${pick(random, last)}`);
  return { people: [...people], places: names(PLACE_SYLLABLES, 2, 120) };
}

/**
 * An endless stream of memories from `seed`, dated uniformly over the year before
 * {@link CORPUS_NOW}. Taking the first n of a stream, then the next m, gives the same memories
 * as taking n + m at once, so a bank can grow in steps and still be the corpus of its seed.
 */
export function* syntheticMemories(seed: number): Generator<SyntheticMemory> {
  const random = seededRandom(seed);
  const { people, places } = vocabulary();
  // Squaring a uniform draw skews towards the first people: the first of 1,000 gets about 3% of
  // the mentions, the last a few hundredths of a percent.
  const person = () => people[Math.floor(random() ** 2 * people.length)];
  const other = (first: string) => {
    const second = person();
    return second === first ? people[(people.indexOf(first) + 1) % people.length] : second;
  };
  const inPlace = () => (random() < 0.6 ? ` in ${pick(random, places)}` : '');
  const any = <T>(items: readonly T[]) => pick(random, items);
  const templates: Array<(p: string) => string> = [
    (p) => `${p} ${any(VERBS_PAST)} the ${any(ADJECTIVES)} ${any(NOUNS)} at the ${any(VENUES)}${inPlace()}.`,
    (p) => `${p} told ${other(p)} that the ${any(ADJECTIVES)} ${any(NOUNS)} ${any(PREDICATES)}.`,
    (p) => `${p} is planning to ${any(VERBS_BASE)} a ${any(ADJECTIVES)} ${any(NOUNS)}${inPlace()} with ${other(p)}.`,
    (p) => `The ${any(NOUNS)} that ${p}'s ${any(RELATIONS)} ${any(VERBS_PAST)}${inPlace()} ${any(PREDICATES)}.`,
    (p) => `${p} prefers the ${any(ADJECTIVES)} ${any(NOUNS)} to the ${any(ADJECTIVES)} ${any(NOUNS)}.`,
  ];
  const from = CORPUS_NOW.getTime() - YEAR_MS;
  for (;;) {
    const id = seededUuid(random);
    const text = any(templates)(person());
    yield { id, text, timestamp: new Date(from + Math.floor(random() * YEAR_MS)) };
  }
}

/** The next `count` items of a stream (fewer if it ends), leaving the rest for the next call. */
export function take<T>(items: Iterator<T>, count: number): T[] {
  const taken: T[] = [];
  while (taken.length < count) {
    const next = items.next();
    if (next.done) break;
    taken.push(next.value);
  }
  return taken;
}

/** `count` questions from `seed`, each naming a person of the corpus, a thing and a time. */
export function syntheticQueries(seed: number, count: number): string[] {
  const random = seededRandom(seed);
  const { people, places } = vocabulary();
  const person = () => people[Math.floor(random() ** 2 * people.length)];
  const any = <T>(items: readonly T[]) => pick(random, items);
  const templates: Array<() => string> = [
    () => `What did ${person()} ${any(VERBS_BASE)} at the ${any(VENUES)} ${any(TIMES)}?`,
    () => `Which ${any(NOUNS)} did ${person()} talk about ${any(TIMES)}?`,
    () => `Did ${person()} buy a ${any(ADJECTIVES)} ${any(NOUNS)} in ${any(places)} ${any(TIMES)}?`,
    () => `What happened to the ${any(NOUNS)} of ${person()}'s ${any(RELATIONS)} ${any(TIMES)}?`,
  ];
  return Array.from({ length: count }, () => any(templates)());
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

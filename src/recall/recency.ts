import { tellsHowThingsWere } from '../time/tense.js';
import type { FusedCandidate } from './reciprocal-rank-fusion.js';

/** What recency needs to know about one candidate. */
export interface AnswerFacts {
  text: string;
  /** When the fact happened: its `occurred_start`, else when it was mentioned. */
  time: Date | null;
  /** The entities it is linked to (retain links a sentence that says "she" to the person too). */
  entities: ReadonlyArray<{ entityId: string; canonicalName: string }>;
  /** Superseded facts were already placed by `preferCurrentFacts` and are left where they are. */
  superseded: boolean;
}

/**
 * Share of the smaller fact's words that the other must repeat for the two to say the same thing
 * with a different value ("is training for a half marathon" / "a full marathon": 2 of 3).
 */
export const SAME_STATEMENT_OVERLAP = 0.5;

/**
 * For a question about the present, among candidates that answer the same question about the
 * same entity, the newer fact ranks first: "Is Lena training for a half marathon?" shares more
 * words with the 2023 fact than with "Lena is training for a full marathon now." (2025), which is
 * the answer. Supersession handles the attributes its rule knows (where someone lives, works...);
 * this handles the rest, without changing anything else.
 *
 * Two candidates answer the same question when all three hold:
 * - they are linked to a common entity (the same person, not the same first name in the text);
 * - their words, once the entities' names and function words are set aside, mostly coincide: at
 *   least half of the shorter one's words are in the other. The words left are what is said
 *   about the entity, and two statements that repeat them differ only in the value;
 * - the words they share include one of the question's: the question asks about the part of the
 *   statement the two have in common, not about something only one of them mentions.
 *
 * The semantic arm's scores were the other candidate signal, and were set aside: two facts close
 * to the query are not close to each other (the 2023 fact and "Lena lives in Oslo" can score the
 * same), and a threshold on cosine means something different for every embedder. The attribute
 * key would be exact, but it only exists where supersession already ordered the facts.
 *
 * Candidates are grouped in fused order, a candidate joining the first group all of whose
 * members answer the same question as it does (so a chain of partial overlaps never links two
 * unrelated facts). Within a group the members swap places, newest first, each taking the score
 * of the place it lands on, so scores still decrease down the list; every other candidate keeps
 * its place and score.
 */
export function preferNewerAnswers(fused: FusedCandidate[], query: string, facts: ReadonlyMap<string, AnswerFacts>): FusedCandidate[] {
  const asked = contentWords(query);
  if (asked.size === 0) return fused;
  const statements: Array<Statement | null> = fused.map(({ id }) => {
    const fact = facts.get(id);
    // "Anna used to live in Paris", told last, is no newer answer to where she lives.
    if (!fact || fact.superseded || !fact.time || tellsHowThingsWere(fact.text)) return null;
    const names = new Set(fact.entities.flatMap((entity) => [...contentWords(entity.canonicalName)]));
    const words = new Set([...contentWords(fact.text)].filter((word) => !names.has(word)));
    return { time: fact.time.getTime(), entities: new Set(fact.entities.map((entity) => entity.entityId)), words };
  });

  const groups: number[][] = [];
  statements.forEach((statement, position) => {
    if (!statement) return;
    const group = groups.find((members) => members.every((member) => sameQuestion(statements[member]!, statement, asked)));
    if (group) group.push(position);
    else groups.push([position]);
  });

  const reordered = [...fused];
  for (const positions of groups) {
    if (positions.length < 2) continue;
    // Newest first; equal times keep the fused order.
    const newestFirst = [...positions].sort((a, b) => statements[b]!.time - statements[a]!.time || a - b);
    positions.forEach((position, index) => {
      reordered[position] = { ...fused[newestFirst[index]], score: fused[position].score };
    });
  }
  return reordered;
}

interface Statement {
  time: number;
  entities: Set<string>;
  words: Set<string>;
}

function sameQuestion(a: Statement, b: Statement, asked: ReadonlySet<string>): boolean {
  if (![...a.entities].some((entity) => b.entities.has(entity))) return false;
  const shared = [...a.words].filter((word) => b.words.has(word));
  if (!shared.some((word) => asked.has(word))) return false;
  return shared.length >= SAME_STATEMENT_OVERLAP * Math.min(a.words.size, b.words.size);
}

/**
 * Function words, and words that place a statement in time ("now", "still") rather than say
 * what it is about: "Lena is training for a full marathon now" says the same thing as the 2023
 * fact about Lena's training.
 */
const FUNCTION_WORDS = new Set(
  (
    'a an the and or but nor so yet if then than of in on at to for from by with about as into onto over under ' +
    'up down out off per via is are was were be been being am has have had having do does did doing will would ' +
    'shall should can could may might must i me my mine we us our ours you your yours he him his she her hers ' +
    'it its they them their theirs this that these those there here who whom whose what which when where why how ' +
    'not no yes any some all each every both either neither one also just only very really quite too again ' +
    'now still currently today nowadays anymore lately recently already yet ever'
  ).split(' '),
);

/** Lower-cased words other than function words, each cut to a rough stem. */
export function contentWords(text: string): Set<string> {
  const words =
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu) ?? [];
  return new Set(
    words
      .map((word) => word.replace(/['’]s$/, ''))
      .filter((word) => !FUNCTION_WORDS.has(word))
      .map(stem),
  );
}

/**
 * A stem good enough to match a question's verb to a statement's ("train", "trains", "training",
 * "trained"; "live", "lives", "living", "lived"; "study", "studies"): -ies and -ied become y;
 * otherwise an s, then an -ing or -ed, then an e are cut, and a doubled final consonant is halved
 * ("running"). Never below three letters.
 */
export function stem(word: string): string {
  if (/^\p{L}{2,}ie[sd]$/u.test(word)) return `${word.slice(0, -3)}y`;
  let result = word;
  const cut = (suffix: string) => {
    if (result.endsWith(suffix) && result.length - suffix.length >= 3) result = result.slice(0, -suffix.length);
  };
  if (!result.endsWith('ss')) cut('s');
  const before = result;
  cut('ing');
  if (result === before) cut('ed');
  if (result !== before && /([b-df-hj-np-tv-z])\1$/.test(result)) result = result.slice(0, -1);
  cut('e');
  return result;
}

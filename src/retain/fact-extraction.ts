import { z } from 'zod';
import {
  type ExtractedEntity,
  canonicalEntityName,
  mergeEntities,
  openingEntity,
  openingName,
  properNouns,
} from '../entities/entity-names.js';
import type { LlmCallContext, LlmClient } from '../external/llm-client.js';
import { clampInstant, isStorableInstant } from '../storage/storable-instant.js';
import { DAY_MS } from '../time/calendar.js';
import { instantForModel } from '../time/for-a-model.js';
import { attributeKey } from '../supersession/attribute-key.js';
import { occurredRangeIn } from './time-expressions.js';

export type RetainedFactType = 'world' | 'experience';

export interface ExtractedFact {
  text: string;
  factType: RetainedFactType;
  entities: ExtractedEntity[];
  occurredStart: Date | null;
  occurredEnd: Date | null;
  /** Whom the fact is about, when known: the person it opens with or refers back to. */
  subject?: string | null;
}

export interface ExtractionInput {
  content: string;
  context: string | null;
  /** The event time the caller gave; facts without a date of their own inherit it. */
  timestamp: Date | null;
  entities: ExtractedEntity[];
}

const MAX_FACT_CHARS = 2000;

/**
 * Without an LLM: one fact per sentence. Retain's contract is that the caller's words are kept;
 * splitting at sentence ends makes each fact small enough to be recalled on its own, and needs
 * nothing that could fail. What the split loses is recovered from the item around the sentence:
 * a time the sentence states sets its occurred range (else the item's time does), and a sentence
 * that refers back to a person ("She lives in Lisbon.") is linked to that person as an entity,
 * so recall finds it by name while the stored text stays as written.
 *
 * A sentence that only goes on about the person the fact before it names ("Bruno took Marta to
 * the zoo. They fed the giraffes.") stays in that fact: alone it names neither whom nor where,
 * so a question asked in the item's own words ("What did Bruno feed at the zoo?") found the
 * sentence before it and never it. Kept together, the fact is self-contained, as the LLM is asked
 * to make facts. A sentence that opens with a name, states a day of its own or says something
 * supersession keys (where someone lives, whom they work for, …) is a fact of its own, as is one
 * following such a fact: each is dated and superseded on its own (`continuesFact`). An hour or a
 * part of the day without a day ("at noon", "in the evening") is no day of its own: the sentence
 * goes on with the fact before it, which keeps its time.
 */
export function extractFactsBySentence(input: ExtractionInput): ExtractedFact[] {
  const explicit = input.entities;
  const facts: ExtractedFact[] = [];
  let subject: ExtractedEntity | undefined;
  for (const sentence of splitSentences(input.content)) {
    const named = properNouns(sentence);
    const referent = subject && refersBack(sentence) ? subject : undefined;
    const openerName = openingName(sentence, named);
    const opener = named.find((entity) => entity.name === openerName);
    subject = opener ?? subject;
    const stated = occurredRangeIn(sentence, input.timestamp);
    const entities = mergeEntities(
      explicit.filter((entity) => mentions(sentence, entity.name)),
      named,
      referent ? [referent] : [],
    );
    const previous = facts[facts.length - 1];
    // An hour alone ("They fed the giraffes at noon.") is of the day the fact before tells of.
    const ownDay = stated && !stated.timeOfDayOnly;
    if (previous && referent && !opener && !ownDay && continuesFact(previous, sentence, referent.name)) {
      previous.text = `${previous.text} ${sentence}`;
      previous.entities = mergeEntities(previous.entities, entities);
      continue;
    }
    facts.push({
      text: sentence,
      factType: 'world',
      entities,
      occurredStart: stated?.start ?? input.timestamp,
      occurredEnd: stated?.end ?? input.timestamp,
      subject: (opener ?? referent)?.name ?? null,
    });
  }
  return facts;
}

/**
 * Whether `sentence`, which refers back to `referent`, goes on with `previous` rather than being
 * a fact of its own: `previous` is about that person, neither part nor the whole is something
 * supersession keys (a keyed fact gives way to a newer one, and what joined it would go with
 * it), and the whole still fits one fact.
 */
function continuesFact(previous: ExtractedFact, sentence: string, referent: string): boolean {
  if (previous.subject !== referent) return false;
  const joined = `${previous.text} ${sentence}`;
  if (joined.length > MAX_FACT_CHARS) return false;
  return [previous.text, sentence, joined].every((text) => attributeKey(text, referent) === null);
}

const THIRD_PERSON = /\b(?:she|he|they|her|his|him|their|them|hers|theirs)\b/i;

function refersBack(sentence: string): boolean {
  return THIRD_PERSON.test(sentence);
}

/**
 * What a dot ends without ending the sentence: an initial (J.), a capitalised title or short
 * form (Dr., St., Jr., Mrs., Prof.), a few lowercase ones (et al., cf., vs.) and dotted ones
 * (e.g., U.S.). A lowercase word of two letters ends its sentence: "Carol fixed it. She called
 * me." is two.
 */
const ABBREVIATION_AT_END =
  /(?:^|\s)(?:\p{L}|\p{Lu}\p{L}|Mrs|Prof|Capt|Col|Gen|Gov|Sen|Rep|Rev|Sgt|Maj|Adm|Mme|Mlle|Messrs|al|ca|cf|pp|vs|[\p{L}.]+\.\p{L})\.$/u;

/**
 * A list item's marker at the start of a line: a bullet, or a number followed by a dot or a
 * parenthesis. The item is a sentence of its own, without the marker, where the markers were read
 * as words ("1.", "Buy milk 2.") and the items of a bulleted list ran into one.
 */
const LIST_MARKER = /(?:^|\n)[ \t]*(?:[-*\u2022\u2023\u25e6\u2013]|\(?\d{1,3}[.)])[ \t]+/g;

/**
 * The longest line that may end an item without punctuation: a note's lines ("Anna's birthday
 * March 3", "Bob allergic to nuts") are short, where prose wrapped by an editor or a mail client
 * runs to some 70 characters a line.
 */
const SHORT_LINE = 40;

/** The end of a line that goes on in the next: a comma or dash, or a word no sentence ends with. */
const LINE_GOES_ON =
  /(?:[,;(\-\u2013\u2014]|\b(?:a|an|the|and|or|but|nor|of|in|on|at|to|for|from|with|by|as|than|that|which|who|whose|if|is|are|was|were|be|been|has|have|had|my|your|his|her|its|our|their|this|these|those|not|no|very))$/i;

/**
 * Lines of a paragraph that are items of their own though unpunctuated: a short line followed by
 * one opening with a capital, unless its end says it goes on. "Buy milk\nCall Anna" ran into one
 * fact, "Buy milk Call Anna".
 */
function unpunctuatedItems(paragraph: string): string[] {
  const items: string[] = [];
  let current: string[] = [];
  const lines = paragraph.split('\n').map((line) => line.trim());
  lines.forEach((line, index) => {
    current.push(line);
    const next = lines[index + 1];
    const endsItem =
      next !== undefined && line.length <= SHORT_LINE && !/[.!?]$/.test(line) && !LINE_GOES_ON.test(line) && /^\p{Lu}/u.test(next);
    if (endsItem || next === undefined) {
      items.push(current.join(' '));
      current = [];
    }
  });
  return items;
}

/**
 * Sentence ends are `.`, `!` or `?` followed by white space and a capital or digit, a blank line,
 * a list item (`LIST_MARKER`) or a short unpunctuated line (`unpunctuatedItems`); a dot after an
 * abbreviation (`ABBREVIATION_AT_END`) is not taken as an end.
 */
export function splitSentences(content: string): string[] {
  const normalised = content.replace(/\r\n?/g, '\n').replace(LIST_MARKER, '\n\n').trim();
  if (!normalised) return [];
  const sentences: string[] = [];
  for (const paragraph of normalised.split(/\n\s*\n/).flatMap(unpunctuatedItems)) {
    const parts = paragraph
      .replace(/\s+/g, ' ')
      // A quoted or bracketed sentence ends after its closing mark ("I am tired." She sat down.),
      // but not one ending in "!" or "?", which the speaker's name usually follows ("Help!" Anna
      // cried.).
      .split(/(?<=[.!?]|\.["'\u201d\u2019)])\s+(?=["'\u201c\u2018(\p{Lu}\d])/u)
      .reduce<string[]>((merged, part) => {
        const previous = merged[merged.length - 1];
        if (previous && ABBREVIATION_AT_END.test(previous)) {
          merged[merged.length - 1] = `${previous} ${part}`;
        } else {
          merged.push(part);
        }
        return merged;
      }, []);
    sentences.push(...parts);
  }
  return sentences
    .map((sentence) => sentence.trim())
    .filter(Boolean)
    .flatMap(chunkLongText);
}

function chunkLongText(text: string): string[] {
  if (text.length <= MAX_FACT_CHARS) return [text];
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > MAX_FACT_CHARS) {
    const cut = rest.lastIndexOf(' ', MAX_FACT_CHARS);
    const at = cut > MAX_FACT_CHARS / 2 ? cut : MAX_FACT_CHARS;
    chunks.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  if (rest) chunks.push(rest);
  return chunks;
}

function mentions(text: string, name: string): boolean {
  return text.toLowerCase().includes(canonicalEntityName(name));
}

/** A model's date: the instant, and whether it named a whole day ("2025-06-12") rather than a moment. */
interface LlmDate {
  at: Date;
  wholeDay: boolean;
}

const isoDate = z
  .string()
  .nullish()
  .transform((value): LlmDate | null => {
    if (!value) return null;
    const date = new Date(value);
    // A date outside the storable years is no date the fact happened on: as if none were given.
    if (Number.isNaN(date.getTime()) || !isStorableInstant(date)) return null;
    return { at: date, wholeDay: /^\d{4}-\d{2}-\d{2}$/.test(value.trim()) };
  });

export const llmFactsSchema = z.object({
  facts: z
    .array(
      z.object({
        // No bound here: a longer fact (a passage the model copied whole) is split below, as
        // retain without an LLM splits one, rather than failing the retain.
        text: z.string().trim().min(1),
        fact_type: z.enum(['world', 'experience']).catch('world'),
        entities: z.array(z.union([z.string(), z.object({ name: z.string(), type: z.string().nullish() })])).default([]),
        occurred_start: isoDate,
        occurred_end: isoDate,
      }),
    )
    .min(1, 'no facts extracted'),
});

const SYSTEM_PROMPT = `You extract durable facts for an AI agent's long-term memory.
Return JSON: {"facts":[{"text":string,"fact_type":"world"|"experience","entities":[{"name":string,"type":string}],"occurred_start":ISO-8601|null,"occurred_end":ISO-8601|null}]}.
Each fact is one self-contained sentence that names its subject (no pronouns without referent).
What someone tells of themselves as "I" or "my" is about "the user" ("The user lives in Lisbon."), unless the text names them.
"experience" is something the agent itself did or said; everything else is "world".
Entities are people, organisations, places, products and named concepts mentioned in the fact.
Dates: when the fact happened, resolved against the event time given, as ISO-8601; null when the text says no time.
A weekday, date or month said without its week or year is the last one by the event time, or the next one where the text speaks of the future ("will", "is flying", "has an appointment on Thursday").
Weeks run Monday to Sunday. occurred_end is the first instant after the event: for the day 2025-06-12, occurred_start 2025-06-12 and occurred_end 2025-06-13.`;

/**
 * With an LLM: facts and entities as the model sees them. The output is validated by schema; an
 * empty or malformed answer throws `LlmOutputError` from the client, so a document is never
 * replaced by nothing.
 */
export async function extractFactsWithLlm(
  llm: LlmClient,
  input: ExtractionInput,
  signal?: AbortSignal,
  context?: LlmCallContext,
): Promise<ExtractedFact[]> {
  const user = [
    input.timestamp ? `Event time: ${instantForModel(input.timestamp)}` : 'Event time: unknown',
    input.context ? `Context: ${input.context}` : null,
    input.entities.length ? `Known entities: ${input.entities.map((entity) => entity.name).join(', ')}` : null,
    'Content:',
    input.content,
  ]
    .filter(Boolean)
    .join('\n');
  const answer = await llm.completeJson(
    { operation: 'extract-facts', system: SYSTEM_PROMPT, user, schema: llmFactsSchema, context },
    signal,
  );
  return answer.facts.flatMap((fact) => {
    const entities = mergeEntities(
      input.entities.filter((entity) => mentions(fact.text, entity.name)),
      fact.entities.map((entity) =>
        typeof entity === 'string' ? { name: entity, type: null } : { name: entity.name, type: entity.type ?? null },
      ),
    );
    const occurred = occurredFromLlm(fact.text, fact.occurred_start, fact.occurred_end, input.timestamp);
    return chunkLongText(fact.text).map((text) => ({
      text,
      factType: fact.fact_type,
      entities,
      occurredStart: occurred.start,
      occurredEnd: occurred.end,
      // The LLM is asked for self-contained facts that name their subject; the subject is the
      // entity the fact opens with. The first entity listed was taken before, which is as often
      // the place ("The user lives in Lisbon." keyed Lisbon's residence, and "The user moved to
      // Oslo." Oslo's, so neither superseded the other).
      subject: openingEntity(text, entities) ?? null,
    }));
  });
}

/**
 * When a fact the model extracted happened. A whole day the model names ends at the next midnight,
 * as every range retain stores ends at the first instant after it (an end of "2025-06-12" meant
 * that day, and was its first instant). Where the model gives no time, the fact's own words are
 * read as retain reads them without a model ("on 12 June", "last week"), since a model that wrote
 * the date into the fact does not always fill the field too; else the item's time, as before.
 */
function occurredFromLlm(
  text: string,
  start: LlmDate | null,
  end: LlmDate | null,
  timestamp: Date | null,
): { start: Date | null; end: Date | null } {
  if (start) {
    const last = end ?? (start.wholeDay ? start : null);
    if (!last) return { start: start.at, end: start.at };
    const after = last.wholeDay ? new Date(last.at.getTime() + DAY_MS) : last.at;
    // An end before the start is the model's slip: the start alone, as a moment.
    return { start: start.at, end: clampInstant(after.getTime() > start.at.getTime() ? after : start.at) };
  }
  const stated = occurredRangeIn(text, timestamp);
  return stated ?? { start: timestamp, end: timestamp };
}

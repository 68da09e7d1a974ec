import { z } from 'zod';
import type { LlmClient } from '../external/llm-client.js';

export type RetainedFactType = 'world' | 'experience';

export interface ExtractedEntity {
  name: string;
  type: string | null;
}

export interface ExtractedFact {
  text: string;
  factType: RetainedFactType;
  entities: ExtractedEntity[];
  occurredStart: Date | null;
  occurredEnd: Date | null;
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
 * nothing that could fail.
 */
export function extractFactsBySentence(input: ExtractionInput): ExtractedFact[] {
  const explicit = input.entities;
  return splitSentences(input.content).map((sentence) => ({
    text: sentence,
    factType: 'world',
    entities: mergeEntities(explicit.filter((entity) => mentions(sentence, entity.name)), properNouns(sentence)),
    occurredStart: input.timestamp,
    occurredEnd: input.timestamp,
  }));
}

/**
 * Sentence ends are `.`, `!` or `?` followed by white space and a capital or digit, or a blank
 * line; a run of a few characters before the dot (Dr., e.g., U.S.) is not taken as an end.
 */
export function splitSentences(content: string): string[] {
  const normalised = content.replace(/\r\n?/g, '\n').trim();
  if (!normalised) return [];
  const sentences: string[] = [];
  for (const paragraph of normalised.split(/\n\s*\n/)) {
    const parts = paragraph
      .replace(/\s+/g, ' ')
      .split(/(?<=[.!?])\s+(?=["'(\p{Lu}\d])/u)
      .reduce<string[]>((merged, part) => {
        const previous = merged[merged.length - 1];
        if (previous && /(?:^|\s)(?:\p{L}{1,2}|[\p{L}.]+\.\p{L})\.$/u.test(previous)) {
          merged[merged.length - 1] = `${previous} ${part}`;
        } else {
          merged.push(part);
        }
        return merged;
      }, []);
    sentences.push(...parts);
  }
  return sentences.map((sentence) => sentence.trim()).filter(Boolean).flatMap(chunkLongText);
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

/** Words that start sentences with a capital without naming anything. */
const NOT_NAMES = new Set(
  (
    'a an the i we you he she it they this that these those there here then when where what who whom whose ' +
    'which why how if but and or so yet for nor not no yes my our your his her its their me us him them ' +
    'on in at by to of from with after before during since until while also however today yesterday tomorrow ' +
    'monday tuesday wednesday thursday friday saturday sunday mr mrs ms dr last next every each all some ' +
    'january february march april may june july august september october november december'
  ).split(' '),
);

/**
 * A heuristic for names: runs of capitalised words, dropping the function words a sentence may
 * start with. It finds "Alice", "New York", "Acme Corp"; it misses lower-case names and keeps
 * some false friends, which only cost a little entity-arm precision.
 */
export function properNouns(sentence: string): ExtractedEntity[] {
  const found: ExtractedEntity[] = [];
  const runs = sentence.match(/\p{Lu}[\p{L}\p{N}'’-]*(?:\s+(?:of\s+|de\s+|van\s+|von\s+)?\p{Lu}[\p{L}\p{N}'’-]*)*/gu) ?? [];
  for (const run of runs) {
    const words = run.split(/\s+/).filter((word) => !NOT_NAMES.has(word.toLowerCase().replace(/['’]s$/, '')));
    const name = words.join(' ').replace(/['’]s$/, '');
    if (name.length >= 2 && !/^\p{Lu}$/u.test(name)) found.push({ name, type: null });
  }
  return found;
}

export function canonicalEntityName(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

function mentions(text: string, name: string): boolean {
  return text.toLowerCase().includes(canonicalEntityName(name));
}

export function mergeEntities(...lists: ExtractedEntity[][]): ExtractedEntity[] {
  const byName = new Map<string, ExtractedEntity>();
  for (const entity of lists.flat()) {
    const key = canonicalEntityName(entity.name);
    if (!key) continue;
    const known = byName.get(key);
    if (!known) byName.set(key, { name: entity.name.trim(), type: entity.type });
    else if (!known.type && entity.type) known.type = entity.type;
  }
  return [...byName.values()];
}

const isoDate = z
  .string()
  .nullish()
  .transform((value) => {
    if (!value) return null;
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  });

export const llmFactsSchema = z.object({
  facts: z
    .array(
      z.object({
        text: z.string().trim().min(1).max(MAX_FACT_CHARS),
        fact_type: z.enum(['world', 'experience']).catch('world'),
        entities: z
          .array(z.union([z.string(), z.object({ name: z.string(), type: z.string().nullish() })]))
          .default([]),
        occurred_start: isoDate,
        occurred_end: isoDate,
      }),
    )
    .min(1, 'no facts extracted'),
});

const SYSTEM_PROMPT = `You extract durable facts for an AI agent's long-term memory.
Return JSON: {"facts":[{"text":string,"fact_type":"world"|"experience","entities":[{"name":string,"type":string}],"occurred_start":ISO-8601|null,"occurred_end":ISO-8601|null}]}.
Each fact is one self-contained sentence that names its subject (no pronouns without referent).
"experience" is something the agent itself did or said; everything else is "world".
Entities are people, organisations, places, products and named concepts mentioned in the fact.
Dates: resolve relative dates against the event time given; null when the text has none.`;

/**
 * With an LLM: facts and entities as the model sees them. The output is validated by schema; an
 * empty or malformed answer throws `LlmOutputError` from the client, so a document is never
 * replaced by nothing.
 */
export async function extractFactsWithLlm(llm: LlmClient, input: ExtractionInput, signal?: AbortSignal): Promise<ExtractedFact[]> {
  const user = [
    input.timestamp ? `Event time: ${input.timestamp.toISOString()}` : 'Event time: unknown',
    input.context ? `Context: ${input.context}` : null,
    input.entities.length ? `Known entities: ${input.entities.map((entity) => entity.name).join(', ')}` : null,
    'Content:',
    input.content,
  ]
    .filter(Boolean)
    .join('\n');
  const answer = await llm.completeJson({ operation: 'extract-facts', system: SYSTEM_PROMPT, user, schema: llmFactsSchema }, signal);
  return answer.facts.map((fact) => ({
    text: fact.text,
    factType: fact.fact_type,
    entities: mergeEntities(
      input.entities.filter((entity) => mentions(fact.text, entity.name)),
      fact.entities.map((entity) => (typeof entity === 'string' ? { name: entity, type: null } : { name: entity.name, type: entity.type ?? null })),
    ),
    occurredStart: fact.occurred_start ?? input.timestamp,
    occurredEnd: fact.occurred_end ?? fact.occurred_start ?? input.timestamp,
  }));
}

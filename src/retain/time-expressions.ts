import type { ParsedComponents, ParsedResult, ParsingComponents, ParsingContext, ParsingResult } from 'chrono-node';
// The English locale alone: the package's root module loads all sixteen, 0.15 s more of
// every process start (and of every test file) spent on parsers nothing here uses.
import { casual } from 'chrono-node/en';
import { clampInstant } from '../storage/storable-instant.js';
import { COUNT, MONTH_WORDS, type TimePhrase, shifted } from '../time/calendar.js';
import { TIME_PHRASES } from '../time/phrases.js';
import { speaksOfTheFuture } from '../time/tense.js';

/** When a fact happened, as its own words say: "in March 2024", "last Tuesday", "two weeks ago". */
export interface OccurredRange {
  start: Date;
  end: Date;
  /**
   * The words give an hour or a part of the day and no day of their own ("at noon", "at 3pm", "in
   * the evening"): the day is the one the telling is about, which a sentence that goes on from
   * another ("Bruno took Marta to the zoo on Saturday. They fed the giraffes at noon.") takes from
   * the sentence before it rather than from the item.
   */
  timeOfDayOnly?: true;
}

type Unit = 'hour' | 'day' | 'month' | 'year';

/**
 * chrono's English parser, plus a bare year after a preposition ("in 2021", "since 2019"), which
 * chrono leaves alone on purpose (a number alone is rarely a year), and a span of such years
 * ("from 2018 to 2021", "between 2018 and 2021", "in 2018-2021"), of which the year alone kept
 * only the first. Parsing dates in prose is chrono's job; what a date means for a fact's range is
 * ours.
 */
const YEAR = '((?:19|20)\\d{2})';

/**
 * One parser for sentences about the past and one for those about the future: our own phrases
 * (src/time: a season, a holiday, "over the weekend") resolve by the tense, which chrono's context
 * does not carry.
 */
const PARSERS = { past: withOurPhrases(false), future: withOurPhrases(true) };

function withOurPhrases(future: boolean): typeof casual {
  const parser = casual.clone();
  parser.parsers.push({
    pattern: () => new RegExp(`\\b(?:from|between|in|during)\\s+${YEAR}\\s*(?:to|until|till|through|and|-|\\u2013)\\s*${YEAR}\\b`, 'i'),
    extract: (context, match) =>
      Number(match[2]) > Number(match[1])
        ? context.createParsingResult(
            match.index!,
            match[0],
            fixed(context, { year: Number(match[1]) }),
            fixed(context, { year: Number(match[2]) }),
          )
        : null,
  });
  // Our phrases (src/time), read as a question reads them: first, so that where chrono reads the
  // same words differently ("last week", one day) ours is the one kept.
  parser.parsers.unshift(...TIME_PHRASES.map((phrase) => ourParser(phrase, future)));
  parser.parsers.push({
    pattern: () => /\b(?:in|during|since|until|by|from|before|after)\s+((?:19|20)\d{2})\b(?![\s-]*(?:am|pm|:))(?!-\d)/i,
    extract: (context, match) => fixed(context, { year: Number(match[1]) }),
  });
  return parser;
}

/**
 * Words of ours that name no time after all ("in two years" in a sentence about the past, how long
 * it took; "31/4/2024"): their result stays, tagged, so that chrono's reading of the same words
 * ("two years from then") is dropped as overlapping, and the range skips it.
 */
const NO_TIME = 'nestjs-memory/no-time';
/** A vague time of ours ("recently"), which gives way to a precise one in the same sentence. */
const VAGUE = 'nestjs-memory/vague';

function ourParser({ source, unit, resolve, vague }: TimePhrase, future: boolean) {
  const pattern = new RegExp(source, 'i');
  return {
    pattern: () => pattern,
    extract: (context: ParsingContext, match: RegExpMatchArray) => {
      const span = resolve(match, context.refDate, future);
      if (span) {
        const result = spanResult(context, match, span, unit);
        return vague ? result.addTag(VAGUE) : result;
      }
      return context
        .createParsingResult(match.index!, match[0], fixed(context, { year: context.refDate.getUTCFullYear() }))
        .addTag(NO_TIME);
    },
  };
}

/** A span of ours as chrono's result: its first year, month or day to its last, each certain to it. */
function spanResult(
  context: ParsingContext,
  match: RegExpMatchArray,
  span: OccurredRange,
  certainTo: 'year' | 'month' | 'day',
): ParsingResult {
  const last = new Date(span.end);
  if (certainTo === 'year') last.setUTCFullYear(last.getUTCFullYear() - 1);
  else if (certainTo === 'month') last.setUTCMonth(last.getUTCMonth() - 1);
  else last.setUTCDate(last.getUTCDate() - 1);
  const known = (date: Date) => ({
    year: date.getUTCFullYear(),
    ...(certainTo !== 'year' && { month: date.getUTCMonth() + 1 }),
    ...(certainTo === 'day' && { day: date.getUTCDate() }),
  });
  return context.createParsingResult(match.index!, match[0], fixed(context, known(span.start)), fixed(context, known(last)));
}

/**
 * Components known to the year, month or day, the rest implied as chrono implies them for "March
 * 2024" (the first, at noon) rather than from the reference, which it does by default: an
 * absolute "in 2021" then read differently against the two probes of `occurredRangeIn` and was
 * dropped from an item without a time of its own.
 */
function fixed(context: ParsingContext, known: { year: number; month?: number; day?: number }): ParsingComponents {
  return context
    .createParsingComponents(known)
    .imply('month', known.month ?? 1)
    .imply('day', known.day ?? 1)
    .imply('hour', 12)
    .imply('minute', 0)
    .imply('second', 0)
    .imply('millisecond', 0);
}

/**
 * The range of the first time expression in `sentence`, resolved against `reference` (the item's
 * event time), as wide as what the words pin down: a day for "last Tuesday", a month for "in March
 * 2024", a year for "in 2021", from the first to the last for "from 3 to 5 May 2023".
 * Recurring times ("every Monday") describe a schedule, not when the fact happened: ignored.
 * Without a reference only absolute dates count: "yesterday" means nothing without a "today".
 */
export function occurredRangeIn(sentence: string, reference: Date | null): OccurredRange | null {
  const future = speaksOfTheFuture(sentence);
  const parser = future ? PARSERS.future : PARSERS.past;
  const results = parse(parser, sentence, reference ?? ABSOLUTE_PROBE[0]);
  // An absolute date reads the same whatever "now" is; "yesterday" does not.
  const absolute = reference ? null : new Set(parse(parser, sentence, ABSOLUTE_PROBE[1]).map((result) => result.start.date().getTime()));
  // A vague time gives way to a precise one in the same words ("Anna's upcoming trip in May").
  const ordered = [...results.filter((result) => !result.tags().has(VAGUE)), ...results.filter((result) => result.tags().has(VAGUE))];
  for (const result of ordered) {
    if (result.tags().has(NO_TIME) || /\bevery\s+$/i.test(sentence.slice(0, result.index))) continue;
    if (absolute && !absolute.has(result.start.date().getTime())) continue;
    const startUnit = unitOf(result.start);
    let start = new Date(floor(result.start.date(), startUnit).getTime() + afternoonShift(result.start, sentence));
    const last = result.end ?? result.start;
    let end = new Date(add(floor(last.date(), unitOf(last)), unitOf(last)).getTime() + afternoonShift(last, sentence));
    const since = /^since\b/i.test(result.text) || /\bsince\s+$/i.test(sentence.slice(0, result.index));
    // "since" looks back whatever the tense ("She is living in Porto since May").
    const ahead = future && !since;
    const step = reference ? undatedStep(result) : null;
    // A sentence about the past means the last such date by then, one about the future the next.
    if (step && !ahead && start.getTime() > reference!.getTime()) [start, end] = [shifted(start, step, -1), shifted(end, step, -1)];
    if (step && ahead && end.getTime() <= reference!.getTime()) [start, end] = [shifted(start, step, 1), shifted(end, step, 1)];
    // "since March", "in the past 10 days": until the item's time, as a question reads them.
    if (reference && !ahead && reference.getTime() > start.getTime()) {
      if (since) end = reference;
      else if (ROLLING_WINDOW.test(result.text)) [start, end] = [result.start.date(), reference];
    }
    // "31 December 9999" ends where no memory's time can be; "tomorrow" then starts there.
    const stored: OccurredRange = { start: clampInstant(start), end: clampInstant(end) };
    if (stored.end.getTime() <= stored.start.getTime()) continue;
    if (namesNoDay(result)) stored.timeOfDayOnly = true;
    return stored;
  }
  return null;
}

/** "This morning", "tonight": a part of the day that names its day too, the day it was said. */
const NAMES_ITS_DAY = /\b(?:this|today|tonight|yesterday|tomorrow)\b/i;

/** An hour ("at 3pm", "at noon") or chrono's part of a day ("in the evening"), and nothing of a date. */
function namesNoDay(result: ParsedResult): boolean {
  const isTimeOfDay = result.start.isCertain('hour') || result.tags().has('parser/ENCasualTimeParser');
  const components = [result.start, ...(result.end ? [result.end] : [])];
  const namesADay = components.some((part) => (['day', 'weekday', 'month', 'year'] as const).some((unit) => part.isCertain(unit)));
  return isTimeOfDay && !namesADay && !NAMES_ITS_DAY.test(result.text);
}

/**
 * chrono takes an hour said without am or pm as the morning's: "Meeting with Bob at 2 tomorrow" was
 * 02:00, "Dinner at 6 on Friday" 06:00. In what people tell an agent, one to six o'clock without
 * am or pm is the afternoon's, unless the words are of the night or the early morning.
 */
const OF_THE_NIGHT_OR_MORNING = /\b(?:night|overnight|midnight|morning|dawn|sunrise|early|woke|wake|wakes|waking|breakfast|am|a\.m\.)\b/i;

function afternoonShift(components: ParsedComponents, sentence: string): number {
  if (!components.isCertain('hour') || components.isCertain('meridiem')) return 0;
  const hour = components.get('hour') ?? 0;
  return hour >= 1 && hour <= 6 && !OF_THE_NIGHT_OR_MORNING.test(sentence) ? 12 * 3_600_000 : 0;
}

/** chrono's text for "the past 10 days", "the last two weeks", "the past week": a window that ends when it was said. */
const ROLLING_WINDOW = new RegExp(
  `^(?:(?:last|past|previous)\\s+(?:${COUNT})\\s+(?:day|week|month|year)s?|past\\s+(?:day|week|month|year))$`,
  'i',
);

const ABSOLUTE_PROBE = [new Date('2000-06-15T12:00:00Z'), new Date('2040-01-20T03:00:00Z')] as const;

/**
 * chrono reads a bare number before a time phrase as an hour: "We sold 19 last week" was Monday
 * 19:00 to Sunday 20:00, "She scored 10 last Sunday" 10 am, "version 4.2.19 last week" the same.
 * A number is an hour where words make it one ("at 10 on Sunday", "10am", "10:30 yesterday"; "May
 * 12 on a Friday" is a date); otherwise it is blanked, at the same length so that indices hold,
 * before chrono reads the sentence.
 */
const BARE_NUMBER_BEFORE_A_TIME = new RegExp(
  `(?<!\\b(?:at|by|around|about|from|until|till|to|before|after|${MONTH_WORDS.flat().join('|')})\\.?\\s+)(?<!:)\\b\\d{1,2}(?=\\s+(?:last|this|next|on|yesterday|today|tomorrow|tonight)\\b)`,
  'gi',
);

function parse(parser: typeof casual, sentence: string, instant: Date): ParsedResult[] {
  const read = sentence.replace(BARE_NUMBER_BEFORE_A_TIME, (number) => ' '.repeat(number.length));
  return parser.parse(read, { instant, timezone: 'UTC' }, { forwardDate: false });
}

/**
 * What a date leaves to the reader: the year ("in September", "on 1 May"), the week ("on
 * Thursday") or the day ("at 3pm"), unless its own words say which ("last", "this", "next").
 * chrono takes the nearest such date, after the reference as readily as before it: "Bruno
 * repainted his boat on Thursday", said on a Monday, was the coming Thursday, and "Anna moved to
 * Berlin in September", said in June, the September to come. A question reads a month or weekday
 * without a year as the last one that has begun (src/recall/temporal-query.ts), or the next in a
 * question about the future, and so does a sentence (src/time/tense.ts).
 */
function undatedStep(result: ParsedResult): 'year' | 'week' | 'day' | null {
  if (/\b(?:last|previous|past|this|next|coming)\b/i.test(result.text)) return null;
  const stated = result.start;
  if (stated.isCertain('year')) return null;
  if (stated.isCertain('month')) return 'year';
  if (stated.isCertain('weekday') && !stated.isCertain('day')) return 'week';
  if (stated.isCertain('hour') && !stated.isCertain('day')) return 'day';
  return null;
}

function unitOf(components: ParsedComponents): Unit {
  if (components.isCertain('hour')) return 'hour';
  if (components.isCertain('day') || components.isCertain('weekday')) return 'day';
  if (components.isCertain('month')) return 'month';
  if (components.isCertain('year')) return 'year';
  return 'day';
}

function floor(date: Date, unit: Unit): Date {
  const floored = new Date(date);
  floored.setUTCMinutes(0, 0, 0);
  if (unit === 'hour') return floored;
  floored.setUTCHours(0);
  if (unit === 'day') return floored;
  // Set field by field rather than with Date.UTC, which reads years 0 to 99 as 1900 to 1999.
  floored.setUTCDate(1);
  if (unit === 'month') return floored;
  floored.setUTCMonth(0);
  return floored;
}

function add(date: Date, unit: Unit): Date {
  const next = new Date(date);
  if (unit === 'year') next.setUTCFullYear(next.getUTCFullYear() + 1);
  else if (unit === 'month') next.setUTCMonth(next.getUTCMonth() + 1);
  else if (unit === 'day') next.setUTCDate(next.getUTCDate() + 1);
  else next.setUTCHours(next.getUTCHours() + 1);
  return next;
}

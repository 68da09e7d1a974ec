import { MONTH_NAMES, WEEKDAY_NAMES } from './calendar.js';

/**
 * Whether words put their time ahead of when they were said: "will", "'ll", "going to", "plans
 * to", "is flying", "is Anna moving", and the present of an arrangement ("The wedding is on
 * Saturday", "Her flight leaves on Friday", "I have a dentist appointment on Thursday", "What do I
 * have on Thursday?"). Without them, a sentence states what happened and a question asks what did,
 * and a date without a year or week ("on Thursday", "in September", "at Christmas") is the last
 * one by then; with them, the next one. One reading for a retained sentence
 * (src/retain/time-expressions.ts) and a question (src/recall/temporal-query.ts).
 */

/** Words ending in "ing" that are no verb ("It is spring", "the king"). */
const NOT_A_VERB =
  '(?!(?:being|thing|something|nothing|anything|everything|king|spring|string|morning|evening|during|ceiling|wedding|sibling)\\b)';

const FUTURE_WORDS = new RegExp(
  [
    // "will" but not the noun ("her will", "free will"); "going to" but not "was going to".
    '(?<!\\b(?:a|the|her|his|my|your|our|their|its|free|last|good|ill)\\s+)\\bwill\\b',
    '(?<!\\b(?:was|were)\\s+)\\b(?:going to|gonna)\\b',
    "\\b(?:shall|won't|(?:plans?|planning|intends?|hopes?|wants?|expects?) to|(?:is|are) (?:due|scheduled|to)\\b|upcoming)\\b",
    "\\w'll\\b",
    // "Anna is flying to Rome", "I'm meeting Bob": the present progressive of an arrangement.
    `\\b(?:am|is|are|I'm|we're|they're|you're)\\s+${NOT_A_VERB}\\w+ing\\b`,
  ].join('|'),
  'i',
);

/** The same asked, "Is Anna moving in September?", "What's Bob doing?": case matters here, to tell a name from a word. */
const ASKED_PROGRESSIVE = new RegExp(
  `\\b(?:[Ii]s|[Aa]re|[Aa]m|(?:[Ww]hat|[Ww]here|[Ww]ho|[Ww]hen|[Hh]ow)['\\u2019]s)\\s+(?:I|we|you|they|he|she|it|\\p{Lu}\\p{Ll}+)\\s+${NOT_A_VERB}\\p{Ll}+ing\\b`,
  'u',
);

/** A time an arrangement is put at: a weekday, a month, a holiday, the weekend, an hour or a day of the month. */
const ARRANGED_TIME = `(?:the\\s+)?(?:(?:${[...WEEKDAY_NAMES, ...MONTH_NAMES].join('|')}|christmas|easter|halloween|new year|valentine|weekend|noon|midnight)\\b|\\d)`;

/**
 * English puts a timetabled or arranged event in the present: a copula with its time ("The wedding
 * is on Saturday", "The party's Friday", "Is the wedding on Saturday?", "We are on holiday in
 * July"), a verb of a timetable ("The course starts on Monday", "The kids start school in
 * September", "My son turns 5 on Saturday"), what someone has on ("I have a dentist appointment on
 * Thursday", "Anna's got an exam in May"), what is due ("due in November"). Nouns that look like such verbs follow a
 * determiner ("The leaves fell on Monday"); a question about the past has "did" before the verb.
 */
const ARRANGED_IN_THE_PRESENT = new RegExp(
  [
    `\\b(?:is|are|am|['\\u2019]s|['\\u2019]re)\\s+(?:(?:on|in|at|for)\\s+${ARRANGED_TIME}|(?:${WEEKDAY_NAMES.join('|')})\\b)`,
    `\\b(?:is|are)\\s+(?:the|my|your|his|her|our|their)\\s+\\w+\\s+(?:on|in|at)\\s+${ARRANGED_TIME}`,
    '(?<!\\b(?:the|a|an|my|your|his|her|its|our|their|these|those|some|all|many|few|no)\\s+)\\b(?:starts|begins|opens|closes|ends|finishes|leaves|departs|arrives|lands|returns|flies|sails|travels|moves|comes|goes|visits|meets|happens|expires|renews|runs|turns|takes\\s+place)\\b',
    "(?<!\\b(?:did|didn't)\\s+)\\b(?:I|we|you|they|\\w+s)\\s+(?:start|begin|open|close|finish|leave|depart|arrive|land|return|fly|sail|travel|move|come|go|visit|meet)\\b",
    // "due in November", "is held in May"; "We are on holiday in July", "I'm off on Friday"
    `\\b(?:due\\s+(?:on|in|at|by)|(?:is|are)\\s+held)\\b`,
    `\\b(?:is|are|am|['\\u2019]s|['\\u2019]re|['\\u2019]m)\\s+(?:on|in|at|away|off|out|back|home)\\b[^.,;!?]{0,30}?\\b(?:on|in|at|over)\\s+${ARRANGED_TIME}`,
    "(?:\\b(?:have|has)|['\\u2019]ve|['\\u2019]s(?=\\s+got))\\s+(?:got\\s+)?(?:a|an|the|my|our|your|his|her|their|another|two|three|some)\\b",
  ].join('|'),
  'i',
);

/** The question that asks for one: "What do I have on Thursday?", "What time does Anna leave on Friday?". */
const ASKED_IN_THE_PRESENT =
  /(?:^|[.!?]\s+|\b(?:[Ww]hat|[Ww]here|[Ww]ho|[Ww]hich|[Ww]hen|[Hh]ow|[Ww]hy)\s+(?:\p{Ll}+\s+)?)(?:[Dd]o|[Dd]oes)\s+(?:I|we|you|they|he|she|it|\p{Lu}\p{Ll}+|(?:the|my|your|his|her|our|their)\s+\p{Ll}+)\b/u;

/**
 * What makes words in the present about the past after all: a past tense ("was", "met",
 * "joined"), "ago", a birth; and the verbs that ask what is remembered of a time ("What do I
 * remember from Monday?"), not what is planned for it. Not "think" or "know", which say the
 * arrangement itself ("I think the meeting is on Friday").
 */
const SPOKEN_OF_AS_PAST =
  /\b(?:did|didn't|was|wasn't|were|weren't|had|hadn't|used to|ago|yesterday|born|been|went|came|saw|met|took|gave|made|ate|ran|swam|flew|left|began|bought|brought|found|felt|kept|lost|paid|sat|wrote|spoke|sold|sent|spent|won|wore|drove|rode|broke|fell|remember|recall)\b|\b\w{2,}(?<!e)ed\b/i;

export function speaksOfTheFuture(text: string): boolean {
  if (FUTURE_WORDS.test(text) || ASKED_PROGRESSIVE.test(text)) return true;
  return (ARRANGED_IN_THE_PRESENT.test(text) || ASKED_IN_THE_PRESENT.test(text)) && !SPOKEN_OF_AS_PAST.test(text);
}

/**
 * A statement of how things were rather than are: "Anna used to live in Paris.", "Bruno formerly
 * worked at Initech.", "In the past she drove a Fiat." It says nothing of now, however recently it
 * was said: retained in 2025 with no date of its own, it is no newer state than "Anna lives in
 * Lisbon." of 2023. "No longer" is not one: "Evan no longer lives in Berlin" is how things are;
 * nor is "in the past few weeks", a time that reaches now.
 */
const HOW_THINGS_WERE =
  /\b(?:used to|formerly|previously|back then|once (?:lived|worked|owned|drove)|in the past(?!\s+(?:[\w-]+\s+){0,2}(?:hours?|days?|weeks?|months?|years?|decades?)\b))\b/i;

export function tellsHowThingsWere(statement: string): boolean {
  return HOW_THINGS_WERE.test(statement);
}

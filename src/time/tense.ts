/**
 * Whether words put their time ahead of when they were said: "will", "'ll", "going to", "plans
 * to", "is flying", "is Anna moving". Without them, a sentence states what happened and a
 * question asks what did, and a date without a year or week ("on Thursday", "in September", "at
 * Christmas") is the last one by then; with them, the next one. One reading for a retained
 * sentence (src/retain/time-expressions.ts) and a question (src/recall/temporal-query.ts).
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

export function speaksOfTheFuture(text: string): boolean {
  return FUTURE_WORDS.test(text) || ASKED_PROGRESSIVE.test(text);
}

import { canonicalEntityName } from '../entities/entity-names.js';
import { MONTH_WORDS, WEEKDAY_NAMES } from '../time/calendar.js';
import { tellsHowThingsWere } from '../time/tense.js';

/**
 * Which fact about whom a sentence states, for the personal attributes that change over a life
 * and that agents are asked about most: where someone lives, whom they work for, their role,
 * how to reach them, and when a recurring event takes place. Two memories with the same key say
 * the same kind of thing about the same subject, so the newer supersedes the older
 * (docs/ARCHITECTURE.md, "Supersession").
 *
 * A rule, not a model: it is right on plain statements ("Evan Novak moved to Oslo.", "Bruno's
 * phone number is 555-0199", "Carol was promoted to lead engineer.", "The design review moved to
 * Friday.") and says nothing (`null`) where it is not sure. What it does not catch is listed in
 * the README.
 */
const ROLES =
  'engineer|manager|developer|designer|director|analyst|nurse|doctor|teacher|lead|intern|consultant|scientist|architect|officer|accountant|lawyer|editor|specialist|coordinator|administrator|assistant|head|vp|ceo|cto|cfo|founder|partner';

/**
 * What someone drives or rides, by what it is or by its maker's name ("drives a grey Volvo
 * estate", "rides an electric scooter"). A bicycle is left out of riding: people ride one beside
 * the car they drive, and it would supersede the car.
 */
const VEHICLES =
  'car|cars|van|truck|pickup|pick-up|suv|estate|hatchback|saloon|sedan|coupe|convertible|jeep|minivan|campervan|camper|motorbike|motorcycle|scooter|moped|e-scooter|tractor';
const DRIVEN = `(?:an?\\s+)(?:(?:[\\p{Ll}-]+\\s+){0,2}(?:${VEHICLES})\\b|(?:[\\p{Ll}-]+\\s+){0,2}\\p{Lu})`;

/**
 * Whom someone is with: married to, engaged to or dating someone named, or no longer ("broke up
 * with Tom", "got divorced"), or a partner named as theirs ("Anna's husband is Ben Okafor"). A name
 * or a partner must follow: "broke up with the band" keys nothing. "Seeing" is not read: people are
 * seeing a doctor as often as someone.
 */
const PARTNERS = 'husband|wife|partner|boyfriend|girlfriend|fiancé|fiancée|fiance|fiancee|spouse';
const PARTNERED = `\\b(?:(?:is|was|got|are|were)\\s+(?:now\\s+)?(?:married|engaged|divorced)\\b|(?:married|dating|engaged\\s+to|in\\s+a\\s+relationship\\s+with|broke\\s+up\\s+with|split\\s+up\\s+with|separated\\s+from|divorced)\\s+(?:\\p{Lu}|(?:her|his|their)\\s+(?:${PARTNERS})\\b)|(?:${PARTNERS})\\s+is\\s+\\p{Lu})`;

/** A favourite said as one ("favourite restaurant is", "favorite color was"), its head noun captured. */
const FAVOURITE = /\bfavou?rite\s+(?:[\p{L}-]+\s+)?([\p{L}-]+)\s+(?:is|are|was|were)\b/u;

/**
 * Each pattern names what states the attribute, not merely a word it shares: "moved the couch to
 * the garage", "moved on to a new project", "joined the book club", "started at 9am", "lost her
 * phone", "sent an email about the budget" and "became a mother" were keyed, and so superseded
 * where someone lives, whom they work for, their number or their job.
 */
const PERSON_ATTRIBUTES: Array<{ attribute: string | ((stated: RegExpExecArray) => string); pattern: RegExp }> = [
  {
    attribute: 'residence',
    pattern:
      /\b(?:lives?|living|resides?|residing|based|settled)\b[^.]*?\b(?:in|to)\b|\b(?:moved|relocated|moving|relocating)\s+(?:back\s+|away\s+|house\s+|abroad\s+)?(?:to|into|in)\b(?!\s+(?:a|an|the)\s+(?:new\s+)?(?:project|team|role|position|job|department|phase|topic|stage|level)\b)/i,
  },
  { attribute: 'phone', pattern: /\b(?:phone|mobile|cell)(?:\s+(?:number|no\.?)\b|\b[^.]*\d{3})/i },
  { attribute: 'email', pattern: /\be-?mail\s+(?:address\b|is\b)|\b[\w.+-]+@[\w-]+\.[\w.]+/i },
  { attribute: 'address', pattern: /\b(?:home|postal|street|mailing)?\s*address\b/i },
  {
    attribute: 'vehicle',
    // A vehicle after "a" or "an" only: "drives the kids to school", "drives a hard bargain" and
    // "rides a bike to work" key nothing.
    pattern: new RegExp(`\\b(?:drives|driving|rides|riding)\\s+${DRIVEN}`, 'u'),
  },
  { attribute: 'partner', pattern: new RegExp(PARTNERED, 'u') },
  // "Felix's favourite restaurant is Chez Lou.", "My favourite Italian restaurant is …": a line for
  // each kind of thing, by its head noun ("favourite restaurant").
  { attribute: (stated) => `favourite ${stated[1].toLowerCase()}`, pattern: FAVOURITE },
  {
    attribute: 'role',
    pattern: new RegExp(
      `\\b(?:promoted|demoted|works as|job title|title is|role is|position is|now (?:a|an|the))\\b|\\b(?:is|became|becomes) (?:(?:a|an|the) )?(?:[\\w-]+ ){0,2}(?:${ROLES})\\b`,
      'i',
    ),
  },
  {
    attribute: 'employer',
    // "joined" and "started" name an employer only when a name or a workplace follows ("joined
    // Acme", "joined a startup", "started at Globex"): "joined the book club", "started at 9am"
    // do not.
    pattern:
      /\b(?:works?|working|employed|hired)\b[^.]*?\b(?:at|for|by)\b|\b(?:joined|started(?:\s+(?:work|working|a\s+job))?\s+(?:at|with|for))\s+(?:(?:the\s+)?\p{Lu}|(?:a|an|the)\s+(?:[\p{L}-]+\s+)?(?:startup|start-up|company|firm|bank|lab|laboratory|agency|studio|hospital|clinic|university|school|team|consultancy|business|nonprofit|charity|newspaper|practice)\b)/u,
  },
];

const EVENT =
  /((?:[\w'’]+[- ]){0,2}?)\b(meeting|sync|standup|stand-up|call|class|appointment|review|lesson|session|check-in|1:1|one-on-one)\b/i;
const EVENT_TIMING = /\b(?:moved|rescheduled|is (?:now )?(?:on|at|every)|takes place|happens|will be (?:on|at)|starts)\b/i;
const ARTICLES = new Set(['the', 'a', 'an', 'our', 'my', 'his', 'her', 'their', 'your']);

/**
 * The longest key kept. With the bank id it is the key of a btree index (`memory_units_attribute`),
 * whose entries hold at most 2,704 bytes: a fact's text can be 2,000 characters, and a key that
 * long (an event named by a run of made-up words) would refuse the memory. A real person's or
 * event's key is a few words; a longer one keys nothing.
 */
export const ATTRIBUTE_KEY_MAX_LENGTH = 400;

export function attributeKey(sentence: string, subject: string | null | undefined): string | null {
  return keptAttributeKey(keyOf(sentence, subject));
}

/** `key` if it is short enough to keep, else `null`: for keys this rule made and keys an archive brings. */
export function keptAttributeKey(key: string | null | undefined): string | null {
  return key != null && key.length <= ATTRIBUTE_KEY_MAX_LENGTH ? key : null;
}

/**
 * A sentence that opens with someone or something of the subject's ("Anna Berg's sister lives in
 * Oslo.", "Her husband works at Initech.") states an attribute of that one, not of the subject:
 * keyed by the subject, it superseded where Anna lives. Her own attribute said the same way ("Anna's
 * phone number is …", "Her new e-mail is …", "His car is a Volvo") is still hers.
 */
const OPENS_WITH_SOMEONE_OF_THEIRS =
  /^\s*(?:(?:\p{Lu}[\p{L}.'’-]*\s+){0,3}\p{Lu}[\p{L}.-]*['’]s|[Hh]er|[Hh]is|[Tt]heir|[Mm]y)\s+(?:(?:new|old|current|latest|former|previous|usual|own|home|work|mobile|personal|private)\s+)*([\p{L}-]+)/u;
const OWN_ATTRIBUTES = new Set(
  `phone|mobile|cell|number|e-mail|email|address|job|title|role|position|employer|workplace|vehicle|favourite|favorite|${VEHICLES}`.split(
    '|',
  ),
);
/** A partner is someone of theirs too, but only whom they are with is theirs: "Her husband works at Initech" is his employer. */
const OWN_PARTNERS = new Set(PARTNERS.split('|'));

function aboutSomeoneOfTheirs(sentence: string, attribute: string): boolean {
  const owned = OPENS_WITH_SOMEONE_OF_THEIRS.exec(sentence)?.[1]?.toLowerCase();
  return owned !== undefined && !OWN_ATTRIBUTES.has(owned) && !(attribute === 'partner' && OWN_PARTNERS.has(owned));
}

/** Capitalised words before a verb that are not someone else: the time, or the subject said as a pronoun. */
const NOT_SOMEONE_ELSE = new Set([...MONTH_WORDS.flat(), ...WEEKDAY_NAMES, ...'she he they i we you her his their my our your'.split(' ')]);

/**
 * Whether the words that state the attribute are said of another name ("Anna said Tom lives in
 * Oslo.", "Anna visited Tom, who lives in Oslo.", "She met Tom Berg, who works at Initech."): the
 * name right before them, or before a "who" that opens them. Keyed by the subject, Tom's city
 * superseded where Anna lives. A name elsewhere in the sentence is no such sign ("Anna sold the Fiat
 * and rides an electric scooter" is Anna's), nor is one that shares the verb with the subject ("Anna
 * and Tom moved to Oslo").
 */
function saidOfAnother(sentence: string, subject: string, statedAt: number): boolean {
  const before = /(\p{Lu}[\p{L}'’-]*)(?:\s*,?\s+who(?:se)?(?:\s+\p{Ll}+)?)?\s*$/u.exec(sentence.slice(0, statedAt));
  if (!before) return false;
  const name = before[1].replace(/['’]s$/, '').toLowerCase();
  // "Anna and Tom moved to Oslo": both did, Anna too.
  const alongside = /\band\s+$/.test(sentence.slice(0, before.index));
  return !alongside && !NOT_SOMEONE_ELSE.has(name) && !canonicalEntityName(subject).split(' ').includes(name);
}

/**
 * Whoever speaks in the first person: what an agent is told most is about the one telling it ("I
 * moved to Oslo.", "My new phone number is …"), and without a subject those keyed nothing, so "I
 * live in Lisbon." stayed the answer to "Where do I live?". One speaker per tag set: supersession
 * lines never cross tag sets, so a bank shared by several people tags each one's memories apart,
 * as it does for recall.
 */
const SPEAKER = 'me';

/**
 * "I …", "My …", or a time and then "I" ("Last month I moved to Oslo."); or "The user …", as a
 * model extracting facts names the one who told them in the first person, so that "I live in
 * Lisbon." retained without a model and "The user moved to Oslo." extracted by one are one line.
 */
const THE_USER = /^\s*(?:[Tt]he\s+)?[Uu]ser(?:['’]s)?\b/;
const IN_THE_FIRST_PERSON = /^\s*(?:(?:[\p{L}\d][\p{L}\d'’-]*,?\s+){0,3}?(?:I|I['’](?:m|ve|d))\b|[Mm]y\s)/u;

/** The subject when the sentence opens with it ("Anna and I moved …" is Anna's), else the speaker of a first-person sentence. */
function ownerOf(sentence: string, subject: string | null | undefined): string | null {
  if (subject && sentence.trimStart().startsWith(subject.split(/\s+/)[0])) return subject;
  if (IN_THE_FIRST_PERSON.test(sentence) || THE_USER.test(sentence)) return SPEAKER;
  return subject ?? null;
}

function keyOf(sentence: string, subject: string | null | undefined): string | null {
  // An event's timing first: "Alice's piano lesson moved to Friday" is about the lesson, not
  // where Alice lives.
  const event = EVENT.exec(sentence);
  if (event && EVENT_TIMING.test(sentence)) {
    const owner = subject ? canonicalEntityName(subject) : '';
    const words = `${event[1]}${event[2]}`
      .toLowerCase()
      .split(/[\s-]+/)
      .map((word) => word.replace(/['’]s$/, ''))
      .filter((word) => word && !ARTICLES.has(word) && !owner.split(' ').includes(word));
    return `${owner ? `${owner} ` : ''}${words.join(' ')}|schedule`;
  }
  const owner = ownerOf(sentence, subject);
  // How things were is no newer state, whenever it was said: "used to live in Paris" keyed and
  // dated when it was told superseded where Anna lives now.
  if (!owner || tellsHowThingsWere(sentence)) return null;
  for (const rule of PERSON_ATTRIBUTES) {
    const stated = rule.pattern.exec(sentence);
    if (!stated) continue;
    const attribute = typeof rule.attribute === 'string' ? rule.attribute : rule.attribute(stated);
    const another = aboutSomeoneOfTheirs(sentence, attribute) || saidOfAnother(sentence, owner, stated.index);
    return another ? null : `${canonicalEntityName(owner)}|${attribute}`;
  }
  return null;
}

/**
 * The attributes a question asks about, in the vocabulary of `PERSON_ATTRIBUTES`: "What's Carol's
 * job title?" asks for `role`, though it shares no word with "Carol Diaz was promoted to
 * engineering manager." Recall uses it to put the memories keyed to that attribute of the person
 * the question names first among that person's memories.
 */
const ASKED_ATTRIBUTES: Array<{ attribute: string; pattern: RegExp }> = [
  { attribute: 'residence', pattern: /\b(?:live|lives|living|based|reside|resides|residing|home town|hometown)\b/i },
  { attribute: 'employer', pattern: /\b(?:work|works|working|employer|employed|company)\b/i },
  { attribute: 'role', pattern: /\b(?:job|title|role|position|occupation|profession)\b/i },
  { attribute: 'phone', pattern: /\b(?:phone|mobile|cell|call)\b|\bnumber\b/i },
  { attribute: 'email', pattern: /\be-?mail\b/i },
  { attribute: 'address', pattern: /\baddress\b/i },
  { attribute: 'vehicle', pattern: /\b(?:drive|drives|driving|car|vehicle)\b/i },
  { attribute: 'partner', pattern: /\b(?:partner|husband|wife|boyfriend|girlfriend|spouse|fianc\p{L}*|married|dating)\b/iu },
];

/** "favourite restaurant in Lisbon", "favourite Italian restaurant": either of the two words after it may be the head noun. */
const ASKED_FAVOURITE = /\bfavou?rite\s+([\p{L}-]+)(?:\s+([\p{L}-]+))?/u;

export function askedAttributes(question: string): string[] {
  const fixed = ASKED_ATTRIBUTES.filter(({ pattern }) => pattern.test(question)).map(({ attribute }) => attribute);
  const favourite = ASKED_FAVOURITE.exec(question);
  const kinds = favourite ? [favourite[1], favourite[2]].filter(Boolean).map((noun) => `favourite ${noun.toLowerCase()}`) : [];
  return [...fixed, ...kinds];
}

/** The attribute keys a question asks about for the people it names (canonical names). */
export function askedAttributeKeys(question: string, canonicalNames: string[]): string[] {
  const attributes = askedAttributes(question);
  return canonicalNames.flatMap((name) => attributes.map((attribute) => `${name}|${attribute}`));
}

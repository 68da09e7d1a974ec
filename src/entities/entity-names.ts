/**
 * How names found in text become entities. Retain and memory edits both name entities, and must
 * agree on it: two spellings of one name are one entity only if both paths key it alike.
 */

/**
 * The longest entity name kept, in UTF-16 code units. The bank id and the canonical name are
 * together the key of `entities`' btree indexes, whose entries hold at most 2,704 bytes, and a
 * code unit can take 3 bytes of UTF-8: with the bank id's limit the two must fit
 * (`ID_KEY_MAX_UNITS`, memory.options.ts). A longer "name", whether a caller, the LLM or the
 * heuristic below found it, names nothing an agent would ask about by name.
 */
export const ENTITY_NAME_MAX_LENGTH = 256;

export interface ExtractedEntity {
  name: string;
  type: string | null;
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
 * What chat messages and to-do lists open with: greetings, "OK", "Sounds good", an imperative
 * ("Call Anna"). Opening a run of capitals they name nothing, and they became entities ("Thanks",
 * "Hi Bob", "Call Anna") and the subject of the sentences after them. Only dropped where they
 * open the run, so that "Best Buy" keeps its name; no common first name is here ("Will", "Hope").
 */
const OPENERS = new Set(
  (
    'thanks thank hi hello hey dear ok okay sure sorry please yeah yep nope well oh wow great good nice cool ' +
    'fine sounds just maybe perhaps actually anyway now still again both many most other another such let ' +
    "let's lets note remember reminder todo congrats congratulations welcome bye goodbye cheers regards " +
    'call buy pay send email book ask tell remind meet visit check pick get take make bring fix cancel ' +
    'schedule order finish start stop see'
  ).split(' '),
);

/**
 * A heuristic for names: runs of capitalised words, dropping the function words a sentence may
 * start with. It finds "Alice", "New York", "Acme Corp"; it misses lower-case names and keeps
 * some false friends, which only cost a little entity-arm precision.
 */
export function properNouns(sentence: string): ExtractedEntity[] {
  const found: ExtractedEntity[] = [];
  // A capital inside a word ("iPhone") starts no name: the name would be the word's tail.
  const runs =
    sentence.match(/(?<![\p{L}\p{N}])\p{Lu}[\p{L}\p{N}'’-]*(?:\s+(?:of\s+|de\s+|van\s+|von\s+)?\p{Lu}[\p{L}\p{N}'’-]*)*/gu) ?? [];
  for (const run of runs) {
    const key = (word: string) => word.toLowerCase().replace(/['’]s$/, '');
    const words = run.split(/\s+/).filter((word) => !NOT_NAMES.has(key(word)));
    while (words.length > 0 && OPENERS.has(key(words[0]))) words.shift();
    const name = words.join(' ').replace(/['’]s$/, '');
    if (name.length >= 2 && name.length <= ENTITY_NAME_MAX_LENGTH && !/^\p{Lu}$/u.test(name)) found.push({ name, type: null });
  }
  return found;
}

/** The key an entity is unique by within its bank (`entities.canonical_name`). */
export function canonicalEntityName(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** The entities of all lists, each canonical name once; names too long to key are left out. */
export function mergeEntities(...lists: ExtractedEntity[][]): ExtractedEntity[] {
  const byName = new Map<string, ExtractedEntity>();
  for (const entity of lists.flat()) {
    const key = canonicalEntityName(entity.name);
    if (!key || key.length > ENTITY_NAME_MAX_LENGTH) continue;
    const known = byName.get(key);
    if (!known) byName.set(key, { name: entity.name.trim(), type: entity.type });
    else if (!known.type && entity.type) known.type = entity.type;
  }
  return [...byName.values()];
}

/**
 * The name a sentence opens with ("Alice joined Acme…", "Bruno's phone…"): whom it is about, the
 * way people introduce the subject they talk about. `undefined` when it opens otherwise.
 */
export function openingName(sentence: string, named: ExtractedEntity[] = properNouns(sentence)): string | undefined {
  const [first] = named;
  return first && opensWith(sentence, first.name) ? first.name : undefined;
}

/**
 * Of entities listed in no particular order (a model's), the one the sentence opens with, else the
 * name it opens with by `openingName`.
 */
export function openingEntity(sentence: string, entities: ExtractedEntity[]): string | undefined {
  return entities.find((entity) => opensWith(sentence, entity.name))?.name ?? openingName(sentence);
}

function opensWith(sentence: string, name: string): boolean {
  return sentence.replace(/^["'(\s]+/, '').startsWith(name);
}

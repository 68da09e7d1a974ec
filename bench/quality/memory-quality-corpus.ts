import { seededRandom } from '../../test/helpers/seeded-random.js';

/**
 * The categorised quality set (issue #13): a bank of ten people, each with some forty ordinary
 * memories that share the person's name and nothing else with the questions (the same-person
 * distractors that make "which of Oskar's memories?" hard), plus the memories the questions are
 * about. Everything goes through retain, without an LLM, exactly as a caller's items would: the
 * sentence split, dates in the text, pronouns, the supersession rule and tags all play their
 * part in what the questions find.
 *
 * Questions are written the way people ask them, mostly by first name, not built from the stored
 * words. A question's answer is named by the exact sentence retain stores (its text is the
 * caller's words), so the set does not depend on generated ids.
 */

export const QUALITY_CATEGORIES = ['single-hop', 'multi-hop', 'temporal', 'knowledge-update', 'pronoun', 'tag-scope'] as const;
export type QualityCategory = (typeof QUALITY_CATEGORIES)[number];

/** When every question is asked. A Friday: "this week" began on Monday 16 June 2025. */
export const QUALITY_NOW = new Date('2025-06-20T12:00:00Z');
export const QUALITY_BANK = 'quality';

export interface QualityItem {
  content: string;
  /** When it was said; dates in the text are resolved against it. */
  timestamp: Date;
  tags?: string[];
}

export interface QualityQuestion {
  category: QualityCategory;
  query: string;
  /** The stored sentences that answer it (all of them, for a multi-hop question). */
  answers: string[];
  /** A knowledge update: the superseded sentence, which must not rank above the answer. */
  outdated?: string;
  /** Asked within a user's scope (`all_strict`); nothing outside it may come back. */
  tags?: string[];
}

export interface QualitySet {
  items: QualityItem[];
  questions: QualityQuestion[];
  /** Updates the no-LLM rule cannot see; a scripted LLM names them during consolidation. */
  updatesOnlyAnLlmSees: Array<{ older: string; newer: string }>;
}

const PEOPLE = [
  'Ingrid Vale',
  'Oskar Lind',
  'Petra Holm',
  'Evan Novak',
  'Bruno Costa',
  'Carol Diaz',
  'Dana Reyes',
  'Felix Moreau',
  'Hana Sato',
  'Lena Park',
];

/**
 * Ordinary days in a life, each told about every person. They avoid the verbs the supersession
 * rule reads ("lives in", "works at", "moved to"), so that what a question is about is decided by
 * the memories written for it.
 */
const EVERYDAY = [
  'had lunch with an old classmate at a noodle bar.',
  'finished reading a thick novel about whalers.',
  'bought a second-hand bicycle with a wicker basket.',
  'watched a documentary about glaciers.',
  'baked rye bread for the first time.',
  'complained about the slow train to the airport.',
  'spent the weekend painting the kitchen cabinets.',
  'tried a pottery class and liked the wheel.',
  'went to a jazz concert in the park.',
  'ordered new running shoes online.',
  'lost an umbrella on the tram.',
  'started learning the ukulele.',
  'visited a friend in the hospital.',
  'fixed a leaking tap in the bathroom.',
  'recommended a podcast about economics.',
  'planted tulip bulbs along the fence.',
  'got a parking ticket downtown.',
  'hosted a board game night.',
  'cooked a large pot of lentil soup.',
  'argued with a neighbour about the hedge.',
  'took a nephew to the science museum.',
  'attended a wedding in the countryside.',
  'sold an old sofa.',
  'said the coffee at the office is terrible.',
  'donated a box of books to the library.',
  'went camping by a lake.',
  'signed up for a photography workshop.',
  'cleaned out the garage.',
  'wrote a long letter to a grandmother.',
  'caught a cold after the rain.',
  'tried sushi for the first time.',
  'rearranged the bookshelves by colour.',
  'went to the dentist for a check-up.',
  'learned to juggle three balls.',
  'watched the football final with friends.',
  'mended a torn jacket.',
  'read the newspaper on the balcony.',
  'skipped breakfast and regretted it.',
];

/** How many ordinary memories each of the ten people has. */
export const ORDINARY_MEMORIES_PER_PERSON = EVERYDAY.length;

const at = (iso: string) => new Date(`${iso}T10:00:00Z`);

/** Statements that only matter as context for the questions, told on ordinary days. */
function plain(content: string, iso: string, tags?: string[]): QualityItem {
  return { content, timestamp: at(iso), ...(tags && { tags }) };
}

function everydayItems(seed: number): QualityItem[] {
  const random = seededRandom(seed);
  const from = Date.UTC(2019, 0, 1);
  const to = Date.UTC(2025, 4, 31);
  const items: QualityItem[] = [];
  for (const person of PEOPLE) {
    const first = person.split(' ')[0];
    EVERYDAY.forEach((what, index) => {
      // Half the memories say the full name, half the first name only, as notes do.
      const name = index % 2 === 0 ? person : first;
      const timestamp = new Date(from + Math.floor(random() * (to - from)));
      items.push({ content: `${name} ${what}`, timestamp });
    });
  }
  return items;
}

function singleHop(): { items: QualityItem[]; questions: QualityQuestion[] } {
  const facts: Array<[string, string, string]> = [
    ['Ingrid Vale is allergic to hazelnuts.', '2023-02-11', 'What is Ingrid allergic to?'],
    ['Oskar Lind keeps his spare house key under the blue flowerpot.', '2022-07-03', 'Where does Oskar hide his spare key?'],
    ["Petra Holm's favourite film is Spirited Away.", '2021-03-14', "What is Petra's favourite film?"],
    ['Evan Novak drives a grey Volvo estate.', '2023-09-21', 'What car does Evan drive?'],
    ["Bruno Costa's daughter is called Marta.", '2020-05-30', "What's the name of Bruno's daughter?"],
    ['Carol Diaz takes her coffee black with no sugar.', '2024-01-08', 'How does Carol take her coffee?'],
    ['Dana Reyes speaks fluent Japanese.', '2022-10-17', 'Which languages does Dana speak?'],
    ["Felix Moreau's blood type is O negative.", '2021-12-02', 'What blood type is Felix?'],
    ['Hana Sato plays the cello in an amateur orchestra.', '2023-04-25', 'Which instrument does Hana play?'],
    ["Lena Park's wifi password is tangerine42.", '2024-08-19', "What's the wifi password at Lena's place?"],
    ['Ingrid Vale keeps a sourdough starter called Bubbles.', '2024-03-03', 'What did Ingrid call her sourdough starter?'],
    ['Oskar Lind is afraid of flying.', '2020-11-09', 'Does Oskar like flying?'],
    ['Petra Holm has a ginger tabby cat called Mango.', '2022-06-06', 'What kind of cat does Petra have?'],
    ["Evan Novak's shoe size is 44.", '2024-05-12', 'What shoe size does Evan wear?'],
    ['Bruno Costa supports Benfica.', '2019-09-01', 'Which football team does Bruno support?'],
    ['Felix Moreau collects vintage fountain pens.', '2023-07-15', 'What does Felix collect?'],
    ['Dana Reyes keeps her passport in the kitchen drawer.', '2024-11-02', "Where is Dana's passport?"],
  ];
  return {
    items: facts.map(([fact, iso]) => plain(fact, iso)),
    questions: facts.map(([fact, , query]) => ({ category: 'single-hop', query, answers: [fact] })),
  };
}

function multiHop(): { items: QualityItem[]; questions: QualityQuestion[] } {
  const chains: Array<[string, string, string]> = [
    ["Oskar Lind's sister is Petra Holm.", 'Petra Holm teaches chemistry at Northfield High.', "What subject does Oskar's sister teach?"],
    ["Ingrid Vale's landlord is Felix Moreau.", 'Felix Moreau drives a red Vespa.', "What does Ingrid's landlord drive?"],
    ["Hana Sato's dentist is Amir Khan.", "Amir Khan's clinic is on Harbour Street.", "Where is the clinic of Hana's dentist?"],
    [
      "Bruno Costa's best friend is Evan Novak.",
      'Evan Novak owns a sailing boat called Saltwind.',
      "What is the boat of Bruno's best friend called?",
    ],
    [
      'Dana Reyes mentors Lena Park.',
      'Lena Park is writing a thesis about coral reefs.',
      'What is the thesis of the student Dana mentors about?',
    ],
    ["Carol Diaz's manager is Felix Moreau.", 'Felix Moreau is allergic to penicillin.', "Which medicine is Carol's manager allergic to?"],
    ["Petra Holm's husband is Tomas Berg.", 'Tomas Berg builds wooden canoes.', "What does Petra's husband build?"],
    ["Evan Novak's neighbour is Hana Sato.", 'Hana Sato keeps bees on her roof.', "What does Evan's neighbour keep on the roof?"],
    ["Lena Park's brother is Jun Park.", 'Jun Park bakes bread on night shifts.', "What does Lena's brother do on night shifts?"],
    [
      "Felix Moreau's piano teacher is Ingrid Vale.",
      'Ingrid Vale gives piano lessons in a converted chapel.',
      "Where does Felix's piano teacher give lessons?",
    ],
    [
      "Oskar Lind's business partner is Dana Reyes.",
      'Dana Reyes handles the accounts of the radio shop.',
      "Who does the accounts for Oskar's business partner's shop?",
    ],
    ["Bruno Costa's godson is Leo Hart.", 'Leo Hart plays water polo for the university.', "Which sport does Bruno's godson play?"],
    [
      'Carol Diaz rents a studio from Oskar Lind.',
      "Oskar Lind's studios have no heating in winter.",
      'Is the studio Carol rents heated in winter?',
    ],
    ["Hana Sato's cousin is Mei Tanaka.", 'Mei Tanaka runs a ramen shop in Osaka.', "What kind of shop does Hana's cousin run?"],
    [
      "Ingrid Vale's running coach is Petra Holm.",
      'Petra Holm swims in the harbour every morning.',
      "When does Ingrid's running coach swim?",
    ],
    ["Lena Park's flatmate is Bruno Costa.", 'Bruno Costa snores loudly.', "Does Lena's flatmate snore?"],
  ];
  const random = seededRandom(11);
  const day = () => new Date(Date.UTC(2020, 0, 1) + Math.floor(random() * 1800) * 86_400_000).toISOString().slice(0, 10);
  return {
    // Told on different days, in separate items: nothing but the bridge links the two.
    items: chains.flatMap(([first, second]) => [plain(first, day()), plain(second, day())]),
    questions: chains.map(([first, second, query]) => ({ category: 'multi-hop', query, answers: [first, second] })),
  };
}

function temporal(): { items: QualityItem[]; questions: QualityQuestion[] } {
  // [what was said, when it was said, the question (asked on QUALITY_NOW)]
  const events: Array<[string, string, string]> = [
    // Absolute dates in the text, told later.
    ['Ingrid Vale ran the Lisbon half marathon on 17 March 2024.', '2024-04-02', 'What did Ingrid do in March 2024?'],
    ['Oskar Lind opened his radio repair shop in August 2023.', '2023-09-10', 'What happened with Oskar in August 2023?'],
    ['Petra Holm hiked the Kungsleden trail in July 2022.', '2022-12-30', 'Where did Petra go hiking in July 2022?'],
    ['Evan Novak presented at a robotics conference on 14 January 2025.', '2025-02-01', 'What did Evan do on 14 January 2025?'],
    ['Bruno Costa got married on 2 October 2021.', '2021-11-20', 'What happened to Bruno in October 2021?'],
    ['Carol Diaz broke her wrist skiing in February 2024.', '2024-12-01', 'What happened to Carol in February 2024?'],
    ['Dana Reyes adopted a rescue dog in May 2023.', '2023-06-01', 'What did Dana do in May 2023?'],
    ['Felix Moreau bought a farmhouse in Provence in June 2020.', '2020-08-15', 'What did Felix buy in 2020?'],
    ['Lena Park defended her master thesis on 3 September 2024.', '2024-10-10', 'What did Lena do in September 2024?'],
    // Relative to when they were said.
    ['Hana Sato passed her driving test yesterday.', '2025-06-18', 'What did Hana achieve this week?'],
    ['Lena Park signed the lease for a new flat two weeks ago.', '2025-06-12', 'What did Lena sign three weeks ago?'],
    ['Evan Novak sprained his ankle last Sunday.', '2025-06-16', 'What happened to Evan last week?'],
    ['Bruno Costa repainted his boat on Saturday.', '2025-06-02', 'What was Bruno busy with in May?'],
    ['Carol Diaz began a watercolour course three days ago.', '2025-05-20', 'What did Carol begin last month?'],
    ['Dana Reyes flew back from Tokyo this morning.', '2025-06-19', 'What did Dana do yesterday?'],
    ['Felix Moreau sold his motorbike last Tuesday.', '2025-06-06', 'What did Felix sell two weeks ago?'],
    ['Ingrid Vale planted an apple tree yesterday.', '2025-04-28', 'What did Ingrid plant in April?'],
    // Weeks, weekends, holidays, decades, parts of a year, and dates said without a year or week
    // (QUALITY_NOW is Friday 20 June 2025; 16 June a Monday).
    ["Oskar Lind repaired a neighbour's radio over the weekend.", '2025-06-16', 'What did Oskar do last weekend?'],
    ['Felix Moreau fixed his bicycle on Wednesday.', '2025-06-16', 'What did Felix fix last week?'],
    ['Dana Reyes will start a pottery class on Thursday.', '2025-06-16', 'What did Dana start this week?'],
    ['Carol Diaz is running a half marathon in September.', '2025-05-10', 'What is Carol running in September?'],
    ['Petra Holm spent Christmas with her cousins in Tromsø.', '2025-01-03', 'Where was Petra at Christmas?'],
    ['Ingrid Vale ran a charity 10k on Easter Monday.', '2025-04-25', 'What did Ingrid do over Easter?'],
    ['Bruno Costa sailed around the Greek islands in the 1990s.', '2024-05-05', 'What did Bruno do in the 90s?'],
    ['Lena Park learned to surf in Portugal in early 2024.', '2024-08-01', 'What did Lena learn in early 2024?'],
    // An arrangement told in the present is the next such day, asked about in the present.
    ['Hana Sato has a dentist appointment on Thursday.', '2025-06-16', 'What does Hana have this week?'],
    ['Evan Novak flies to Montreal on Sunday.', '2025-06-17', 'Where does Evan fly this weekend?'],
    // Quarters and vague counts, said one way and asked another.
    ['Carol Diaz launched her consultancy in Q1 2025.', '2025-04-15', 'What did Carol do in the first quarter of 2025?'],
    ['Oskar Lind won a chess tournament a few weeks ago.', '2025-06-02', 'What did Oskar win last month?'],
    ['Petra Holm recently took up the cello.', '2025-06-10', 'What has Petra taken up lately?'],
    // A plan in the present, asked about as a window ahead (QUALITY_NOW is a Friday; Tuesday is the 24th).
    ['Bruno Costa has a job interview on Tuesday.', '2025-06-19', 'What does Bruno have in the next few days?'],
    ['Dana Reyes has a dentist appointment on Monday.', '2025-06-19', 'What does Dana have coming up?'],
  ];
  return {
    items: events.map(([event, iso]) => plain(event, iso)),
    questions: events.map(([event, , query]) => ({ category: 'temporal', query, answers: [event] })),
  };
}

function knowledgeUpdates(): {
  items: QualityItem[];
  questions: QualityQuestion[];
  updatesOnlyAnLlmSees: QualitySet['updatesOnlyAnLlmSees'];
} {
  // [older statement, when, newer statement, when, present-tense question]
  const byRule: Array<[string, string, string, string, string]> = [
    ['Evan Novak lives in Berlin.', '2021-04-10', 'Evan Novak moved to Oslo.', '2024-02-01', 'Where does Evan live now?'],
    [
      "Bruno Costa's phone number is 555-0134.",
      '2022-03-03',
      'Bruno Costa changed his phone number to 555-0199.',
      '2025-01-15',
      "What's Bruno's phone number?",
    ],
    [
      'Carol Diaz works at Initech as a junior developer.',
      '2021-06-01',
      'Carol Diaz joined Globex.',
      '2024-01-20',
      'Which company does Carol work for?',
    ],
    [
      'Carol Diaz is a senior engineer.',
      '2023-03-01',
      'Carol Diaz was promoted to engineering manager.',
      '2025-03-01',
      "What's Carol's job title?",
    ],
    [
      "Dana Reyes's email address is dana@oldmail.com.",
      '2020-02-02',
      "Dana Reyes's new email address is dana.reyes@fastpost.io.",
      '2024-07-07',
      "What's Dana's email?",
    ],
    ['Felix Moreau lives in Lyon.', '2019-05-05', 'Felix Moreau relocated to Marseille.', '2023-10-10', 'Which city does Felix live in?'],
    [
      "Hana Sato's yoga class is on Tuesdays.",
      '2022-09-01',
      "Hana Sato's yoga class moved to Thursdays.",
      '2024-09-01',
      "When is Hana's yoga class?",
    ],
    [
      'Lena Park works for a marine lab in Busan.',
      '2021-01-11',
      'Lena Park now works at the aquarium in Seoul.',
      '2024-04-04',
      'Where does Lena work?',
    ],
    [
      "Ingrid Vale's address is 12 Rua das Flores, Lisbon.",
      '2020-10-10',
      "Ingrid Vale's new address is 4 Calçada do Combro, Lisbon.",
      '2024-05-05',
      "What's Ingrid's address?",
    ],
    [
      'The radio club meeting is on the first Monday of the month.',
      '2021-02-02',
      'The radio club meeting moved to Wednesday evenings.',
      '2024-11-11',
      'When does the radio club meet?',
    ],
    [
      'Petra Holm is a chemistry teacher.',
      '2019-08-08',
      'Petra Holm became head of the science department.',
      '2024-08-08',
      "What is Petra's position at the school?",
    ],
    [
      "Evan Novak's mobile number is 0176 4432 1190.",
      '2020-12-12',
      'Evan Novak got a new mobile number, 0152 7781 0034.',
      '2024-12-12',
      "What's Evan's mobile number?",
    ],
    [
      'Bruno Costa lives in Porto.',
      '2019-03-03',
      'Bruno Costa moved to Lisbon for a new job.',
      '2023-03-03',
      'Which city is Bruno living in?',
    ],
    [
      'Dana Reyes works at a bank in Madrid.',
      '2020-06-06',
      'Dana Reyes joined a startup in Valencia.',
      '2024-06-06',
      'Who does Dana work for?',
    ],
    ['Hana Sato lives in Kyoto.', '2019-11-11', 'Hana Sato moved to Sapporo.', '2023-11-11', 'Where does Hana live?'],
    [
      "Lena Park's weekly check-in with her supervisor is on Mondays.",
      '2022-02-14',
      "Lena Park's weekly check-in moved to Fridays.",
      '2025-02-14',
      "When is Lena's weekly check-in?",
    ],
    [
      'Ingrid Vale drives a Fiat Panda.',
      '2020-04-04',
      'Ingrid Vale sold the Fiat and rides an electric scooter.',
      '2024-04-14',
      'What does Ingrid drive?',
    ],
  ];
  // Changes no rule on personal attributes can read: only an LLM says which fact replaced which.
  const bySense: Array<[string, string, string, string, string]> = [
    [
      'Oskar Lind plays bass in a blues band.',
      '2021-07-07',
      'Oskar Lind left the blues band and plays in a folk trio now.',
      '2024-07-07',
      'Which band is Oskar in?',
    ],
    ['Petra Holm does not eat fish.', '2020-09-09', 'Petra Holm eats fish again.', '2024-09-19', 'Does Petra eat fish?'],
    [
      "Felix Moreau's favourite restaurant is Chez Lou.",
      '2021-03-03',
      'Felix Moreau prefers Little Saigon to any other restaurant these days.',
      '2024-03-13',
      'Which restaurant does Felix like best?',
    ],
  ];
  const all = [...byRule, ...bySense];
  return {
    items: all.flatMap(([older, olderAt, newer, newerAt]) => [plain(older, olderAt), plain(newer, newerAt)]),
    questions: all.map(([older, , newer, , query]) => ({ category: 'knowledge-update', query, answers: [newer], outdated: older })),
    updatesOnlyAnLlmSees: bySense.map(([older, , newer]) => ({ older, newer })),
  };
}

function pronouns(): { items: QualityItem[]; questions: QualityQuestion[] } {
  // [the item, the sentence that answers (it refers back with a pronoun), when, question]
  const stories: Array<[string, string, string, string]> = [
    ['Ingrid Vale adopted a greyhound.', 'She named him Comet.', '2023-05-05', 'What did Ingrid name her greyhound?'],
    [
      'Oskar Lind called about the shop lease.',
      'He wants to renew it for five years.',
      '2024-02-02',
      'For how long does Oskar want to renew the lease?',
    ],
    ['Petra Holm came over for dinner.', 'She baked a lemon tart for dessert.', '2022-04-04', 'What did Petra bake for the dinner?'],
    [
      'Evan Novak visited his grandparents in Brno.',
      'He says his grandmother still knits every day.',
      '2023-01-21',
      "What does Evan's grandmother do every day?",
    ],
    [
      'Bruno Costa met the new architect.',
      'He thinks her plans are too expensive.',
      '2024-06-16',
      "What does Bruno think of the architect's plans?",
    ],
    ['Carol Diaz called in sick.', 'She has a migraine that will not go away.', '2022-11-30', 'Why did Carol call in sick?'],
    ['Dana Reyes finished the quarterly report.', 'She is worried the numbers are too low.', '2024-10-01', 'What is Dana worried about?'],
    ['Felix Moreau bought a sailboat.', 'He plans to sail it to Corsica.', '2023-08-08', 'Where does Felix plan to sail?'],
    ['Hana Sato took her cat to the vet.', 'Her cat needs surgery on a tooth.', '2024-03-27', "What surgery does Hana's cat need?"],
    [
      'Lena Park gave a talk at the marine biology symposium.',
      'Her slides were about bleached coral.',
      '2022-05-18',
      "What were Lena's slides about?",
    ],
    [
      'Ingrid Vale talked about her brother.',
      'He flies cargo planes for a living.',
      '2021-10-10',
      "What does Ingrid's brother do for a living?",
    ],
    [
      'Oskar Lind restored a Telefunken radio from 1962.',
      'He sold it to a collector in Hamburg.',
      '2023-12-12',
      'Who bought the Telefunken radio Oskar restored?',
    ],
    ['Bruno Costa took Marta to the zoo.', 'They fed the giraffes at noon.', '2021-08-08', 'What did Bruno feed at the zoo?'],
    [
      'Carol Diaz is planning a vegetable garden.',
      'She wants raised beds for tomatoes and herbs.',
      '2024-02-25',
      'What does Carol want to grow in her garden?',
    ],
    [
      'Evan Novak reviewed the travel budget.',
      'His main concern is the cost of flights.',
      '2023-06-30',
      "What is Evan's main concern about the travel budget?",
    ],
    [
      'Felix Moreau tried the new climbing gym.',
      'He says the bouldering wall is the best in town.',
      '2024-09-09',
      'What does Felix think of the climbing gym?',
    ],
    ['Hana Sato hosted her book club.', 'They are reading a novel by Haruki Murakami.', '2023-10-03', "What is Hana's book club reading?"],
  ];
  return {
    items: stories.map(([opening, answer, iso]) => plain(`${opening} ${answer}`, iso)),
    questions: stories.map(([, answer, , query]) => ({ category: 'pronoun', query, answers: [answer] })),
  };
}

function tagScopes(): { items: QualityItem[]; questions: QualityQuestion[] } {
  // Every user keeps the same kinds of notes, in the first person, under their own tag.
  const users: Record<string, string[]> = {
    'user:ivan': [
      'My locker code is 4419.',
      'My dentist is Anna Weiss on Elm Road.',
      'My gym is the one next to the station.',
      'I park in spot B12.',
      'I am allergic to cats.',
      'My manager is Greta.',
    ],
    'user:julia': [
      'My locker code is 7731.',
      'My dentist is Chidi Okafor near the river.',
      'My gym is the climbing hall on Dock Street.',
      'I park in spot C3.',
      'I am allergic to pollen.',
      'My manager is Henrik.',
    ],
    'user:kofi': [
      'My locker code is 2208.',
      'My dentist is Nora Ibsen downtown.',
      'My gym is the pool at the university.',
      'I park in spot A7.',
      'I am allergic to shellfish.',
      'My manager is Priya.',
    ],
    'user:sven': [
      'My locker code is 9052.',
      'My dentist is Mikko Laine at the mall.',
      'My gym is a boxing club in the old mill.',
      'I park in spot D1.',
      'I am allergic to peanuts.',
      'My manager is Amara.',
    ],
  };
  const asked: Array<[number, string]> = [
    [0, 'What is my locker code?'],
    [1, 'Who is my dentist?'],
    [3, 'Where do I park?'],
    [4, 'What am I allergic to?'],
  ];
  const items: QualityItem[] = [];
  const questions: QualityQuestion[] = [];
  let day = 0;
  for (const [tag, notes] of Object.entries(users)) {
    for (const note of notes) items.push({ content: note, timestamp: new Date(Date.UTC(2024, 0, 1) + day++ * 86_400_000), tags: [tag] });
    for (const [index, query] of asked) questions.push({ category: 'tag-scope', query, answers: [notes[index]], tags: [tag] });
  }
  return { items, questions };
}

export function qualitySet(seed = 20251201): QualitySet {
  const parts = [singleHop(), multiHop(), temporal(), pronouns(), tagScopes()];
  const updates = knowledgeUpdates();
  return {
    items: [...everydayItems(seed), ...parts.flatMap((part) => part.items), ...updates.items],
    questions: [...parts.flatMap((part) => part.questions), ...updates.questions],
    updatesOnlyAnLlmSees: updates.updatesOnlyAnLlmSees,
  };
}

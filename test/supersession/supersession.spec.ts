import type { INestApplicationContext } from '@nestjs/common';
import { MemoriesService } from '../../src/memories/memories.service.js';
import { MemoryEditService } from '../../src/memories/memory-edit.service.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { RetainService } from '../../src/retain/retain.service.js';
import { askedAttributeKeys, attributeKey } from '../../src/supersession/attribute-key.js';
import { bootOnPglite } from '../helpers/memory-app.js';

/** Each sentence keyed `key` for `subject`; a failure names the sentence. */
function expectEachKeyed(subject: string | null, sentences: string[], key: unknown): void {
  for (const sentence of sentences) expect({ sentence, key: attributeKey(sentence, subject) }).toEqual({ sentence, key });
}

describe('the attribute a sentence states', () => {
  it('keys common personal attributes by subject, and recurring events by name', () => {
    expect(attributeKey('Evan Novak lives in Berlin.', 'Evan Novak')).toBe('evan novak|residence');
    expect(attributeKey('Evan Novak moved to Oslo.', 'Evan Novak')).toBe('evan novak|residence');
    expect(attributeKey("Bruno's phone number is 555-0134.", 'Bruno')).toBe('bruno|phone');
    expect(attributeKey('Bruno changed his phone number to 555-0199.', 'Bruno')).toBe('bruno|phone');
    expect(attributeKey('Carol Diaz is a junior engineer.', 'Carol Diaz')).toBe('carol diaz|role');
    expect(attributeKey('Carol Diaz was promoted to senior engineer.', 'Carol Diaz')).toBe('carol diaz|role');
    expect(attributeKey('Dana works at Initech.', 'Dana')).toBe('dana|employer');
    expect(attributeKey('The design review is on Wednesdays.', null)).toBe('design review|schedule');
    expect(attributeKey('The design review moved to Friday.', null)).toBe('design review|schedule');
    expect(attributeKey("Alice's piano lesson moved to Friday.", 'Alice')).toBe('alice piano lesson|schedule');
    expect(attributeKey('Ingrid Vale drives a Fiat Panda.', 'Ingrid Vale')).toBe('ingrid vale|vehicle');
    expect(attributeKey('Evan Novak drives a grey Volvo estate.', 'Evan Novak')).toBe('evan novak|vehicle');
    expect(attributeKey('Ingrid Vale sold the Fiat and rides an electric scooter.', 'Ingrid Vale')).toBe('ingrid vale|vehicle');
    expect(attributeKey('Dana is driving a rental car this week.', 'Dana')).toBe('dana|vehicle');
    expect(attributeKey("Felix Moreau's favourite restaurant is Chez Lou.", 'Felix Moreau')).toBe('felix moreau|favourite restaurant');
    expect(attributeKey('Her favorite color is green.', 'Anna')).toBe('anna|favourite color');
    expect(attributeKey('My favourite Italian restaurant is Da Gino.', null)).toBe('me|favourite restaurant');
    expectEachKeyed(
      'Anna Berg',
      [
        'Anna Berg is dating Tom Reyes.',
        'Anna Berg married Ben Okafor.',
        'Anna Berg is engaged to Ben.',
        'Anna Berg and Ben got divorced.',
        "Anna Berg's husband is Ben Okafor.",
        'She broke up with Tom.',
      ],
      'anna berg|partner',
    );
  });

  it('says nothing where it is not sure', () => {
    expect(attributeKey('Evan Novak likes jazz.', 'Evan Novak')).toBeNull();
    expect(attributeKey('It rained in Oslo.', null)).toBeNull();
    expect(attributeKey('Carol Diaz is a fan of jazz.', 'Carol Diaz')).toBeNull();
  });

  it('keys no sentence that only shares a word with an attribute, which would supersede the real one', () => {
    expectEachKeyed(
      'Anna',
      [
        'Anna moved the couch to the garage.',
        'Anna moved on to a new project.',
        'Anna moved up to team lead.',
        'Anna started at 9am today.',
        'Anna joined the book club.',
        'Anna called about her phone bill.',
        'Anna lost her phone.',
        'Anna sent an email about the budget.',
        'Anna became a mother.',
        'Anna broke up with the band.',
        'Anna is seeing a therapist.',
        'Anna met a married couple from Oslo.',
        'Anna drives the kids to school.',
        'Anna drives a hard bargain.',
        'Anna rides a bike to work.',
        'My favourite thing about Lisbon is the light.',
      ],
      null,
    );
    expect(attributeKey('Anna joined a startup in Valencia.', 'Anna')).toBe('anna|employer');
    expect(attributeKey('Anna started at Globex in May.', 'Anna')).toBe('anna|employer');
    expect(attributeKey('Anna became head of the science department.', 'Anna')).toBe('anna|role');
    expect(attributeKey("Anna's new cell is 555 0134.", 'Anna')).toBe('anna|phone');
    expect(attributeKey('Anna changed her e-mail to anna@example.org.', 'Anna')).toBe('anna|email');
  });

  it("keys nothing for the subject where the attribute may be another's: someone of the subject's, or another name it is said of", () => {
    expectEachKeyed(
      'Anna',
      [
        "Anna's sister lives in Oslo.",
        'Her husband works at Initech.',
        "Anna Berg's landlord drives a red Vespa.",
        "Anna's company moved to Berlin.",
        "Anna's wife is a doctor.",
        "Anna's sister married Ben.",
        "Anna's sister's favourite restaurant is Chez Lou.",
      ],
      null,
    );
    // Said of another name: the attribute may be that one's.
    expectEachKeyed(
      'Anna',
      ['Anna said Tom lives in Oslo.', 'Anna visited Tom, who lives in Oslo.', 'She met Tom Berg, who works at Initech.'],
      null,
    );
    expect(attributeKey('On Monday, Anna moved to Oslo.', 'Anna')).toBe('anna|residence');
    expect(attributeKey('In March she moved to Oslo with Tom.', 'Anna')).toBe('anna|residence');
    expect(attributeKey('Anna and Tom moved to Oslo.', 'Anna')).toBe('anna|residence');
    expect(attributeKey('Anna left Initech and works at Globex now.', 'Anna')).toBe('anna|employer');
    expect(attributeKey('Anna Berg, who lives in Oslo, plays chess.', 'Anna Berg')).toBe('anna berg|residence');
    expect(attributeKey("Anna Berg's new cell is 555 0134.", 'Anna Berg')).toBe('anna berg|phone');
    // Her own attribute, said as hers, is still hers.
    expect(attributeKey("Anna's phone number is 555-0101.", 'Anna')).toBe('anna|phone');
    expect(attributeKey('Her new home address is 12 Elm Street.', 'Anna')).toBe('anna|address');
    expect(attributeKey('Her e-mail is anna@example.org.', 'Anna')).toBe('anna|email');
    expect(attributeKey('Anna lives in Lisbon with her sister.', 'Anna')).toBe('anna|residence');
  });

  it("keys what the speaker says of themselves in the first person as the speaker's", () => {
    expectEachKeyed(
      null,
      ['I live in Lisbon.', 'Last month I moved to Oslo.', "I'm now working at Initech.", 'My new phone number is 555-0199.'],
      expect.stringMatching(/^me\|/),
    );
    expect(attributeKey('My husband is Ben Okafor.', null)).toBe('me|partner');
    // As a model extracting facts writes the one who said "I".
    expect(attributeKey("The user's new e-mail is ana@example.org.", null)).toBe('me|email');
    // Someone of the speaker's, or another name, is not the speaker.
    expect(attributeKey('My sister lives in Rome.', null)).toBeNull();
    expect(attributeKey('I met Tom, who lives in Oslo.', null)).toBeNull();
    // A name that opens the sentence is still its subject.
    expect(attributeKey('Anna and I moved to Oslo.', 'Anna')).toBe('anna|residence');
  });

  it('keys nothing that tells how things were, which is no newer state however late it is told', () => {
    expectEachKeyed(
      'Anna',
      ['Anna used to live in Paris.', 'Anna formerly worked at Initech.', 'In the past she drove a Fiat Panda.'],
      null,
    );
    // How things are now, though said against how they were.
    expect(attributeKey('Anna no longer lives in Paris.', 'Anna')).toBe('anna|residence');
    expect(attributeKey('In the past few weeks Anna moved to Oslo.', 'Anna')).toBe('anna|residence');
  });
});

describe('the attribute a question asks about', () => {
  it('names the key of each person the question names, in the vocabulary the sentences are keyed by', () => {
    expect(askedAttributeKeys('What does Ingrid drive?', ['ingrid vale'])).toEqual(['ingrid vale|vehicle']);
    expect(askedAttributeKeys('Who is Anna dating?', ['anna berg'])).toEqual(['anna berg|partner']);
    expect(askedAttributeKeys("What is Felix's favourite restaurant?", ['felix moreau'])).toEqual(['felix moreau|favourite restaurant']);
    expect(askedAttributeKeys("What's Felix's favourite Italian restaurant?", ['felix moreau'])).toEqual([
      'felix moreau|favourite italian',
      'felix moreau|favourite restaurant',
    ]);
    expect(askedAttributeKeys("What's Carol's job title?", ['carol diaz'])).toEqual(['carol diaz|role']);
    expect(askedAttributeKeys('Where does Evan live?', ['evan novak'])).toEqual(['evan novak|residence']);
    expect(askedAttributeKeys('What did Bruno feed at the zoo?', ['bruno costa'])).toEqual([]);
  });
});

describe('supersession without an LLM (PGlite)', () => {
  let app: INestApplicationContext;
  let retain: RetainService;
  let memories: MemoriesService;
  let recall: RecallService;

  beforeAll(async () => {
    app = await bootOnPglite('supersession', { watchdogIntervalMs: 60_000 });
    retain = app.get(RetainService);
    memories = app.get(MemoriesService);
    recall = app.get(RecallService);
  });

  afterAll(async () => {
    await app?.close();
  });

  async function remember(bankId: string, content: string, at: string, tags: string[] = []): Promise<string> {
    const { memoryIds } = await retain.retain(bankId, { items: [{ content, timestamp: new Date(at), tags }] });
    return memoryIds[0];
  }

  const texts = async (bankId: string, query: string, tags?: string[]) =>
    (await recall.recall({ bankId, query, tags, tagsMatch: tags ? 'all_strict' : undefined })).results.map((result) => result.text);

  it('keeps the older fact as history, answers the present with the newer one and the past with both', async () => {
    const berlin = await remember('evan', 'Evan Novak lives in Berlin.', '2021-05-01T10:00:00Z');
    const oslo = await remember('evan', 'Evan Novak moved to Oslo.', '2024-03-01T10:00:00Z');

    expect(await memories.get('evan', berlin)).toMatchObject({ supersededBy: oslo, supersededAt: expect.any(Date) });
    expect(await memories.get('evan', oslo)).toMatchObject({ supersededBy: null });
    const present = await texts('evan', 'Where does Evan Novak live?');
    expect(present[0]).toBe('Evan Novak moved to Oslo.');
    expect(present).toContain('Evan Novak lives in Berlin.');
    // A time that reaches the moment of asking is still the present.
    expect((await texts('evan', 'Where has Evan Novak been living lately?'))[0]).toBe('Evan Novak moved to Oslo.');
    const past = await texts('evan', 'Where did Evan Novak live before?');
    expect(past.slice(0, 2)).toContain('Evan Novak lives in Berlin.');
  });

  it('lets a memory of how things were, told last, neither supersede how they are nor answer the present first', async () => {
    const lisbon = await remember('anna', 'Anna Berg lives in Lisbon.', '2023-03-01T10:00:00Z');
    const paris = await remember('anna', 'Anna Berg used to live in Paris.', '2025-01-10T10:00:00Z');
    await remember('anna', 'Anna Berg plays chess.', '2024-01-01T10:00:00Z');
    expect(await memories.get('anna', lisbon)).toMatchObject({ supersededBy: null });
    expect(await memories.get('anna', paris)).toMatchObject({ supersededBy: null });
    const present = await texts('anna', 'Where does Anna live?');
    expect(present[0]).toBe('Anna Berg lives in Lisbon.');
    expect(present).toContain('Anna Berg used to live in Paris.');
    expect((await texts('anna', 'Where did Anna live before?'))[0]).toBe('Anna Berg used to live in Paris.');
  });

  it('supersedes what the speaker said of themselves, within one tag set', async () => {
    const lisbon = await remember('speaker', 'I live in Lisbon.', '2023-03-01T10:00:00Z', ['user:ana']);
    const oslo = await remember('speaker', 'Last month I moved to Oslo.', '2025-01-10T10:00:00Z', ['user:ana']);
    const porto = await remember('speaker', 'I live in Porto.', '2024-01-10T10:00:00Z', ['user:ben']);
    expect(await memories.get('speaker', lisbon)).toMatchObject({ supersededBy: oslo });
    expect(await memories.get('speaker', porto)).toMatchObject({ supersededBy: null });
    expect((await texts('speaker', 'Where do I live?', ['user:ana']))[0]).toBe('Last month I moved to Oslo.');
  });

  it('orders by when the facts happened, not by when they were retained', async () => {
    const newer = await remember('bruno', "Bruno's phone number is 555-0199.", '2025-02-01T10:00:00Z');
    const older = await remember('bruno', "Bruno's phone number is 555-0134.", '2023-02-01T10:00:00Z');
    expect(await memories.get('bruno', older)).toMatchObject({ supersededBy: newer });
    expect((await texts('bruno', "What is Bruno's phone number?"))[0]).toBe("Bruno's phone number is 555-0199.");
  });

  it('brings the current fact in even when no arm found it, and never crosses tag sets', async () => {
    await remember('carol', 'Carol Diaz is a junior engineer at Initech.', '2022-01-10T10:00:00Z', ['user:ivan']);
    await remember('carol', 'Carol Diaz was promoted to lead.', '2025-01-10T10:00:00Z', ['user:ivan']);
    const other = await remember('carol', 'Carol Diaz is a junior engineer at Initech, she told me.', '2020-01-10T10:00:00Z', [
      'user:julia',
    ]);
    const ivan = await texts('carol', 'What does Carol Diaz do as a junior engineer at Initech?', ['user:ivan']);
    expect(ivan[0]).toBe('Carol Diaz was promoted to lead.');
    expect(await memories.get('carol', other)).toMatchObject({ supersededBy: null });
  });

  it('closes the gap a deleted memory leaves in a line: the older fact points at the newer one left', async () => {
    const remembered = async (content: string, at: string, documentId: string) =>
      (await retain.retain('moves', { items: [{ content, timestamp: new Date(at), documentId }] })).memoryIds[0];
    const lisbon = await remembered('Dana Reyes lives in Lisbon.', '2020-01-01T10:00:00Z', 'd1');
    const porto = await remembered('Dana Reyes moved to Porto.', '2022-01-01T10:00:00Z', 'd2');
    const faro = await remembered('Dana Reyes relocated to Faro.', '2024-01-01T10:00:00Z', 'd3');
    expect(await memories.get('moves', lisbon)).toMatchObject({ supersededBy: porto });

    await memories.deleteDocument('moves', 'd2');
    expect(await memories.get('moves', lisbon)).toMatchObject({ supersededBy: faro });
    await memories.deleteDocument('moves', 'd3');
    expect(await memories.get('moves', lisbon)).toMatchObject({ supersededBy: null, supersededAt: null });
  });

  it('follows an edit: text that no longer states the attribute gives the line back to the older fact', async () => {
    const wednesday = await remember('meetings', 'The design review is on Wednesdays.', '2024-01-01T10:00:00Z');
    const friday = await remember('meetings', 'The design review moved to Friday.', '2024-06-01T10:00:00Z');
    expect(await memories.get('meetings', wednesday)).toMatchObject({ supersededBy: friday });

    await app.get(MemoryEditService).edit('meetings', friday, { text: 'The design review had pastries.' });
    expect(await memories.get('meetings', wednesday)).toMatchObject({ supersededBy: null, supersededAt: null });

    await app.get(MemoryEditService).edit('meetings', friday, { text: 'The design review moved to Friday.' });
    expect(await memories.get('meetings', wednesday)).toMatchObject({ supersededBy: friday });
    await app.get(MemoryEditService).edit('meetings', friday, { state: 'invalidated' });
    expect(await memories.get('meetings', wednesday)).toMatchObject({ supersededBy: null });
  });
});

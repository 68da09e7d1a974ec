import { properNouns } from '../../src/entities/entity-names.js';
import { extractFactsBySentence, splitSentences } from '../../src/retain/fact-extraction.js';

describe('splitSentences', () => {
  it('splits at sentence ends and blank lines, not at abbreviations', () => {
    expect(splitSentences('Alice met Dr. Smith in the U.S. last May. She liked him!\n\nBob stayed home? Yes.')).toEqual([
      'Alice met Dr. Smith in the U.S. last May.',
      'She liked him!',
      'Bob stayed home?',
      'Yes.',
    ]);
  });

  it('ends a sentence at a short word, and not at an initial, a title or a short abbreviation', () => {
    expect(splitSentences('Carol fixed it. She called me. Sign us up. We met J. R. Tolkien and Mr. Li at St. Ives.')).toEqual([
      'Carol fixed it.',
      'She called me.',
      'Sign us up.',
      'We met J. R. Tolkien and Mr. Li at St. Ives.',
    ]);
    expect(splitSentences('Costa et al. Found it in the archive, cf. Table 2, and Smith vs. Jones cites it.')).toEqual([
      'Costa et al. Found it in the archive, cf. Table 2, and Smith vs. Jones cites it.',
    ]);
  });

  it("takes a note's short unpunctuated lines as sentences, but not a line that goes on", () => {
    expect(splitSentences("Meeting notes\nAnna's birthday March 3\nBob allergic to nuts\nCall Anna")).toEqual([
      'Meeting notes',
      "Anna's birthday March 3",
      'Bob allergic to nuts',
      'Call Anna',
    ]);
    // Wrapped prose, a line ending in a word no sentence ends with, a comma, or one the next
    // line's small letter or number continues.
    expect(
      splitSentences(
        'Alice joined Acme Corp as a staff engineer in March and moved\nSouth to Lisbon. We met in\nMarch 2024. Best,\nAnna\nsent it\n2 days late',
      ),
    ).toEqual([
      'Alice joined Acme Corp as a staff engineer in March and moved South to Lisbon.',
      'We met in March 2024.',
      'Best, Anna sent it 2 days late',
    ]);
  });

  it('ends a quoted or bracketed sentence after its closing mark', () => {
    expect(splitSentences('"I am tired." She sat down. \u201cIt rained.\u201d Bob left. (Ana paid.) Then we went home.')).toEqual([
      '"I am tired."',
      'She sat down.',
      '\u201cIt rained.\u201d',
      'Bob left.',
      '(Ana paid.)',
      'Then we went home.',
    ]);
    // After "!" or "?" in quotes comes who said it.
    expect(splitSentences('"Help!" Anna cried. "Are you coming?" Bob asked.')).toEqual([
      '"Help!" Anna cried.',
      '"Are you coming?" Bob asked.',
    ]);
  });

  it('takes each item of a bulleted or numbered list as a sentence, without its marker', () => {
    expect(splitSentences('Errands for Saturday:\n1. Buy milk\n2) Call Anna\n- Pay the rent\n* Water the plants')).toEqual([
      'Errands for Saturday:',
      'Buy milk',
      'Call Anna',
      'Pay the rent',
      'Water the plants',
    ]);
    // A hyphen or a number inside a line, or a year opening one, is not a marker.
    expect(splitSentences('It was -5 degrees in\n1990. She stayed - mostly - indoors.')).toEqual([
      'It was -5 degrees in 1990.',
      'She stayed - mostly - indoors.',
    ]);
  });

  it('does not end a sentence at a title before a name', () => {
    expect(splitSentences('Mrs. Dalloway met Prof. Jones and Capt. Hook. They talked.')).toEqual([
      'Mrs. Dalloway met Prof. Jones and Capt. Hook.',
      'They talked.',
    ]);
  });

  it('gives nothing for white space, and cuts a huge run-on sentence into bounded pieces', () => {
    expect(splitSentences('  \n\n ')).toEqual([]);
    const pieces = splitSentences('word '.repeat(2000));
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every((piece) => piece.length <= 2000)).toBe(true);
  });
});

describe('properNouns', () => {
  it('finds names, multi-word names and drops sentence-start function words', () => {
    expect(properNouns('The team at Acme Corp hired Alice Johnson in New York.').map((e) => e.name)).toEqual([
      'Acme Corp',
      'Alice Johnson',
      'New York',
    ]);
    expect(properNouns("Yesterday Bob's sister visited Paris on Monday.").map((e) => e.name)).toEqual(['Bob', 'Paris']);
  });

  it('drops what a chat message or a to-do opens with, only where it opens the name, and capitals inside a word', () => {
    const names = (sentence: string) => properNouns(sentence).map((e) => e.name);
    expect(names('Thanks, Anna!')).toEqual(['Anna']);
    expect(names('Hi Bob, your parcel shipped.')).toEqual(['Bob']);
    expect(names('OK. Sounds good.')).toEqual([]);
    expect(names('Call Anna about the Best Buy order.')).toEqual(['Anna', 'Best Buy']);
    expect(names('Her iPhone broke at McDonald’s.')).toEqual(['McDonald']);
    // An opener is a word that starts the sentence, not a name: the next sentence's pronoun
    // refers back to no one.
    expect(
      extractFactsBySentence({ content: 'Thanks for the tip. She will try it.', context: null, timestamp: null, entities: [] }),
    ).toEqual([
      expect.objectContaining({ text: 'Thanks for the tip.', entities: [], subject: null }),
      expect.objectContaining({ text: 'She will try it.', entities: [], subject: null }),
    ]);
  });
});

describe('extractFactsBySentence', () => {
  const timestamp = new Date('2026-06-15T12:00:00Z');

  it("links a sentence that refers back to a person to that person, keeping the caller's words", () => {
    const facts = extractFactsBySentence({
      content: 'Alice joined Acme Corp as a staff engineer in March 2024. She lives in Lisbon. The office has a garden.',
      context: null,
      timestamp,
      entities: [],
    });
    expect(facts.map((fact) => fact.text)).toEqual([
      'Alice joined Acme Corp as a staff engineer in March 2024.',
      'She lives in Lisbon.',
      'The office has a garden.',
    ]);
    expect(facts[1].entities.map((entity) => entity.name)).toEqual(['Lisbon', 'Alice']);
    expect(facts[2].entities).toEqual([]);
  });

  it('keeps a sentence that only goes on about the person the fact before it names in that fact', () => {
    const facts = extractFactsBySentence({
      content: 'Bruno Costa took Marta to the zoo. They fed the giraffes. He says the lions slept all day. The zoo opens at nine.',
      context: null,
      timestamp,
      entities: [],
    });
    expect(facts.map((fact) => fact.text)).toEqual([
      'Bruno Costa took Marta to the zoo. They fed the giraffes. He says the lions slept all day.',
      'The zoo opens at nine.',
    ]);
    expect(facts[0]).toMatchObject({ subject: 'Bruno Costa', occurredStart: timestamp, occurredEnd: timestamp });
    expect(facts[0].entities.map((entity) => entity.name)).toEqual(['Bruno Costa', 'Marta']);
  });

  it('keeps a sentence apart that names its own subject, states its own time or says what supersession keys', () => {
    const texts = (content: string) => extractFactsBySentence({ content, context: null, timestamp, entities: [] }).map((fact) => fact.text);
    // Its own subject, though it says "her".
    expect(texts('Petra Holm came over. Dana Reyes brought her cake.')).toEqual(['Petra Holm came over.', 'Dana Reyes brought her cake.']);
    // Its own time: the fact is dated by it.
    expect(texts('Felix Moreau bought a sailboat. He sailed it to Corsica in May 2025.')).toEqual([
      'Felix Moreau bought a sailboat.',
      'He sailed it to Corsica in May 2025.',
    ]);
    // Keyed: a newer residence supersedes it alone.
    expect(texts('Carol Diaz sold her flat. She lives in Lisbon now.')).toEqual(['Carol Diaz sold her flat.', 'She lives in Lisbon now.']);
    // After a keyed fact: what joined it would give way with it.
    expect(texts('Evan Novak moved to Oslo. He loves the fjords.')).toEqual(['Evan Novak moved to Oslo.', 'He loves the fjords.']);
    // No one named before it.
    expect(texts('The meeting ran late. She left at six.')).toEqual(['The meeting ran late.', 'She left at six.']);
  });

  it('keeps a sentence whose time is an hour or a part of the day, without a day, in the fact before it, which keeps its time', () => {
    const extract = (content: string) => extractFactsBySentence({ content, context: null, timestamp, entities: [] });
    const [zoo] = extract('Bruno Costa took Marta to the zoo on Saturday. They fed the giraffes at noon.');
    expect(zoo.text).toBe('Bruno Costa took Marta to the zoo on Saturday. They fed the giraffes at noon.');
    // The Saturday before the item's Monday, not noon of the day the item was told.
    expect([zoo.occurredStart, zoo.occurredEnd]).toEqual([new Date('2026-06-13T00:00:00Z'), new Date('2026-06-14T00:00:00Z')]);
    expect(
      extract('Oskar Lind cooked for his parents. In the evening he called Petra. At 10:30 he went to bed.').map((fact) => fact.text),
    ).toEqual(['Oskar Lind cooked for his parents. In the evening he called Petra. At 10:30 he went to bed.']);
    // A part of the day that names its day, or an hour with a day, is a time of its own.
    expect(extract('Oskar Lind cooked for his parents. This morning he called Petra.').map((fact) => fact.text)).toEqual([
      'Oskar Lind cooked for his parents.',
      'This morning he called Petra.',
    ]);
    expect(extract('Oskar Lind cooked for his parents. He called Petra at 9 on Monday.').map((fact) => fact.text)).toEqual([
      'Oskar Lind cooked for his parents.',
      'He called Petra at 9 on Monday.',
    ]);
    // Alone, an hour still dates the sentence: the last such hour by the item's time.
    const [alone] = extract('She left at 9am.');
    expect([alone.occurredStart, alone.occurredEnd]).toEqual([new Date('2026-06-15T09:00:00Z'), new Date('2026-06-15T10:00:00Z')]);
  });

  it('stops joining where the fact would outgrow one fact', () => {
    const long = `He ${'really '.repeat(150)}liked the radio.`;
    const facts = extractFactsBySentence({
      content: `Oskar Lind restored a radio. ${long} ${long}`,
      context: null,
      timestamp,
      entities: [],
    });
    expect(facts.map((fact) => fact.text)).toEqual([`Oskar Lind restored a radio. ${long}`, long]);
    expect(facts[1].entities.map((entity) => entity.name)).toEqual(['Oskar Lind']);
  });

  it("sets each fact's occurred range from its own words, else from the item's time", () => {
    const [joined, lives] = extractFactsBySentence({
      content: 'Alice joined Acme Corp in March 2024. She lives in Lisbon.',
      context: null,
      timestamp,
      entities: [],
    });
    expect([joined.occurredStart, joined.occurredEnd]).toEqual([new Date('2024-03-01T00:00:00Z'), new Date('2024-04-01T00:00:00Z')]);
    expect([lives.occurredStart, lives.occurredEnd]).toEqual([timestamp, timestamp]);
  });
});

import { properNouns } from '../../src/entities/entity-names.js';
import { splitSentences } from '../../src/retain/fact-extraction.js';

describe('splitSentences', () => {
  it('splits at sentence ends and blank lines, not at abbreviations', () => {
    expect(splitSentences('Alice met Dr. Smith in the U.S. last May. She liked him!\n\nBob stayed home? Yes.')).toEqual([
      'Alice met Dr. Smith in the U.S. last May.',
      'She liked him!',
      'Bob stayed home?',
      'Yes.',
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
});

import { getEncoding } from 'js-tiktoken';
import { LONGEST_REMEMBERED_TEXT, RememberingCounter, cl100kTokenCounter } from '../../src/recall/token-counter.js';

describe('cl100kTokenCounter', () => {
  const oracle = getEncoding('cl100k_base');

  it.each([
    ['plain English', 'Oskar Lind moved to Uppsala in March 2024.'],
    ['special-token text, counted as ordinary text', 'Say <|endoftext|> then <|fim_prefix|> ok'],
    ['non-Latin scripts and emoji', 'Ирина живёт в 東京 🍣 since 2019'],
    ['empty', ''],
  ])('counts %s as js-tiktoken does', async (_what, text) => {
    const counter = await cl100kTokenCounter();
    expect(counter.count(text)).toBe(oracle.encode(text, [], []).length);
  });
});

describe('RememberingCounter', () => {
  it('counts a text once, and again after it was pushed out by newer texts', () => {
    const counted: string[] = [];
    const counter = new RememberingCounter((text) => {
      counted.push(text);
      return text.length;
    }, 1_000);
    expect(counter.count('a'.repeat(5))).toBe(5);
    expect(counter.count('a'.repeat(5))).toBe(5);
    expect(counted).toHaveLength(1);

    // 10 characters each: the 100th newer text pushes the first one out of 1,000 characters.
    for (let index = 0; index < 100; index += 1) counter.count(`text ${String(index).padStart(5, '0')}`);
    counted.length = 0;
    expect(counter.count('a'.repeat(5))).toBe(5);
    expect(counted).toEqual(['aaaaa']);
  });

  it('keeps the most recently used text when older ones go', () => {
    const counted: string[] = [];
    const counter = new RememberingCounter((text) => {
      counted.push(text);
      return 1;
    }, 30);
    counter.count('first-----');
    counter.count('second----');
    counter.count('first-----');
    counter.count('third-----');
    counter.count('fourth----');
    counted.length = 0;
    counter.count('first-----');
    counter.count('second----');
    expect(counted).toEqual(['second----']);
  });

  it('counts a text longer than it keeps every time, and keeps one at the limit', () => {
    const counted: string[] = [];
    const counter = new RememberingCounter((text) => {
      counted.push(text);
      return 1;
    });
    counter.count('x'.repeat(LONGEST_REMEMBERED_TEXT + 1));
    counter.count('x'.repeat(LONGEST_REMEMBERED_TEXT + 1));
    counter.count('y'.repeat(LONGEST_REMEMBERED_TEXT));
    counter.count('y'.repeat(LONGEST_REMEMBERED_TEXT));
    expect(counted.map((text) => text.length)).toEqual([LONGEST_REMEMBERED_TEXT + 1, LONGEST_REMEMBERED_TEXT + 1, LONGEST_REMEMBERED_TEXT]);
  });
});

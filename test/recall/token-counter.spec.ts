import { getEncoding } from 'js-tiktoken';
import { cl100kTokenCounter } from '../../src/recall/token-counter.js';

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

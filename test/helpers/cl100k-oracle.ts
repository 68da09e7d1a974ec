import { getEncoding } from 'js-tiktoken';

const cl100k = getEncoding('cl100k_base');

/**
 * What a memory costs a recall's token budget, counted by js-tiktoken (OpenAI's own port), the
 * reference the product's gpt-tokenizer counts are checked against.
 */
export function oracleMemoryTokens(text: string, context: string | null = null): number {
  return cl100k.encode(text).length + (context ? cl100k.encode(context).length : 0);
}

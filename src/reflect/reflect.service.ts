import { Inject, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { BanksService } from '../banks/banks.service.js';
import { AiClients } from '../external/ai-clients.js';
import { MemoryErrorCode, MemoryException, fromExternalFailure } from '../memory.exception.js';
import { RecallService } from '../recall/recall.service.js';
import type { RecalledMemory } from '../recall/recall.types.js';
import type { ReflectFact, ReflectOutcome, ReflectRequest } from './reflect.types.js';

export const DEFAULT_REFLECT_MAX_TOKENS = 4096;
/** How many of the best memories an extractive answer quotes. */
export const EXTRACTIVE_MEMORIES = 5;
export const NO_MEMORIES_ANSWER = 'I have no memories relevant to this question.';

const answerSchema = z.object({
  answer: z.string().trim().min(1, 'empty answer'),
  memory_ids: z.array(z.string()).default([]),
});

const SYSTEM_PROMPT = `You answer questions for an AI agent from its long-term memory.
You are given the question and the agent's memories, each with an id. Answer from those memories only;
say so when they do not contain the answer. Write the answer in markdown.
Return JSON: {"answer": string, "memory_ids": [ids of the memories the answer relies on]}.`;

/**
 * Answers a question from a bank's memories: recall first, then an LLM writes the answer and
 * names the memories it used. The LLM's ids are checked against what recall returned (an id
 * it made up is dropped and logged), so `basedOn` only ever holds real memories of this bank.
 *
 * Without an LLM the answer is extractive: the best memories, quoted as a short list.
 *
 * Recall and the LLM call each run with no connection held; reflect itself opens no scope.
 */
@Injectable()
export class ReflectService {
  private readonly logger = new Logger(ReflectService.name);

  constructor(
    @Inject(BanksService) private readonly banks: BanksService,
    @Inject(RecallService) private readonly recaller: RecallService,
    @Inject(AiClients) private readonly ai: AiClients,
  ) {}

  async reflect(bankId: string, request: ReflectRequest, signal?: AbortSignal): Promise<ReflectOutcome> {
    if (typeof request.query !== 'string' || request.query.trim() === '') {
      throw new MemoryException(MemoryErrorCode.InvalidInput, 'query cannot be empty', 'query');
    }
    const maxTokens = request.maxTokens ?? DEFAULT_REFLECT_MAX_TOKENS;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) {
      throw new MemoryException(MemoryErrorCode.InvalidInput, 'max_tokens must be a positive integer', 'max_tokens');
    }
    await this.banks.assertExists(bankId);
    const { results } = await this.recaller.recall(
      {
        bankId,
        query: request.query,
        types: request.factTypes,
        budget: request.budget ?? 'low',
        tags: request.tags,
        tagsMatch: request.tagsMatch,
        includeEntities: null,
      },
      signal,
    );
    const llm = this.ai.llm;
    if (!llm) return extractiveAnswer(results);

    const question = request.context ? `${request.query}\n\nAdditional context: ${request.context}` : request.query;
    const user = [`Question: ${question}`, '', 'Memories:', ...(results.length ? results.map(describeMemory) : ['(none)'])].join('\n');
    const answer = await llm
      .completeJson({ operation: 'reflect', system: SYSTEM_PROMPT, user, schema: answerSchema, maxTokens }, signal)
      .catch((error: unknown) => {
        throw fromExternalFailure(error);
      });
    const recalled = new Map(results.map((memory) => [memory.id, memory]));
    const cited = [...new Set(answer.memory_ids)];
    const unknown = cited.filter((id) => !recalled.has(id));
    if (unknown.length) {
      this.logger.warn(
        `Reflect on bank ${bankId}: dropped ${unknown.length} memory id(s) the LLM cited but recall did not return: ${unknown.join(', ')}`,
      );
    }
    return {
      text: answer.answer,
      basedOn: cited.filter((id) => recalled.has(id)).map((id) => toFact(recalled.get(id)!)),
      extractive: false,
    };
  }
}

/** The best memories, quoted: what can be said truthfully without a model. */
export function extractiveAnswer(results: RecalledMemory[], limit = EXTRACTIVE_MEMORIES): ReflectOutcome {
  const quoted = results.slice(0, limit);
  if (quoted.length === 0) return { text: NO_MEMORIES_ANSWER, basedOn: [], extractive: true };
  const lines = quoted.map((memory) => `- ${memory.text}${memory.context ? ` (${memory.context})` : ''}`);
  return { text: `Relevant memories:\n${lines.join('\n')}`, basedOn: quoted.map(toFact), extractive: true };
}

export function describeMemory(memory: RecalledMemory): string {
  const when = memory.occurredStart ? ` [${new Date(memory.occurredStart).toISOString().slice(0, 10)}]` : '';
  const context = memory.context ? ` (context: ${memory.context})` : '';
  return `- id=${memory.id} (${memory.type})${when}: ${memory.text}${context}`;
}

export function toFact(memory: RecalledMemory): ReflectFact {
  return {
    id: memory.id,
    text: memory.text,
    type: memory.type,
    context: memory.context,
    occurredStart: memory.occurredStart,
    occurredEnd: memory.occurredEnd,
  };
}

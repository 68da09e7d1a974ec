import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { z } from 'zod';
import { DirectivesService, directivesPrompt } from '../directives/directives.service.js';
import { AiClients } from '../external/ai-clients.js';
import { LlmOutputError } from '../external/external-errors.js';
import type { LlmUsage } from '../external/llm-client.js';
import { MemoryErrorCode, MemoryException, fromExternalFailure } from '../memory.exception.js';
import { RecallService } from '../recall/recall.service.js';
import type { RecalledMemory } from '../recall/recall.types.js';
import { instantForModel, occurredForModel } from '../time/for-a-model.js';
import type { ReflectFact, ReflectOutcome, ReflectRequest, ReflectTrace } from './reflect.types.js';
import { compileResponseSchema, schemaErrors } from './response-schema.js';

export const DEFAULT_REFLECT_MAX_TOKENS = 4096;
/** How many of the best memories an extractive answer quotes. */
export const EXTRACTIVE_MEMORIES = 5;
export const NO_MEMORIES_ANSWER = 'I have no memories relevant to this question.';

const answerSchema = z.object({
  answer: z.string().trim().min(1, 'empty answer'),
  memory_ids: z.array(z.string()).default([]),
  structured_output: z.unknown().optional(),
});

const SYSTEM_PROMPT = `You answer questions for an AI agent from its long-term memory.
You are given the question and the agent's memories, each with an id. Answer from those memories only;
say so when they do not contain the answer. A memory marked superseded was replaced by a newer one: it tells
what was true before, not what is true now. Write the answer in markdown.
Return JSON: {"answer": string, "memory_ids": [ids of the memories the answer relies on]}.`;

export const NO_USAGE: LlmUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0, cachedTokens: 0, thoughtsTokens: 0 };

/**
 * Answers a question from a bank's memories: recall first, then an LLM writes the answer and
 * names the memories it used. The LLM's ids are checked against what recall returned (an id
 * it made up is dropped and logged), so `basedOn` only ever holds real memories of this bank.
 * The bank's directives in the request's scope go into the system prompt.
 *
 * Without an LLM the answer is extractive: the best memories, quoted as a short list.
 *
 * Recall, the directives read and the LLM call each run with no connection held across another;
 * reflect itself opens no scope.
 */
@Injectable()
export class ReflectService {
  private readonly logger = new Logger(ReflectService.name);

  constructor(
    @Inject(RecallService) private readonly recaller: RecallService,
    @Inject(AiClients) private readonly ai: AiClients,
    @Inject(DirectivesService) private readonly directives: DirectivesService,
  ) {}

  async reflect(bankId: string, request: ReflectRequest, signal?: AbortSignal): Promise<ReflectOutcome> {
    if (typeof request.query !== 'string' || request.query.trim() === '') {
      throw new MemoryException(MemoryErrorCode.InvalidInput, 'query cannot be empty', 'query');
    }
    const maxTokens = request.maxTokens ?? DEFAULT_REFLECT_MAX_TOKENS;
    if (!Number.isInteger(maxTokens) || maxTokens < 1) {
      throw new MemoryException(MemoryErrorCode.InvalidInput, 'max_tokens must be a positive integer', 'max_tokens');
    }
    const llm = this.ai.llm;
    const wantsSchema = request.responseSchema != null;
    if (wantsSchema && !llm) {
      // Without a model there is nothing to fill the schema in; a 200 without it would look like success.
      throw new MemoryException(
        MemoryErrorCode.InvalidInput,
        'response_schema needs an LLM and this server has none configured',
        'response_schema',
      );
    }
    const validate = wantsSchema ? compileResponseSchema(request.responseSchema) : undefined;

    const trace: ReflectTrace = { toolCalls: [], llmCalls: [] };
    const recallInput = {
      query: request.query,
      budget: request.budget ?? 'low',
      tags: request.tags ?? null,
      tags_match: request.tagsMatch ?? 'any',
      tag_groups: request.tagGroups ?? null,
      fact_types: request.factTypes ?? null,
    };
    const recallStarted = performance.now();
    const { results } = await this.recaller.recall(
      {
        bankId,
        query: request.query,
        types: request.factTypes,
        budget: request.budget ?? 'low',
        tags: request.tags,
        tagsMatch: request.tagsMatch,
        tagGroups: request.tagGroups,
        includeEntities: null,
        // Checked on recall's connection rather than on one of its own.
        bankMustExist: true,
      },
      signal,
    );
    trace.toolCalls.push({
      tool: 'recall',
      input: recallInput,
      output: request.trace?.output === false ? null : { memories: results.map((memory) => ({ id: memory.id, type: memory.type })) },
      durationMs: elapsed(recallStarted),
      iteration: 1,
    });
    const withTrace = (outcome: Omit<ReflectOutcome, 'trace'>): ReflectOutcome => ({ ...outcome, trace: request.trace ? trace : null });
    if (!llm) return withTrace({ ...extractiveAnswer(results), directives: [], structuredOutput: null, usage: NO_USAGE });

    const directives = await this.directives.applicable(bankId, {
      tags: request.tags,
      tagsMatch: request.tagsMatch,
      applyAll: request.applyAllDirectives === true,
    });
    const question = request.context ? `${request.query}\n\nAdditional context: ${request.context}` : request.query;
    const user = [
      // "What do I have this week?", "How long ago…?": the model needs to know when it is asked.
      `Now: ${instantForModel(new Date())}`,
      `Question: ${question}`,
      '',
      'Memories:',
      ...(results.length ? results.map(describeMemory) : ['(none)']),
    ].join('\n');
    const schemaPrompt = wantsSchema
      ? `\n\nAlso fill "structured_output": a JSON object that validates against this JSON Schema, from the same memories:\n${JSON.stringify(request.responseSchema)}`
      : '';
    let usage = NO_USAGE;
    const llmStarted = performance.now();
    const answer = await llm
      .completeJson(
        {
          operation: 'reflect',
          system: SYSTEM_PROMPT + schemaPrompt + directivesPrompt(directives),
          user,
          schema: answerSchema,
          maxTokens,
          onUsage: (reported) => (usage = addUsage(usage, reported)),
          context: { bankId, traceId: randomUUID() },
        },
        signal,
      )
      .catch((error: unknown) => {
        throw fromExternalFailure(error);
      });
    trace.llmCalls.push({ scope: 'final', durationMs: elapsed(llmStarted) });

    let structuredOutput: Record<string, unknown> | null = null;
    if (validate) {
      const value = answer.structured_output;
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !validate(value)) {
        const reason =
          value === undefined ? 'no structured_output' : `structured_output does not match response_schema: ${schemaErrors(validate)}`;
        throw fromExternalFailure(new LlmOutputError('reflect', reason));
      }
      structuredOutput = value as Record<string, unknown>;
    }

    const recalled = new Map(results.map((memory) => [memory.id, memory]));
    const cited = [...new Set(answer.memory_ids)];
    const unknown = cited.filter((id) => !recalled.has(id));
    if (unknown.length) {
      this.logger.warn(
        `Reflect on bank ${bankId}: dropped ${unknown.length} memory id(s) the LLM cited but recall did not return: ${unknown.join(', ')}`,
      );
    }
    return withTrace({
      text: answer.answer,
      basedOn: cited.filter((id) => recalled.has(id)).map((id) => toFact(recalled.get(id)!)),
      directives,
      extractive: false,
      structuredOutput,
      usage,
    });
  }
}

export function addUsage(a: LlmUsage, b: LlmUsage): LlmUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    cachedTokens: a.cachedTokens + b.cachedTokens,
    thoughtsTokens: a.thoughtsTokens + b.thoughtsTokens,
  };
}

function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}

/** The best memories, quoted: what can be said truthfully without a model. */
export function extractiveAnswer(
  results: RecalledMemory[],
  limit = EXTRACTIVE_MEMORIES,
): { text: string; basedOn: ReflectFact[]; extractive: true } {
  const quoted = results.slice(0, limit);
  if (quoted.length === 0) return { text: NO_MEMORIES_ANSWER, basedOn: [], extractive: true };
  const lines = quoted.map((memory) => `- ${memory.text}${memory.context ? ` (${memory.context})` : ''}`);
  return { text: `Relevant memories:\n${lines.join('\n')}`, basedOn: quoted.map(toFact), extractive: true };
}

export function describeMemory(memory: RecalledMemory): string {
  const when = memory.occurredStart
    ? ` [${occurredForModel(new Date(memory.occurredStart), memory.occurredEnd ? new Date(memory.occurredEnd) : null)}]`
    : '';
  const context = memory.context ? ` (context: ${memory.context})` : '';
  // What was true then, not now: "Where does Evan live?" must not be answered from the Berlin fact.
  const replaced = memory.supersededBy ? ` (superseded by id=${memory.supersededBy})` : '';
  return `- id=${memory.id} (${memory.type})${when}: ${memory.text}${context}${replaced}`;
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

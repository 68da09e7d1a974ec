import type OpenAI from 'openai';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { z } from 'zod';
import type { ExternalCallGuard } from './external-call-guard.js';
import { LlmOutputError } from './external-errors.js';
import type { HttpTransport } from './http-transport.js';
import { stripUnstorable } from '../storage/storable-text.js';
import type { LlmClient, LlmJsonRequest, LlmUsage } from './llm-client.js';
import { OpenAiConnectionSettings, requestOpenAi } from './openai-request.js';

export interface OpenAiLlmSettings extends OpenAiConnectionSettings {
  model: string;
}

/**
 * OpenAI's JSON mode answers 400 unless the word "JSON" appears in the messages; prompts written
 * for the task rarely say it, so the system message says it for them.
 */
const JSON_INSTRUCTION = 'Reply with one JSON object and nothing else.';

/** Chat completions in JSON mode from any OpenAI-compatible `/v1/chat/completions` endpoint. */
export class OpenAiLlmClient implements LlmClient {
  readonly provider = 'openai' as const;

  constructor(
    private readonly client: OpenAI,
    private readonly settings: OpenAiLlmSettings,
    private readonly guard: ExternalCallGuard,
    private readonly transport: HttpTransport,
  ) {}

  completeJson<T>(request: LlmJsonRequest<T>, signal?: AbortSignal): Promise<T> {
    return this.guard.call('llm', request.operation, async () => {
      const call = { client: 'llm' as const, operation: request.operation, settings: this.settings, transport: this.transport, signal };
      const completion = await requestOpenAi(call, (callSignal) =>
        this.client.chat.completions.create(
          {
            model: this.settings.model,
            messages: [
              { role: 'system', content: withJsonInstruction(request.system, request.user) },
              { role: 'user', content: request.user },
            ],
            response_format: { type: 'json_object' },
            // `max_tokens` rather than `max_completion_tokens`: every OpenAI-compatible server
            // knows the older name, and the default model accepts both.
            ...(request.maxTokens !== undefined && { max_tokens: request.maxTokens }),
          },
          { signal: callSignal },
        ),
      );
      request.onUsage?.(usageOf(completion));
      request.onReply?.(completion?.choices?.[0]?.message?.content ?? '');
      return parseReply(completion, request.operation, request.schema);
    });
  }
}

function usageOf(completion: ChatCompletion): LlmUsage {
  const usage = completion?.usage;
  const input = usage?.prompt_tokens ?? 0;
  const thoughts = usage?.completion_tokens_details?.reasoning_tokens ?? 0;
  // Hindsight counts visible output only: reasoning tokens are reported apart.
  const output = Math.max(0, (usage?.completion_tokens ?? 0) - thoughts);
  return {
    inputTokens: input,
    outputTokens: output,
    totalTokens: input + output,
    cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    thoughtsTokens: thoughts,
  };
}

function withJsonInstruction(system: string, user: string): string {
  return /json/i.test(system) || /json/i.test(user) ? system : `${system}\n\n${JSON_INSTRUCTION}`.trim();
}

function parseReply<T>(completion: ChatCompletion, operation: string, schema: z.ZodType<T>): T {
  const unusable = (reason: string) => new LlmOutputError(operation, reason);
  const choice = completion?.choices?.[0];
  if (!choice) throw unusable('the response has no choices');
  if (choice.message?.refusal) throw unusable(`the model refused: ${clip(choice.message.refusal)}`);
  const content = choice.message?.content;
  if (content === null || content === undefined || content.trim() === '') {
    throw unusable(`empty content (finish_reason=${choice.finish_reason})`);
  }
  if (choice.finish_reason === 'length') throw unusable('the reply was cut off at the token limit');
  if (choice.finish_reason === 'content_filter') throw unusable('the reply was withheld by a content filter');

  let value: unknown;
  try {
    // The model's strings become facts, entity names, observations and models. A NUL or a lone
    // surrogate (a JSON escape away) carries nothing and PostgreSQL refuses it, which lost the
    // whole retain or consolidation batch: removed, as from retained content.
    value = JSON.parse(withoutCodeFence(content), (_key, field: unknown) => (typeof field === 'string' ? stripUnstorable(field) : field));
  } catch (error) {
    throw unusable(`malformed JSON (${(error as Error).message}): ${clip(content)}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw unusable(`schema mismatch: ${describeIssues(result.error)}`);
  return result.data;
}

/** Some compatible servers wrap JSON mode output in a Markdown fence anyway. */
function withoutCodeFence(content: string): string {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(content);
  return fenced ? fenced[1] : content;
}

function describeIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  const more = error.issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

function clip(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

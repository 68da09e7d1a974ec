import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Min,
  ValidateNested,
} from 'class-validator';
import type { LlmUsage } from '../../external/llm-client.js';
import { FACT_TYPES, RECALL_BUDGETS, TAGS_MATCHES } from '../../recall/recall.types.js';
import type { ReflectFact, ReflectOutcome, ReflectRequest } from '../../reflect/reflect.types.js';
import { LimitedInput } from '../input-rules.js';
import { OptionalTags, OptionalTagsMatch, TagGroups } from './coercions.js';

/** Hindsight's `ToolCallsIncludeOptions`. */
export class ToolCallsIncludeOptionsDto {
  @ApiPropertyOptional({ type: Boolean, default: true })
  @IsOptional()
  @IsBoolean()
  output?: boolean | null;
}

/** Hindsight's `ReflectIncludeOptions`. */
export class ReflectIncludeOptionsDto {
  @ApiPropertyOptional({ type: Object, nullable: true, description: 'Accepted; based_on is always sent' })
  @IsOptional()
  @IsObject()
  facts?: Record<string, unknown> | null;

  @ApiPropertyOptional({ type: ToolCallsIncludeOptionsDto, nullable: true, description: 'Adds `trace` to the response' })
  @IsOptional()
  @ValidateNested()
  @Type(() => ToolCallsIncludeOptionsDto)
  tool_calls?: ToolCallsIncludeOptionsDto | null;
}

/** Hindsight's `ReflectRequest`. */
export class ReflectRequestDto {
  @ApiProperty({ example: 'What does Alice do for a living?' })
  @IsString()
  @Matches(/[\p{L}\p{N}_]/u, { message: 'query must contain at least one word character' })
  @LimitedInput('query')
  query: string;

  @ApiPropertyOptional({ enum: RECALL_BUDGETS, default: 'low' })
  @IsOptional()
  @IsIn(RECALL_BUDGETS)
  budget?: (typeof RECALL_BUDGETS)[number] | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Deprecated: appended to the query' })
  @IsOptional()
  @IsString()
  @LimitedInput('query')
  context?: string | null;

  @ApiPropertyOptional({ type: 'integer', default: 4096, minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  max_tokens?: number | null;

  @ApiPropertyOptional({ type: ReflectIncludeOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ReflectIncludeOptionsDto)
  include?: ReflectIncludeOptionsDto | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'JSON Schema for `structured_output`; needs an LLM (422 naming response_schema without one)',
  })
  @IsOptional()
  @IsObject()
  response_schema?: Record<string, unknown> | null;

  @OptionalTags()
  tags?: string[] | null;

  @OptionalTagsMatch()
  tags_match?: (typeof TAGS_MATCHES)[number] | null;

  @TagGroups()
  tag_groups?: unknown[] | null;

  @ApiPropertyOptional({ enum: FACT_TYPES, isArray: true, nullable: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: 'fact_types cannot be empty' })
  @IsIn(FACT_TYPES, { each: true })
  fact_types?: Array<(typeof FACT_TYPES)[number]> | null;

  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Every active directive, whatever its tags' })
  @IsOptional()
  @IsBoolean()
  apply_all_directives?: boolean | null;

  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Reflect here never consults mental models: always honoured' })
  @IsOptional()
  @IsBoolean()
  exclude_mental_models?: boolean | null;

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'Reflect here never consults mental models: always honoured' })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  exclude_mental_model_ids?: string[] | null;
}

export function toReflectRequest(body: ReflectRequestDto): ReflectRequest {
  const toolCalls = body.include?.tool_calls;
  return {
    query: body.query,
    budget: body.budget ?? undefined,
    maxTokens: body.max_tokens ?? undefined,
    tags: body.tags ?? undefined,
    tagsMatch: body.tags_match ?? undefined,
    tagGroups: body.tag_groups ?? undefined,
    factTypes: body.fact_types ?? undefined,
    context: body.context ?? null,
    responseSchema: body.response_schema ?? null,
    applyAllDirectives: body.apply_all_directives ?? false,
    trace: toolCalls ? { output: toolCalls.output ?? true } : null,
  };
}

/** Hindsight's `ReflectFact`. */
export class ReflectFactResponse {
  @ApiProperty({ type: String, nullable: true })
  id: string | null;

  @ApiProperty()
  text: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  type?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  context?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  occurred_start?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true })
  occurred_end?: string | null;

  static of(fact: ReflectFact): ReflectFactResponse {
    const wire: ReflectFactResponse = { id: fact.id, text: fact.text, type: fact.type };
    if (fact.context != null) wire.context = fact.context;
    if (fact.occurredStart != null) wire.occurred_start = new Date(fact.occurredStart).toISOString();
    if (fact.occurredEnd != null) wire.occurred_end = new Date(fact.occurredEnd).toISOString();
    return wire;
  }
}

/** Hindsight's `ReflectDirective`. */
export class ReflectDirectiveResponse {
  @ApiProperty()
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty()
  content: string;
}

/** Hindsight's `ReflectMentalModel`. */
export class ReflectMentalModelResponse {
  @ApiProperty()
  id: string;

  @ApiProperty()
  text: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  context?: string | null;
}

/** Hindsight's `ReflectBasedOn`. */
export class ReflectBasedOnResponse {
  @ApiProperty({ type: [ReflectFactResponse] })
  memories: ReflectFactResponse[];

  @ApiProperty({ type: [ReflectMentalModelResponse], description: 'Reflect here does not consult mental models: always empty' })
  mental_models: ReflectMentalModelResponse[];

  @ApiProperty({ type: [ReflectDirectiveResponse] })
  directives: ReflectDirectiveResponse[];
}

/** Hindsight's `TokenUsage`. */
export class TokenUsageResponse {
  @ApiProperty({ type: 'integer', default: 0 })
  input_tokens: number;

  @ApiProperty({ type: 'integer', default: 0 })
  output_tokens: number;

  @ApiProperty({ type: 'integer', default: 0 })
  total_tokens: number;

  @ApiProperty({ type: 'integer', default: 0 })
  cached_tokens: number;

  @ApiProperty({ type: 'integer', default: 0 })
  thoughts_tokens: number;

  /** Retain does not count cached or thinking tokens: they go out as Hindsight's default, 0. */
  static of(usage: Pick<LlmUsage, 'inputTokens' | 'outputTokens' | 'totalTokens'> & Partial<LlmUsage>): TokenUsageResponse {
    return {
      input_tokens: usage.inputTokens,
      output_tokens: usage.outputTokens,
      total_tokens: usage.totalTokens,
      cached_tokens: usage.cachedTokens ?? 0,
      thoughts_tokens: usage.thoughtsTokens ?? 0,
    };
  }
}

/** Hindsight's `ReflectToolCall`. */
export class ReflectToolCallResponse {
  @ApiProperty({ example: 'recall' })
  tool: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  input: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  output?: Record<string, unknown> | null;

  @ApiProperty({ type: 'integer' })
  duration_ms: number;

  @ApiProperty({ type: 'integer', default: 0 })
  iteration: number;
}

/** Hindsight's `ReflectLLMCall`. */
export class ReflectLlmCallResponse {
  @ApiProperty({ example: 'final' })
  scope: string;

  @ApiProperty({ type: 'integer' })
  duration_ms: number;
}

/** Hindsight's `ReflectTrace`. */
export class ReflectTraceResponse {
  @ApiProperty({ type: [ReflectToolCallResponse] })
  tool_calls: ReflectToolCallResponse[];

  @ApiProperty({ type: [ReflectLlmCallResponse] })
  llm_calls: ReflectLlmCallResponse[];
}

/** Hindsight's `ReflectResponse`, plus `extractive`. */
export class ReflectResponse {
  @ApiProperty()
  text: string;

  @ApiProperty({ type: ReflectBasedOnResponse, description: 'Always sent, whatever include.facts says' })
  based_on: ReflectBasedOnResponse;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  structured_output?: Record<string, unknown> | null;

  @ApiProperty({ type: TokenUsageResponse })
  usage: TokenUsageResponse;

  @ApiPropertyOptional({ type: ReflectTraceResponse, nullable: true, description: 'Only when include.tool_calls is set' })
  trace?: ReflectTraceResponse | null;

  @ApiProperty({ description: 'True when no LLM is configured and the text quotes the best memories' })
  extractive: boolean;

  static of(outcome: ReflectOutcome): ReflectResponse {
    const wire: ReflectResponse = {
      text: outcome.text,
      based_on: {
        memories: outcome.basedOn.map(ReflectFactResponse.of),
        mental_models: [],
        directives: outcome.directives.map(({ id, name, content }) => ({ id, name, content })),
      },
      usage: TokenUsageResponse.of(outcome.usage),
      extractive: outcome.extractive,
    };
    if (outcome.structuredOutput !== null) wire.structured_output = outcome.structuredOutput;
    if (outcome.trace !== null) {
      wire.trace = {
        tool_calls: outcome.trace.toolCalls.map((call) => ({
          tool: call.tool,
          input: call.input,
          ...(call.output !== null && { output: call.output }),
          duration_ms: call.durationMs,
          iteration: call.iteration,
        })),
        llm_calls: outcome.trace.llmCalls.map((call) => ({ scope: call.scope, duration_ms: call.durationMs })),
      };
    }
    return wire;
  }
}

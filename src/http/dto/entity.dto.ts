import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, Min } from 'class-validator';
import { MAX_GRAPH_LIMIT, TIMESERIES_FIELDS, TIMESERIES_PERIODS } from '../../banks/bank-graph.service.js';
import { FACT_TYPES, TAGS_MATCHES } from '../../recall/recall.types.js';
import { LimitedInput } from '../input-rules.js';
import { CoerceTags, QueryInt } from './coercions.js';

// ---------------------------------------------------------------------------------------------
// Requests

const MAX_INT32 = 2_147_483_647;

export class EntityGraphQuery {
  @ApiPropertyOptional({
    type: 'integer',
    default: 1000,
    minimum: 0,
    maximum: MAX_GRAPH_LIMIT,
    description: 'Most co-occurrence edges returned',
  })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(0)
  @Max(MAX_GRAPH_LIMIT)
  limit?: number;

  // Bounded so that the value always fits the count it is compared with in SQL.
  @ApiPropertyOptional({
    type: 'integer',
    default: 1,
    minimum: -MAX_INT32,
    maximum: MAX_INT32,
    description: 'Fewest memories naming both entities for an edge',
  })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(-MAX_INT32)
  @Max(MAX_INT32)
  min_count?: number;
}

export class GraphQuery {
  @ApiPropertyOptional({ enum: FACT_TYPES, description: 'Only memories of this type' })
  @IsOptional()
  @IsIn(FACT_TYPES)
  type?: (typeof FACT_TYPES)[number];

  @ApiPropertyOptional({
    type: 'integer',
    default: 1000,
    minimum: 0,
    maximum: MAX_GRAPH_LIMIT,
    description: 'Most memories returned, newest first',
  })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(0)
  @Max(MAX_GRAPH_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ description: 'Substring of the text or context, case-insensitive' })
  @IsOptional()
  @IsString()
  q?: string;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @CoerceTags()
  @IsString({ each: true })
  @LimitedInput('tags')
  tags?: string[];

  @ApiPropertyOptional({ enum: TAGS_MATCHES, default: 'all_strict' })
  @IsOptional()
  @IsIn(TAGS_MATCHES)
  tags_match?: (typeof TAGS_MATCHES)[number];

  @ApiPropertyOptional({ description: "The document's memories and the observations built from them" })
  @IsOptional()
  @IsString()
  @LimitedInput('documentId')
  document_id?: string;

  @ApiPropertyOptional({ format: 'uuid', description: "The chunk's memories and the observations built from them" })
  @IsOptional()
  @IsUUID('all', { message: 'chunk_id must be a UUID' })
  chunk_id?: string;
}

export class MemoriesTimeseriesQuery {
  @ApiPropertyOptional({ enum: Object.keys(TIMESERIES_PERIODS), default: '7d' })
  @IsOptional()
  @IsIn(Object.keys(TIMESERIES_PERIODS))
  period?: keyof typeof TIMESERIES_PERIODS;

  @ApiPropertyOptional({
    type: String,
    default: 'created_at',
    description: 'created_at (stored), mentioned_at or occurred_start (event time, else created_at); other values fall back to created_at',
  })
  @IsOptional()
  @IsString()
  time_field?: string;
}

// ---------------------------------------------------------------------------------------------
// Responses

export class EntityListItemDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ description: 'The name as first written' })
  canonical_name!: string;

  @ApiProperty({ type: 'integer', description: 'How many memories name the entity' })
  mention_count!: number;

  @ApiPropertyOptional({ type: String, nullable: true, format: 'date-time' })
  first_seen?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, format: 'date-time' })
  last_seen?: string | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: '`entity_type` when the entity was given one' })
  metadata?: Record<string, string>;
}

export class EntityListResponseDto {
  @ApiProperty({ type: [EntityListItemDto], description: 'Most mentioned first' })
  items!: EntityListItemDto[];

  @ApiProperty({ type: 'integer' })
  total!: number;

  @ApiProperty({ type: 'integer' })
  limit!: number;

  @ApiProperty({ type: 'integer' })
  offset!: number;
}

export class EntityObservationDto {
  @ApiProperty()
  text!: string;

  @ApiPropertyOptional({ type: String, nullable: true, format: 'date-time' })
  mentioned_at?: string | null;
}

export class EntityDetailResponseDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ description: 'The name as first written' })
  canonical_name!: string;

  @ApiProperty({ type: 'integer' })
  mention_count!: number;

  @ApiPropertyOptional({ type: String, nullable: true, format: 'date-time' })
  first_seen?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, format: 'date-time' })
  last_seen?: string | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: '`entity_type` when the entity was given one' })
  metadata?: Record<string, string>;

  @ApiProperty({ type: [EntityObservationDto], description: 'Live observations about the entity, newest first' })
  observations!: EntityObservationDto[];
}

export class EntityGraphNodeDataDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  label!: string;

  @ApiProperty({ type: 'integer' })
  mentionCount!: number;

  @ApiProperty()
  color!: string;
}

export class EntityGraphNodeDto {
  @ApiProperty({ type: EntityGraphNodeDataDto })
  data!: EntityGraphNodeDataDto;
}

export class EntityGraphEdgeDataDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  source!: string;

  @ApiProperty()
  target!: string;

  @ApiProperty({ enum: ['cooccurrence'] })
  linkType!: 'cooccurrence';

  @ApiProperty({ type: 'integer', description: 'How many memories name both entities' })
  weight!: number;

  @ApiProperty()
  color!: string;

  @ApiProperty()
  lineStyle!: string;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  lastCooccurred!: string | null;
}

export class EntityGraphEdgeDto {
  @ApiProperty({ type: EntityGraphEdgeDataDto })
  data!: EntityGraphEdgeDataDto;
}

export class EntityGraphResponseDto {
  @ApiProperty({ type: [EntityGraphNodeDto] })
  nodes!: EntityGraphNodeDto[];

  @ApiProperty({ type: [EntityGraphEdgeDto] })
  edges!: EntityGraphEdgeDto[];

  @ApiProperty({ type: 'integer', description: 'Entities in this answer' })
  total_entities!: number;

  @ApiProperty({ type: 'integer', description: 'Edges in this answer' })
  total_edges!: number;

  @ApiProperty({ type: 'integer' })
  limit!: number;
}

export class GraphNodeDataDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ description: 'The text, cut to 30 characters' })
  label!: string;

  @ApiProperty()
  text!: string;

  @ApiProperty({ description: 'When it happened, else when it was said (ISO 8601); empty when unknown' })
  date!: string;

  @ApiProperty()
  context!: string;

  @ApiProperty({ description: 'Entity names, comma-separated, or "None"' })
  entities!: string;

  @ApiProperty()
  color!: string;
}

export class GraphNodeDto {
  @ApiProperty({ type: GraphNodeDataDto })
  data!: GraphNodeDataDto;
}

export class GraphEdgeDataDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  source!: string;

  @ApiProperty()
  target!: string;

  @ApiProperty({ enum: ['entity', 'semantic'] })
  linkType!: 'entity' | 'semantic';

  @ApiProperty({ type: Number })
  weight!: number;

  @ApiProperty({ description: 'The entity both memories name; empty for other links' })
  entityName!: string;

  @ApiProperty()
  color!: string;

  @ApiProperty()
  lineStyle!: string;
}

export class GraphEdgeDto {
  @ApiProperty({ type: GraphEdgeDataDto })
  data!: GraphEdgeDataDto;
}

export class GraphTableRowDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  text!: string;

  @ApiProperty({ description: 'The context, or "N/A"' })
  context!: string;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  occurred_start!: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  occurred_end!: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  mentioned_at!: string | null;

  @ApiProperty({ description: 'YYYY-MM-DD HH:MM (UTC), or "N/A"; deprecated in Hindsight' })
  date!: string;

  @ApiProperty({ description: 'Entity names, comma-separated, or "None"' })
  entities!: string;

  @ApiProperty({ type: String, nullable: true })
  document_id!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The chunk of its document the memory was extracted from' })
  chunk_id!: string | null;

  @ApiProperty({ enum: FACT_TYPES })
  fact_type!: string;

  @ApiProperty({ type: [String] })
  tags!: string[];

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: 'integer', nullable: true })
  proof_count!: number | null;
}

export class GraphDataResponseDto {
  @ApiProperty({ type: [GraphNodeDto] })
  nodes!: GraphNodeDto[];

  @ApiProperty({ type: [GraphEdgeDto] })
  edges!: GraphEdgeDto[];

  @ApiProperty({ type: [GraphTableRowDto] })
  table_rows!: GraphTableRowDto[];

  @ApiProperty({ type: 'integer', description: 'Memories matching the filters, beyond the limit too' })
  total_units!: number;

  @ApiProperty({ type: 'integer' })
  limit!: number;
}

export class MemoryTimeseriesBucketDto {
  @ApiProperty({ description: 'Start of the bucket, ISO 8601 in UTC' })
  time!: string;

  @ApiProperty({ type: 'integer' })
  world!: number;

  @ApiProperty({ type: 'integer' })
  experience!: number;

  @ApiProperty({ type: 'integer' })
  observation!: number;
}

export class MemoriesTimeseriesResponseDto {
  @ApiProperty()
  bank_id!: string;

  @ApiProperty({ enum: Object.keys(TIMESERIES_PERIODS) })
  period!: string;

  @ApiProperty({ enum: ['minute', 'hour', 'day'] })
  trunc!: string;

  @ApiProperty({ enum: TIMESERIES_FIELDS })
  time_field!: string;

  @ApiProperty({ type: [MemoryTimeseriesBucketDto], description: 'Every bucket of the period, empty ones included' })
  buckets!: MemoryTimeseriesBucketDto[];
}

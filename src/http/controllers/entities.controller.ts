import { BadRequestException, Get, GoneException, Inject, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiGoneResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import {
  BankGraphService,
  type GraphUnit,
  type MemoriesTimeseries,
  type MemoryGraph,
  TIMESERIES_FIELDS,
} from '../../banks/bank-graph.service.js';
import type { TimeseriesField } from '../../banks/stats.queries.js';
import { type EntityDetail, type EntityGraph, EntitiesService } from '../../entities/entities.service.js';
import type { EntityRecord, Page } from '../../memories/memory.types.js';
import { MemoriesService } from '../../memories/memories.service.js';
import { isUuid } from '../../storage/uuid.js';
import {
  EntityDetailResponseDto,
  EntityGraphQuery,
  EntityGraphResponseDto,
  EntityListResponseDto,
  GraphDataResponseDto,
  GraphQuery,
  type GraphTableRowDto,
  MemoriesTimeseriesQuery,
  MemoriesTimeseriesResponseDto,
} from '../dto/entity.dto.js';
import { PageQuery } from '../dto/list-query.dto.js';
import { ErrorDetailResponse } from '../dto/responses/error.responses.js';
import { MemoryApiController } from '../memory-api.decorator.js';

const DEFAULT_GRAPH_LIMIT = 1000;

/** A bank's entities: the list, one in detail, and which ones its memories name together. */
@MemoryApiController('entities')
export class EntitiesController {
  constructor(
    @Inject(EntitiesService) private readonly entities: EntitiesService,
    @Inject(MemoriesService) private readonly memories: MemoriesService,
  ) {}

  @Get('banks/:bank_id/entities')
  @ApiOperation({ operationId: 'list_entities' })
  @ApiOkResponse({ type: EntityListResponseDto })
  async list(@Param('bank_id') bankId: string, @Query() query: PageQuery): Promise<EntityListResponseDto> {
    return toEntityListWire(await this.memories.listEntities(bankId, { limit: query.limit ?? 100, offset: query.offset ?? 0 }));
  }

  // Declared before `entities/:entity_id`, which would otherwise take `graph` for an id.
  @Get('banks/:bank_id/entities/graph')
  @ApiOperation({ operationId: 'get_entity_graph', summary: 'Entities named together by memories, most often together first' })
  @ApiOkResponse({ type: EntityGraphResponseDto })
  async graph(@Param('bank_id') bankId: string, @Query() query: EntityGraphQuery): Promise<EntityGraphResponseDto> {
    const limit = query.limit ?? DEFAULT_GRAPH_LIMIT;
    return toEntityGraphWire(await this.entities.cooccurrenceGraph(bankId, query.min_count ?? 1, limit), limit);
  }

  @Get('banks/:bank_id/entities/:entity_id')
  @ApiOperation({ operationId: 'get_entity' })
  @ApiOkResponse({ type: EntityDetailResponseDto })
  async get(@Param('bank_id') bankId: string, @Param('entity_id') entityId: string): Promise<EntityDetailResponseDto> {
    if (!isUuid(entityId)) throw new BadRequestException(`Invalid entity_id: '${entityId}' is not a valid UUID`);
    const entity = await this.entities.get(bankId, entityId);
    if (!entity) throw new NotFoundException(`Entity ${entityId} not found`);
    return toEntityDetailWire(entity);
  }

  /** Hindsight 0.9.1 answers 410 too, LLM or not: mental models replaced entity observations. */
  @Post('banks/:bank_id/entities/:entity_id/regenerate')
  @ApiOperation({ operationId: 'regenerate_entity_observations', deprecated: true, summary: 'Gone: use mental models' })
  @ApiGoneResponse({
    type: ErrorDetailResponse,
    description: 'Always: entity observations are built by consolidation; mental models replace this route',
  })
  regenerate(): never {
    throw new GoneException(
      'This endpoint is deprecated. Entity observations are no longer supported: consolidation keeps observations current; use mental models',
    );
  }
}

/** The bank's memory graph and its ingestion time series, as Hindsight's viewer draws them. */
@MemoryApiController('banks')
export class BankGraphController {
  constructor(@Inject(BankGraphService) private readonly graphs: BankGraphService) {}

  @Get('banks/:bank_id/graph')
  @ApiOperation({ operationId: 'get_graph', summary: 'The newest memories (at most limit), linked where they name the same entity' })
  @ApiOkResponse({ type: GraphDataResponseDto })
  async graph(@Param('bank_id') bankId: string, @Query() query: GraphQuery): Promise<GraphDataResponseDto> {
    const limit = query.limit ?? DEFAULT_GRAPH_LIMIT;
    const graph = await this.graphs.memoryGraph({
      bankId,
      factType: query.type,
      q: query.q || undefined,
      tags: [...new Set(query.tags ?? [])],
      tagsMatch: query.tags_match ?? 'all_strict',
      documentId: query.document_id,
      chunkId: query.chunk_id,
      limit,
    });
    return toGraphWire(graph, limit);
  }

  @Get('banks/:bank_id/stats/memories-timeseries')
  @ApiOperation({ operationId: 'get_memories_timeseries' })
  @ApiOkResponse({ type: MemoriesTimeseriesResponseDto })
  async timeseries(@Param('bank_id') bankId: string, @Query() query: MemoriesTimeseriesQuery): Promise<MemoriesTimeseriesResponseDto> {
    // As Hindsight documents it: an unknown time field counts by created_at, and the answer says so.
    const field = TIMESERIES_FIELDS.includes(query.time_field as TimeseriesField) ? (query.time_field as TimeseriesField) : 'created_at';
    return toTimeseriesWire(await this.graphs.memoriesTimeseries(bankId, query.period ?? '7d', field));
  }
}

/**
 * `canonical_name` carries the name as first written ("Alice"), as Hindsight shows it; the
 * lower-cased key stays internal, for matching. `metadata` is always an object, `{}` when the
 * entity has no type, as Hindsight sends it.
 */
function toEntityListWire(page: Page<EntityRecord>): EntityListResponseDto {
  return {
    items: page.items.map((entity) => ({
      id: entity.id,
      canonical_name: entity.name,
      mention_count: entity.mentionCount,
      first_seen: entity.firstSeen.toISOString(),
      last_seen: entity.lastSeen.toISOString(),
      metadata: entityMetadata(entity.type),
    })),
    total: page.total,
    limit: page.limit,
    offset: page.offset,
  };
}

function entityMetadata(type: string | null): Record<string, string> {
  return type ? { entity_type: type } : {};
}

function toEntityDetailWire(entity: EntityDetail): EntityDetailResponseDto {
  return {
    id: entity.id,
    canonical_name: entity.name,
    mention_count: entity.mentionCount,
    first_seen: entity.firstSeen.toISOString(),
    last_seen: entity.lastSeen.toISOString(),
    metadata: entityMetadata(entity.type),
    observations: entity.observations.map((observation) => ({ text: observation.text, mentioned_at: iso(observation.mentionedAt) })),
  };
}

function toEntityGraphWire(graph: EntityGraph, limit: number): EntityGraphResponseDto {
  return {
    nodes: graph.nodes.map((node) => ({
      data: { id: node.id, label: node.label, mentionCount: node.mentionCount, color: node.mentionCount > 1 ? '#42a5f5' : '#90caf9' },
    })),
    edges: graph.edges.map((edge) => ({
      data: {
        id: `${edge.source}-${edge.target}`,
        source: edge.source,
        target: edge.target,
        linkType: 'cooccurrence',
        weight: edge.count,
        color: '#ffd700',
        lineStyle: 'solid',
        lastCooccurred: iso(edge.lastCooccurred),
      },
    })),
    total_entities: graph.nodes.length,
    total_edges: graph.edges.length,
    limit,
  };
}

/** Colours and labels as Hindsight's viewer expects them. */
function toGraphWire(graph: MemoryGraph, limit: number): GraphDataResponseDto {
  return {
    nodes: graph.units.map((unit) => ({
      data: {
        id: unit.id,
        label: unit.text.length > 30 ? `${unit.text.slice(0, 30)}...` : unit.text,
        text: unit.text,
        date: iso(eventDate(unit)) ?? '',
        context: unit.context ?? '',
        entities: entityList(unit),
        color: unit.entities.length === 0 ? '#e0e0e0' : unit.entities.length === 1 ? '#90caf9' : '#42a5f5',
      },
    })),
    edges: graph.links.map((link) => ({
      data: {
        id: `${link.source}-${link.target}-${link.type}`,
        source: link.source,
        target: link.target,
        linkType: link.type,
        weight: 1,
        entityName: link.entityName ?? '',
        color: link.type === 'entity' ? '#ffd700' : '#ff69b4',
        lineStyle: 'solid',
      },
    })),
    table_rows: graph.units.map(toTableRow),
    total_units: graph.total,
    limit,
  };
}

function toTableRow(unit: GraphUnit): GraphTableRowDto {
  const date = eventDate(unit);
  return {
    id: unit.id,
    text: unit.text,
    context: unit.context || 'N/A',
    occurred_start: iso(unit.occurredStart),
    occurred_end: iso(unit.occurredEnd),
    mentioned_at: iso(unit.mentionedAt),
    date: date ? date.toISOString().slice(0, 16).replace('T', ' ') : 'N/A',
    entities: entityList(unit),
    document_id: unit.documentId,
    chunk_id: unit.chunkId,
    fact_type: unit.type,
    tags: unit.tags,
    created_at: unit.createdAt.toISOString(),
    proof_count: unit.proofCount,
  };
}

function toTimeseriesWire(series: MemoriesTimeseries): MemoriesTimeseriesResponseDto {
  return {
    bank_id: series.bankId,
    period: series.period,
    trunc: series.trunc,
    time_field: series.timeField,
    buckets: series.buckets.map((bucket) => ({
      // Python's isoformat of a UTC time, as Hindsight writes bucket keys.
      time: bucket.time.toISOString().replace(/\.\d{3}Z$/, '+00:00'),
      world: bucket.world,
      experience: bucket.experience,
      observation: bucket.observation,
    })),
  };
}

function eventDate(unit: GraphUnit): Date | null {
  return unit.occurredStart ?? unit.mentionedAt;
}

function entityList(unit: GraphUnit): string {
  return unit.entities.length ? unit.entities.join(', ') : 'None';
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

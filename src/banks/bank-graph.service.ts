import { Inject, Injectable } from '@nestjs/common';
import type { FactType } from '../recall/recall.types.js';
import { MemoryDatabase } from '../storage/memory-database.js';
import { BanksService } from './banks.service.js';
import { type GraphFilter, type GraphUnitRow, graphUnits, unitEntityNames } from './graph.queries.js';
import { type TimeseriesField, memoriesTimeseries } from './stats.queries.js';

/** The largest `limit` the graphs accept: more nodes or edges than a viewer can draw. */
export const MAX_GRAPH_LIMIT = 10_000;

/**
 * Each unit links to this many later units naming the same entity, so an entity named by every
 * memory adds some ten edges per memory instead of one per pair (Hindsight's cap too).
 */
const ENTITY_NEIGHBOURS_PER_UNIT = 10;

/** Hindsight's periods: how far back, in buckets of which length. */
export const TIMESERIES_PERIODS = {
  '1h': { trunc: 'minute', stepSeconds: 60, count: 60 },
  '12h': { trunc: 'hour', stepSeconds: 3600, count: 12 },
  '1d': { trunc: 'hour', stepSeconds: 3600, count: 24 },
  '7d': { trunc: 'day', stepSeconds: 86_400, count: 7 },
  '30d': { trunc: 'day', stepSeconds: 86_400, count: 30 },
  '90d': { trunc: 'day', stepSeconds: 86_400, count: 90 },
} as const;
export type TimeseriesPeriod = keyof typeof TIMESERIES_PERIODS;
export const TIMESERIES_FIELDS: readonly TimeseriesField[] = ['created_at', 'mentioned_at', 'occurred_start'];

export interface GraphUnit {
  id: string;
  text: string;
  context: string | null;
  type: FactType;
  documentId: string | null;
  chunkId: string | null;
  tags: string[];
  mentionedAt: Date | null;
  occurredStart: Date | null;
  occurredEnd: Date | null;
  createdAt: Date;
  proofCount: number | null;
  entities: string[];
}

export interface GraphLink {
  source: string;
  target: string;
  type: 'entity' | 'semantic';
  entityName: string | null;
}

export interface MemoryGraph {
  units: GraphUnit[];
  links: GraphLink[];
  total: number;
}

export interface MemoriesTimeseries {
  bankId: string;
  period: TimeseriesPeriod;
  trunc: string;
  timeField: TimeseriesField;
  buckets: Array<{ time: Date; world: number; experience: number; observation: number }>;
}

/** The bank's memories as a graph, and how many were stored over time: what a viewer draws. */
@Injectable()
export class BankGraphService {
  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(BanksService) private readonly banks: BanksService,
  ) {}

  /**
   * The newest `limit` memories matching the filter, joined where they name the same entity and,
   * for observations, where they were built from the same memory. This server keeps no other
   * links between memories, so those are the graph's only edges.
   */
  async memoryGraph(filter: GraphFilter): Promise<MemoryGraph> {
    await this.banks.assertExists(filter.bankId);
    const { rows, names, total } = await this.database.withConnection(async (sql) => {
      const page = await graphUnits(sql, filter);
      const linked = await unitEntityNames(
        sql,
        filter.bankId,
        page.rows.map((row) => row.id),
      );
      return { rows: page.rows, names: linked, total: page.total };
    });
    const entitiesByUnit = new Map<string, string[]>();
    for (const { unit_id, name } of names) pushTo(entitiesByUnit, unit_id, name);
    const units = rows.map((row) => toGraphUnit(row, entitiesByUnit.get(row.id) ?? []));
    return { units, links: graphLinks(rows, units), total };
  }

  async memoriesTimeseries(bankId: string, period: TimeseriesPeriod, timeField: TimeseriesField): Promise<MemoriesTimeseries> {
    await this.banks.assertExists(bankId);
    const { trunc, stepSeconds, count } = TIMESERIES_PERIODS[period];
    const stepMs = stepSeconds * 1000;
    // Every bucket of the period is listed, empty ones included, so a chart's line has no gaps.
    const last = Math.floor(Date.now() / stepMs) * stepMs;
    const first = last - (count - 1) * stepMs;
    const rows = await this.database.withConnection((sql) => memoriesTimeseries(sql, bankId, timeField, stepSeconds, new Date(first)));
    const buckets = Array.from({ length: count }, (_, index) => ({
      time: new Date(first + index * stepMs),
      world: 0,
      experience: 0,
      observation: 0,
    }));
    for (const row of rows) {
      const bucket = buckets[(Number(row.bucket) * 1000 - first) / stepMs];
      if (bucket && (row.fact_type === 'world' || row.fact_type === 'experience' || row.fact_type === 'observation')) {
        bucket[row.fact_type] += Number(row.n);
      }
    }
    return { bankId, period, trunc, timeField, buckets };
  }
}

function toGraphUnit(row: GraphUnitRow, entities: string[]): GraphUnit {
  return {
    id: row.id,
    text: row.text,
    context: row.context,
    type: row.fact_type,
    documentId: row.document_id,
    chunkId: row.chunk_id,
    tags: row.tags ?? [],
    mentionedAt: row.mentioned_at,
    occurredStart: row.occurred_start,
    occurredEnd: row.occurred_end,
    createdAt: row.created_at,
    proofCount: row.proof_count,
    entities,
  };
}

/** Entity links, then observations sharing a source; each pair and kind once, at most MAX_GRAPH_LIMIT. */
function graphLinks(rows: GraphUnitRow[], units: GraphUnit[]): GraphLink[] {
  const links: GraphLink[] = [];
  const seen = new Set<string>();
  const full = () => links.length >= MAX_GRAPH_LIMIT;
  const add = (a: string, b: string, type: GraphLink['type'], entityName: string | null) => {
    const key = `${a < b ? a : b}|${a < b ? b : a}|${type}|${entityName ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    links.push({ source: a, target: b, type, entityName });
  };
  const unitsByEntity = new Map<string, string[]>();
  for (const unit of units) for (const name of unit.entities) pushTo(unitsByEntity, name, unit.id);
  for (const [name, ids] of unitsByEntity) {
    for (let i = 0; i < ids.length && !full(); i++) {
      for (let j = i + 1; j < Math.min(i + 1 + ENTITY_NEIGHBOURS_PER_UNIT, ids.length) && !full(); j++) add(ids[i], ids[j], 'entity', name);
    }
  }
  const observationsBySource = new Map<string, string[]>();
  for (const row of rows) {
    if (row.fact_type !== 'observation') continue;
    for (const source of row.source_memory_ids ?? []) pushTo(observationsBySource, source, row.id);
  }
  for (const ids of observationsBySource.values()) {
    for (let i = 0; i < ids.length && !full(); i++)
      for (let j = i + 1; j < ids.length && !full(); j++) add(ids[i], ids[j], 'semantic', null);
  }
  return links;
}

function pushTo(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

import { Inject, Injectable } from '@nestjs/common';
import { BanksService } from '../banks/banks.service.js';
import { MemoryDatabase } from '../storage/memory-database.js';
import { entityCooccurrences, entityObservations, findEntity } from './entities.queries.js';

/** How many observations an entity's detail lists, newest first. */
export const OBSERVATIONS_PER_ENTITY = 50;

export interface EntityDetail {
  id: string;
  /** As first written ("Alice"). */
  name: string;
  type: string | null;
  mentionCount: number;
  firstSeen: Date;
  lastSeen: Date;
  observations: Array<{ text: string; mentionedAt: Date | null }>;
}

export interface EntityGraph {
  nodes: Array<{ id: string; label: string; mentionCount: number }>;
  edges: Array<{ source: string; target: string; count: number; lastCooccurred: Date | null }>;
}

/** Reads of one bank's entities: one in detail, and which ones its memories name together. */
@Injectable()
export class EntitiesService {
  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(BanksService) private readonly banks: BanksService,
  ) {}

  /** `undefined` when the bank has no such entity; the bank itself must exist. */
  async get(bankId: string, entityId: string): Promise<EntityDetail | undefined> {
    await this.banks.assertExists(bankId);
    return this.database.withConnection(async (sql) => {
      const row = await findEntity(sql, bankId, entityId);
      if (!row) return undefined;
      const observations = await entityObservations(sql, bankId, entityId, OBSERVATIONS_PER_ENTITY);
      return {
        id: row.id,
        name: row.name,
        type: row.entity_type,
        mentionCount: row.mention_count,
        firstSeen: row.first_seen,
        lastSeen: row.last_seen,
        observations: observations.map((observation) => ({ text: observation.text, mentionedAt: observation.mentioned_at })),
      };
    });
  }

  /** At most `limit` pairs named together at least `minCount` times, and the entities they join. */
  async cooccurrenceGraph(bankId: string, minCount: number, limit: number): Promise<EntityGraph> {
    await this.banks.assertExists(bankId);
    const rows = await this.database.withConnection((sql) => entityCooccurrences(sql, bankId, minCount, limit));
    const nodes = new Map<string, EntityGraph['nodes'][number]>();
    for (const row of rows) {
      if (!nodes.has(row.entity_id_1))
        nodes.set(row.entity_id_1, { id: row.entity_id_1, label: row.name_1, mentionCount: row.mention_count_1 });
      if (!nodes.has(row.entity_id_2))
        nodes.set(row.entity_id_2, { id: row.entity_id_2, label: row.name_2, mentionCount: row.mention_count_2 });
    }
    return {
      nodes: [...nodes.values()],
      edges: rows.map((row) => ({
        source: row.entity_id_1,
        target: row.entity_id_2,
        count: Number(row.cooccurrence_count),
        lastCooccurred: row.last_cooccurred,
      })),
    };
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { deleteUnlinkedEntities } from '../entities/entities.queries.js';
import { KnownEntityIds } from '../entities/known-entity-ids.js';
import { AiClients } from '../external/ai-clients.js';
import { ExternalServiceError, LlmOutputError } from '../external/external-errors.js';
import { MemoryErrorCode, MemoryException, fromExternalFailure } from '../memory.exception.js';
import { MemoryDatabase, type Sql } from '../storage/memory-database.js';
import { BANK_CONFIG_DEFAULTS, normaliseConfigUpdates } from './bank-config.js';
import {
  type BankRow,
  bankStatCounts,
  countBankContents,
  countMemoriesByType,
  countOperationsByStatus,
  deleteBank,
  ensureBank,
  findBank,
  listBanks,
  lockBank,
  mergeBankConfig,
  resetBankConfig,
  updateBankProfile,
} from './banks.queries.js';
import { deleteBankObservations, requeueBankMemories, requeueFailedConsolidation } from './bank-maintenance.queries.js';

export interface Disposition {
  skepticism: number;
  literalism: number;
  empathy: number;
}

export interface BankProfile {
  bankId: string;
  name: string;
  mission: string;
  disposition: Disposition;
}

export interface BankSummary extends BankProfile {
  createdAt: Date;
  updatedAt: Date;
  factCount: number;
  lastDocumentAt: Date | null;
  lastWriteAt: Date | null;
}

export interface BankUpdate {
  name?: string | null;
  disposition?: Partial<Disposition> | null;
  /** Hindsight-style config overrides (`reflect_mission`, `retain_mission`, …). */
  config?: Record<string, unknown>;
}

export interface BankConfig {
  bankId: string;
  config: Record<string, unknown>;
  overrides: Record<string, unknown>;
}

export interface BankStats {
  bankId: string;
  totalMemories: number;
  memoriesByType: Record<string, number>;
  totalDocuments: number;
  totalEntities: number;
  totalLinks: number;
  operationsByStatus: Record<string, number>;
  pendingConsolidation: number;
  failedConsolidation: number;
  lastMemoryWriteAt: Date | null;
  lastConsolidatedAt: Date | null;
}

export type LlmProbeStatus = 'connected' | 'not_configured' | 'auth_failed' | 'unreachable' | 'timeout';

/** One LLM probe's outcome: status only, never the provider, model, endpoint or raw error. */
export interface LlmProbe {
  ok: boolean;
  status: LlmProbeStatus;
  latencyMs: number | null;
}

/** The operations Hindsight configures an LLM for; here all three share the one configured LLM. */
export const LLM_OPERATIONS = ['retain', 'consolidation', 'reflect'] as const;

const probeSchema = z.object({ ok: z.boolean() });

/** Creates, reads, changes and deletes memory banks: the unit of isolation of memories. */
@Injectable()
export class BanksService {
  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(AiClients) private readonly ai: AiClients,
    @Inject(KnownEntityIds) private readonly knownEntities: KnownEntityIds,
  ) {}

  async list(): Promise<BankSummary[]> {
    const rows = await this.database.withConnection((sql) => listBanks(sql));
    return rows.map((row) => ({
      ...toProfile(row),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      factCount: Number(row.fact_count),
      lastDocumentAt: row.last_document_at,
      lastWriteAt: row.last_write_at,
    }));
  }

  async profile(bankId: string): Promise<BankProfile> {
    return toProfile(await this.find(bankId));
  }

  /** Creates the bank when missing; applies only the fields given. */
  async upsert(bankId: string, update: BankUpdate = {}): Promise<BankProfile> {
    return this.database.transaction(async (sql) => {
      await ensureBank(sql, bankId);
      return toProfile(await applyUpdate(sql, bankId, update));
    });
  }

  async update(bankId: string, update: BankUpdate): Promise<BankProfile> {
    return this.database.transaction(async (sql) => {
      await this.lock(sql, bankId);
      return toProfile(await applyUpdate(sql, bankId, update));
    });
  }

  /** Deletes the bank and everything in it; a missing bank deletes nothing and is no error. */
  async delete(bankId: string): Promise<number> {
    const deleted = await this.database.transaction(async (sql) => {
      const counts = await countBankContents(sql, bankId);
      await deleteBank(sql, bankId);
      return Number(counts.units) + Number(counts.entities) + Number(counts.documents);
    });
    this.knownEntities.forgetBank(bankId);
    return deleted;
  }

  async config(bankId: string): Promise<BankConfig> {
    return toConfig(await this.find(bankId));
  }

  async updateConfig(bankId: string, updates: Record<string, unknown>): Promise<BankConfig> {
    const normalised = normaliseConfigUpdates(updates);
    return this.database.transaction(async (sql) => {
      await this.lock(sql, bankId);
      return toConfig(await mergeBankConfig(sql, bankId, normalised));
    });
  }

  async resetConfig(bankId: string): Promise<BankConfig> {
    return this.database.transaction(async (sql) => {
      await this.lock(sql, bankId);
      return toConfig(await resetBankConfig(sql, bankId));
    });
  }

  async stats(bankId: string): Promise<BankStats> {
    return this.database.withConnection(async (sql) => {
      await this.find(bankId, sql);
      const byType = await countMemoriesByType(sql, bankId);
      const byStatus = await countOperationsByStatus(sql, bankId);
      const row = await bankStatCounts(sql, bankId);
      const memoriesByType = Object.fromEntries(byType.map((r) => [r.fact_type, Number(r.n)]));
      return {
        bankId,
        totalMemories: Object.values(memoriesByType).reduce((a, b) => a + b, 0),
        memoriesByType,
        totalDocuments: Number(row.documents),
        totalEntities: Number(row.entities),
        totalLinks: Number(row.links),
        operationsByStatus: Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)])),
        pendingConsolidation: Number(row.pending),
        failedConsolidation: Number(row.failed),
        lastMemoryWriteAt: row.last_write,
        lastConsolidatedAt: row.last_consolidated,
      };
    });
  }

  /**
   * Hindsight's deprecated background: the text is appended to the bank's mission (the field
   * background became), so what was there before is kept rather than replaced.
   */
  async addBackground(bankId: string, content: string): Promise<BankProfile> {
    const addition = content.trim();
    if (!addition) throw new MemoryException(MemoryErrorCode.InvalidInput, 'content cannot be empty', 'content');
    return this.database.transaction(async (sql) => {
      await this.lock(sql, bankId);
      const current = toProfile(await this.find(bankId, sql)).mission.trim();
      const mission = current ? `${current} ${addition}` : addition;
      return toProfile(await applyUpdate(sql, bankId, { config: { reflect_mission: mission } }));
    });
  }

  /**
   * Deletes every observation of the bank and puts its memories back in the consolidation queue,
   * so the next consolidation run rebuilds the observations from scratch. Returns how many
   * observations went.
   */
  async clearObservations(bankId: string): Promise<number> {
    return this.database.transaction(async (sql) => {
      await this.lock(sql, bankId);
      const deleted = await deleteBankObservations(sql, bankId);
      await requeueBankMemories(sql, bankId);
      await deleteUnlinkedEntities(sql, bankId);
      return deleted;
    });
  }

  /** Failed or stuck consolidation work goes back to pending for the next run; returns how many memories. */
  async recoverConsolidation(bankId: string): Promise<number> {
    return this.database.transaction(async (sql) => {
      await this.lock(sql, bankId);
      return requeueFailedConsolidation(sql, bankId);
    });
  }

  /**
   * One minimal call to the configured LLM, made with no connection held (the bank is checked
   * first, in its own short scope). Every operation uses the same LLM here, so it is probed once.
   */
  async probeLlm(bankId: string, signal?: AbortSignal): Promise<LlmProbe> {
    await this.assertExists(bankId);
    const llm = this.ai.llm;
    if (!llm) return { ok: false, status: 'not_configured', latencyMs: null };
    const started = performance.now();
    try {
      await llm.completeJson(
        {
          operation: 'health-probe',
          system: 'You are a connectivity check. Answer with the JSON object {"ok": true} and nothing else.',
          user: 'ping',
          schema: probeSchema,
          maxTokens: 16,
          context: { bankId },
        },
        signal,
      );
      return { ok: true, status: 'connected', latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      const latencyMs = Math.round(performance.now() - started);
      // An answer that did not fit the schema still proves the provider is reachable and accepts our key.
      if (error instanceof LlmOutputError) return { ok: true, status: 'connected', latencyMs };
      if (!(error instanceof ExternalServiceError) || error.code === 'aborted' || error.code === 'closed') throw fromExternalFailure(error);
      if (error.code === 'timeout') return { ok: false, status: 'timeout', latencyMs };
      if (error.code === 'http' && (error.status === 401 || error.status === 403)) return { ok: false, status: 'auth_failed', latencyMs };
      return { ok: false, status: 'unreachable', latencyMs };
    }
  }

  /** Throws `BankNotFound` for a bank that does not exist. */
  async assertExists(bankId: string): Promise<void> {
    await this.find(bankId);
  }

  private async find(bankId: string, sql?: Sql): Promise<BankRow> {
    const row = sql ? await findBank(sql, bankId) : await this.database.withConnection((scope) => findBank(scope, bankId));
    if (!row) throw bankNotFound(bankId);
    return row;
  }

  private async lock(sql: Sql, bankId: string): Promise<void> {
    if (!(await lockBank(sql, bankId))) throw bankNotFound(bankId);
  }
}

export function bankNotFound(bankId: string): MemoryException {
  return new MemoryException(MemoryErrorCode.BankNotFound, `Bank '${bankId}' not found`);
}

async function applyUpdate(sql: Sql, bankId: string, update: BankUpdate): Promise<BankRow> {
  const overrides: Record<string, unknown> = { ...(update.config ?? {}) };
  for (const [trait, value] of Object.entries(update.disposition ?? {})) {
    if (value !== undefined && value !== null) overrides[`disposition_${trait}`] = value;
  }
  return updateBankProfile(sql, bankId, update.name ?? null, normaliseConfigUpdates(overrides));
}

function resolvedConfig(row: BankRow): Record<string, unknown> {
  return { ...BANK_CONFIG_DEFAULTS, ...row.config };
}

function toProfile(row: BankRow): BankProfile {
  const config = resolvedConfig(row);
  return {
    bankId: row.id,
    name: row.name ?? row.id,
    mission: (config.reflect_mission as string | null) ?? row.mission ?? '',
    disposition: {
      skepticism: config.disposition_skepticism as number,
      literalism: config.disposition_literalism as number,
      empathy: config.disposition_empathy as number,
    },
  };
}

function toConfig(row: BankRow): BankConfig {
  return { bankId: row.id, config: resolvedConfig(row), overrides: row.config };
}

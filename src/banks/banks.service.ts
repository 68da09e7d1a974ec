import { Inject, Injectable } from '@nestjs/common';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';
import { MemoryDatabase, type Sql } from '../storage/memory-database.js';
import { BANK_CONFIG_DEFAULTS, normaliseConfigUpdates } from './bank-config.js';

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

interface BankRow {
  id: string;
  name: string | null;
  mission: string;
  config: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

/** Creates, reads, changes and deletes memory banks: the unit of isolation of memories. */
@Injectable()
export class BanksService {
  constructor(@Inject(MemoryDatabase) private readonly database: MemoryDatabase) {}

  async list(): Promise<BankSummary[]> {
    const rows = await this.database.query<BankRow & { fact_count: string; last_document_at: Date | null; last_write_at: Date | null }>(`
      SELECT b.*,
             (SELECT count(*) FROM memory_units m WHERE m.bank_id = b.id) AS fact_count,
             (SELECT max(d.updated_at) FROM documents d WHERE d.bank_id = b.id) AS last_document_at,
             (SELECT max(m.created_at) FROM memory_units m WHERE m.bank_id = b.id) AS last_write_at
        FROM banks b
       ORDER BY b.created_at, b.id`);
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
    return this.database.transaction(async (sql) => {
      const [counts] = await sql.query<{ units: string; entities: string; documents: string }>(
        `SELECT (SELECT count(*) FROM memory_units WHERE bank_id = $1) AS units,
                (SELECT count(*) FROM entities WHERE bank_id = $1) AS entities,
                (SELECT count(*) FROM documents WHERE bank_id = $1) AS documents`,
        [bankId],
      );
      await sql.query(`DELETE FROM banks WHERE id = $1`, [bankId]);
      return Number(counts.units) + Number(counts.entities) + Number(counts.documents);
    });
  }

  async config(bankId: string): Promise<BankConfig> {
    return toConfig(await this.find(bankId));
  }

  async updateConfig(bankId: string, updates: Record<string, unknown>): Promise<BankConfig> {
    const normalised = normaliseConfigUpdates(updates);
    return this.database.transaction(async (sql) => {
      await this.lock(sql, bankId);
      const [row] = await sql.query<BankRow>(
        `UPDATE banks SET config = config || $2::jsonb, updated_at = now() WHERE id = $1 RETURNING *`,
        [bankId, JSON.stringify(normalised)],
      );
      return toConfig(row);
    });
  }

  async resetConfig(bankId: string): Promise<BankConfig> {
    return this.database.transaction(async (sql) => {
      await this.lock(sql, bankId);
      const [row] = await sql.query<BankRow>(
        `UPDATE banks SET config = '{}'::jsonb, updated_at = now() WHERE id = $1 RETURNING *`,
        [bankId],
      );
      return toConfig(row);
    });
  }

  async stats(bankId: string): Promise<BankStats> {
    return this.database.withConnection(async (sql) => {
      await this.find(bankId, sql);
      const byType = await sql.query<{ fact_type: string; n: string }>(
        `SELECT fact_type, count(*) AS n FROM memory_units WHERE bank_id = $1 GROUP BY fact_type`,
        [bankId],
      );
      const byStatus = await sql.query<{ status: string; n: string }>(
        `SELECT status, count(*) AS n FROM operations WHERE bank_id = $1 GROUP BY status`,
        [bankId],
      );
      const [row] = await sql.query<{
        documents: string;
        entities: string;
        links: string;
        pending: string;
        failed: string;
        last_write: Date | null;
        last_consolidated: Date | null;
      }>(
        `SELECT (SELECT count(*) FROM documents WHERE bank_id = $1) AS documents,
                (SELECT count(*) FROM entities WHERE bank_id = $1) AS entities,
                (SELECT count(*) FROM unit_entities ue JOIN memory_units m ON m.id = ue.unit_id WHERE m.bank_id = $1) AS links,
                (SELECT count(*) FROM memory_units WHERE bank_id = $1 AND fact_type <> 'observation'
                   AND state = 'valid' AND consolidation_status IN ('pending', 'claimed')) AS pending,
                (SELECT count(*) FROM memory_units WHERE bank_id = $1 AND consolidation_status = 'failed') AS failed,
                (SELECT max(created_at) FROM memory_units WHERE bank_id = $1) AS last_write,
                (SELECT max(updated_at) FROM memory_units WHERE bank_id = $1 AND fact_type = 'observation') AS last_consolidated`,
        [bankId],
      );
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

  /** Throws `BankNotFound` for a bank that does not exist. */
  async assertExists(bankId: string): Promise<void> {
    await this.find(bankId);
  }

  private async find(bankId: string, sql?: Sql): Promise<BankRow> {
    const run = (scope: Sql) => scope.query<BankRow>(`SELECT * FROM banks WHERE id = $1`, [bankId]);
    const [row] = sql ? await run(sql) : await this.database.withConnection(run);
    if (!row) throw bankNotFound(bankId);
    return row;
  }

  private async lock(sql: Sql, bankId: string): Promise<void> {
    const [row] = await sql.query(`SELECT id FROM banks WHERE id = $1 FOR UPDATE`, [bankId]);
    if (!row) throw bankNotFound(bankId);
  }
}

export function bankNotFound(bankId: string): MemoryException {
  return new MemoryException(MemoryErrorCode.BankNotFound, `Bank '${bankId}' not found`);
}

/** Creates the bank if it is missing; retain into an unknown bank creates it. */
export async function ensureBank(sql: Sql, bankId: string): Promise<void> {
  await sql.query(`INSERT INTO banks (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`, [bankId]);
}

async function applyUpdate(sql: Sql, bankId: string, update: BankUpdate): Promise<BankRow> {
  const overrides: Record<string, unknown> = { ...(update.config ?? {}) };
  for (const [trait, value] of Object.entries(update.disposition ?? {})) {
    if (value !== undefined && value !== null) overrides[`disposition_${trait}`] = value;
  }
  const normalised = normaliseConfigUpdates(overrides);
  const [row] = await sql.query<BankRow>(
    `UPDATE banks
        SET name = COALESCE($2, name),
            config = config || $3::jsonb,
            updated_at = now()
      WHERE id = $1
      RETURNING *`,
    [bankId, update.name ?? null, JSON.stringify(normalised)],
  );
  return row;
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

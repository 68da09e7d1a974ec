import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, QueryRunner } from 'typeorm';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';

/** What the code inside a scope gets: SQL only, on the one connection the scope holds. */
export interface Sql {
  /** Rows of a statement. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Rows and the affected-row count, for writes whose effect must be checked. */
  execute<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: Row[]; affected: number }>;
  /**
   * Runs `callback` once what was written here is visible to others: after the commit of the
   * enclosing transaction (never on rollback), or when the scope ends outside one.
   */
  afterCommit(callback: () => void): void;
}

interface HeldConnection {
  queryRunner: QueryRunner;
  sql: Sql;
  committed: Array<() => void>;
}

const heldConnection = new AsyncLocalStorage<HeldConnection>();

/** True while the current async context holds a pooled connection (docs/ARCHITECTURE.md, "Invariant 1"). */
export function isConnectionHeld(): boolean {
  return heldConnection.getStore() !== undefined;
}

/**
 * Starts `work` outside any held connection: background work that a scope sets off (a bank index
 * round that recall asks for) must take a connection of its own, not run on the scope's, which
 * `withConnection` would otherwise hand it and which ends with the scope.
 */
export function detachedFromConnection(work: () => void): void {
  heldConnection.exit(work);
}

/**
 * Takes part in every transaction of the module, on its connection, just before it commits: the
 * audit log writes its entry there, so that an entry exists exactly when the write it describes
 * does (docs/ARCHITECTURE.md, "The audit log").
 */
export interface CommitParticipant {
  /**
   * True while the current async context wants even its single statements in a transaction (a
   * request being audited), so that no write of it can commit outside one.
   */
  wantsTransaction(): boolean;
  beforeCommit(sql: Sql): Promise<void>;
}

/** What the pool looks like now; the same names for node-postgres and the PGlite adapter. */
export interface PoolStats {
  total: number;
  idle: number;
  inUse: number;
  waiting: number;
}

interface PgPoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/**
 * The only way the module runs SQL. A scope checks out a QueryRunner, marks the async context
 * while it holds it, and always releases it; so a slow external call made from inside a scope
 * can be detected, and no code path can forget a release.
 *
 * A scope opened inside another one reuses the outer connection instead of taking a second:
 * on a pool of one (PGlite) a second acquisition would wait forever for the first.
 */
export class MemoryDatabase {
  private longestWaitMs = 0;
  private readonly participants: CommitParticipant[] = [];

  constructor(
    readonly dataSource: DataSource,
    /** Told how long each checkout waited for a free connection (pool metrics). */
    private readonly onAcquired: (waitMs: number) => void = () => undefined,
  ) {}

  /** The longest a checkout has waited since the last call; resets it. */
  takeLongestWaitMs(): number {
    const longest = this.longestWaitMs;
    this.longestWaitMs = 0;
    return longest;
  }

  poolStats(): PoolStats | null {
    const pool = (this.dataSource.driver as unknown as { master?: PgPoolLike }).master;
    if (!pool || typeof pool.totalCount !== 'number') return null;
    return {
      total: pool.totalCount,
      idle: pool.idleCount,
      inUse: pool.totalCount - pool.idleCount,
      waiting: pool.waitingCount,
    };
  }

  addCommitParticipant(participant: CommitParticipant): void {
    this.participants.push(participant);
  }

  async withConnection<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const held = heldConnection.getStore();
    if (held) return work(held.sql);
    if (this.participants.some((participant) => participant.wantsTransaction())) return this.transaction(work);
    return this.checkOut(work);
  }

  private async checkOut<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const queryRunner = this.dataSource.createQueryRunner();
    try {
      // TypeORM checks out lazily, on the first query; the scope takes the connection up front so
      // that "inside a scope" and "holding a connection" are the same thing.
      const waitStarted = performance.now();
      await queryRunner.connect();
      const waitMs = performance.now() - waitStarted;
      this.longestWaitMs = Math.max(this.longestWaitMs, waitMs);
      this.onAcquired(waitMs);
      const committed: Array<() => void> = [];
      const scope: HeldConnection = { queryRunner, sql: sqlOn(queryRunner, committed), committed };
      const result = await heldConnection.run(scope, () => work(scope.sql));
      // Outside a transaction every statement committed on its own; inside one, transaction()
      // ran or dropped the callbacks already.
      runCallbacks(committed.splice(0));
      return result;
    } finally {
      await queryRunner.release();
    }
  }

  /** One short transaction; commits when `work` resolves, rolls back when it throws. */
  async transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const inTransaction = async (sql: Sql): Promise<T> => {
      const { queryRunner, committed } = heldConnection.getStore()!;
      if (queryRunner.isTransactionActive) return work(sql);
      await queryRunner.startTransaction();
      try {
        const result = await work(sql);
        for (const participant of this.participants) await participant.beforeCommit(sql);
        await queryRunner.commitTransaction();
        runCallbacks(committed.splice(0));
        return result;
      } catch (error) {
        committed.length = 0;
        if (queryRunner.isTransactionActive) await queryRunner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
    };
    const held = heldConnection.getStore();
    return held ? inTransaction(held.sql) : this.checkOut(inTransaction);
  }

  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]> {
    return this.withConnection((scope) => scope.query<Row>(sql, params));
  }
}

function runCallbacks(callbacks: Array<() => void>): void {
  for (const callback of callbacks) {
    try {
      callback();
    } catch {
      // A notification that fails must not turn a committed write into a reported failure.
    }
  }
}

function sqlOn(queryRunner: QueryRunner, committed: Array<() => void>): Sql {
  return {
    afterCommit(callback: () => void) {
      committed.push(callback);
    },
    async query<Row>(sql: string, params?: unknown[]) {
      const result = await queryRunner.query(sql, params, true).catch(refuseUnstorableText);
      return (result.records ?? []) as Row[];
    },
    async execute<Row>(sql: string, params?: unknown[]) {
      const result = await queryRunner.query(sql, params, true).catch(refuseUnstorableText);
      return { rows: (result.records ?? []) as Row[], affected: result.affected ?? 0 };
    },
  };
}

/**
 * `invalid byte sequence` (a NUL in text) and `unsupported Unicode escape sequence` (a NUL in
 * jsonb): text the database cannot hold. A lone surrogate in jsonb is `invalid input syntax for
 * type json`, whose code is shared with every other malformed literal, so the detail decides.
 */
const UNSTORABLE_TEXT_SQLSTATES = new Set(['22021', '22P05']);

function isUnstorableText(error: unknown): boolean {
  const failure = error as { driverError?: { code?: string; detail?: string }; code?: string; detail?: string; message?: string } | null;
  const code = failure?.driverError?.code ?? failure?.code;
  if (code !== undefined && UNSTORABLE_TEXT_SQLSTATES.has(code)) return true;
  const detail = failure?.driverError?.detail ?? failure?.detail ?? '';
  return code === '22P02' && /type json/.test(failure?.message ?? '') && /surrogate|Unicode/i.test(detail);
}

/**
 * The HTTP edge refuses such text field by field; a host calling the services directly reaches
 * this backstop instead, and gets the domain's invalid-input error rather than a driver error.
 * Checking here, where it fails, costs nothing on the path where nothing does.
 */
function refuseUnstorableText(error: unknown): never {
  if (isUnstorableText(error)) {
    throw new MemoryException(
      MemoryErrorCode.InvalidInput,
      'a text value contains a NUL character (\\u0000) or an unpaired UTF-16 surrogate, which cannot be stored',
    );
  }
  throw error;
}

/** Serialisation failures and deadlocks: the database asking for the transaction to be retried. */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

export function isRetryableConflict(error: unknown): boolean {
  const code = (error as { driverError?: { code?: string } } | null)?.driverError?.code;
  return code !== undefined && RETRYABLE_SQLSTATES.has(code);
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { type DataSource, QueryFailedError, type QueryRunner, QueryRunnerAlreadyReleasedError } from 'typeorm';
import { Logger } from '@nestjs/common';
import { errorMessage } from '../lifecycle/shutdown-coordinator.js';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';
import { isPgliteDataSource } from './pglite/pglite-statistics.js';

/** What the code inside a scope gets: SQL only, on the one connection the scope holds. */
export interface Sql {
  /** Rows of a statement. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /**
   * Rows of a statement kept prepared on the connection: parsed once, and planned once as soon as
   * PostgreSQL finds its generic plan as cheap as a custom one (after five executions). For the
   * statements every recall runs whose best plan does not depend on the values bound: their
   * planning was a fifth of their time (docs/ARCHITECTURE.md, "Prepared statements"). Not for a
   * statement whose plan must see a value, such as a bank id that picks a partial index. The same
   * as `query` on PGlite and where the module is told not to prepare.
   */
  queryPrepared<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Rows and the affected-row count, for writes whose effect must be checked. */
  execute<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: Row[]; affected: number }>;
  /**
   * Runs `callback` once what was written here is visible to others: after the commit of the
   * enclosing transaction (never on rollback), or when the scope ends outside one.
   */
  afterCommit(callback: () => void): void;
}

/** What `MemoryDatabase` is told besides its data source; both optional. */
export interface MemoryDatabaseOptions {
  /** Told how long each checkout waited for a free connection (pool metrics). */
  onAcquired?: (waitMs: number) => void;
  /**
   * Whether `Sql.queryPrepared` prepares its statements on PostgreSQL. Default true; false behind a
   * pooler that hands one session's statements to several server connections (PgBouncer's
   * transaction mode before 1.21), where a statement prepared on one is missing on the next.
   */
  preparedStatements?: boolean;
}

/** The part of a node-postgres client `queryPrepared` uses: a query named for the server to keep. */
interface NamedQueryClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * How many distinct statements one database prepares, so that the server keeps at most that many
 * plans per connection whatever shapes of request arrive; past it, a statement runs unnamed.
 */
const PREPARED_STATEMENTS_LIMIT = 64;

/**
 * The server-side name of each statement text. Derived from the text, not numbered: two
 * `MemoryDatabase`s may share one data source (`DataSourceRegistry`), and so its connections, and
 * a name must never stand for two texts on one connection.
 */
class PreparedStatementNames {
  private readonly names = new Map<string, string>();

  nameOf(text: string): string | null {
    const known = this.names.get(text);
    if (known !== undefined) return known;
    if (this.names.size >= PREPARED_STATEMENTS_LIMIT) return null;
    const name = `nestjs_memory_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    this.names.set(text, name);
    return name;
  }
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

/** How long no second connection is asked for after the server refused to open one. */
const SPARE_REFUSED_PAUSE_MS = 60_000;

interface PgPoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  /** pg-pool's; the PGlite adapter's one session has none, and is never spared. */
  options?: { max?: number };
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
  private readonly logger = new Logger(MemoryDatabase.name);
  private longestWaitMs = 0;
  /** Until when no second connection is asked for, after the server refused one. */
  private spareRefusedUntil = 0;
  private readonly participants: CommitParticipant[] = [];
  private readonly onAcquired: (waitMs: number) => void;
  /** `null` where statements run unnamed: PGlite (one session, no planning to save), or told so. */
  private readonly statementNames: PreparedStatementNames | null;

  constructor(
    readonly dataSource: DataSource,
    options: MemoryDatabaseOptions = {},
  ) {
    this.onAcquired = options.onAcquired ?? (() => undefined);
    const prepares = options.preparedStatements !== false && !isPgliteDataSource(dataSource);
    this.statementNames = prepares ? new PreparedStatementNames() : null;
  }

  /** The longest a checkout has waited since the last call; resets it. */
  takeLongestWaitMs(): number {
    const longest = this.longestWaitMs;
    this.longestWaitMs = 0;
    return longest;
  }

  poolStats(): PoolStats | null {
    const pool = this.pool();
    if (!pool) return null;
    return {
      total: pool.totalCount,
      idle: pool.idleCount,
      inUse: pool.totalCount - pool.idleCount,
      waiting: pool.waitingCount,
    };
  }

  /**
   * `work` on `sql`, the scope's connection, and `beside` at the same time on a second one, when
   * the pool can spare it; otherwise `beside` after `work`, on `sql`
   * (docs/ARCHITECTURE.md, "A second connection for a lone recall"). For reads that need no common
   * snapshot: inside a transaction both run on its connection, one after the other.
   */
  async alongside<A, B>(sql: Sql, work: (sql: Sql) => Promise<A>, beside: (sql: Sql) => Promise<B>): Promise<[A, B]> {
    if (!heldConnection.getStore()) throw new Error('alongside() runs inside withConnection()');
    if (!this.canRunAlongside()) {
      const first = await work(sql);
      return [first, await beside(sql)];
    }
    // The second checkout is queued in this same synchronous run as the check above, so no other
    // caller can take the connection it counted on; and both are awaited before the scope ends, so
    // neither connection is released under a running statement.
    let besideStarted = false;
    const [second, first] = await Promise.allSettled([
      this.checkOut((spare) => {
        besideStarted = true;
        return beside(spare);
      }),
      work(sql),
    ]);
    if (first.status === 'rejected') throw first.reason;
    if (second.status === 'fulfilled') return [first.value, second.value];
    if (besideStarted) throw second.reason;
    // The pool had room but the server refused it a new connection (its `max_connections`, a
    // role's limit): the scope's own connection still serves, as it would have without a spare,
    // and no spare is asked for a while, so that a full server is not asked again on every recall.
    this.spareRefusedUntil = Date.now() + SPARE_REFUSED_PAUSE_MS;
    this.logger.warn(
      `A second connection could not be opened (${errorMessage(second.reason)}): both halves ran on one, ` +
        `and none is asked for the next ${SPARE_REFUSED_PAUSE_MS / 1000} s`,
    );
    return [first.value, await beside(sql)];
  }

  /**
   * Whether `alongside`, called now from this scope, would run its halves on two connections: for
   * work that only pays to split when they do (two statements where one would do otherwise).
   */
  canRunAlongside(): boolean {
    const held = heldConnection.getStore();
    return held !== undefined && !held.queryRunner.isTransactionActive && this.canSpareConnection();
  }

  /**
   * A caller that holds a connection may take a second only while the pool is mostly idle: nobody
   * is waiting, and with the second taken at least half of `max` is still free. So a lone request
   * uses what would sit idle, a busy pool (8 recalls on a pool of 10) runs every scope on one
   * connection as before, and no caller ever waits for a second connection while it holds its
   * first, which on a small pool is how two callers starve each other.
   */
  private canSpareConnection(): boolean {
    const pool = this.pool();
    const max = pool?.options?.max;
    if (!pool || isPgliteDataSource(this.dataSource) || typeof max !== 'number' || Date.now() < this.spareRefusedUntil) return false;
    const inUse = pool.totalCount - pool.idleCount;
    return pool.waitingCount === 0 && (inUse + 1) * 2 <= max;
  }

  private pool(): PgPoolLike | null {
    const pool = (this.dataSource.driver as unknown as { master?: PgPoolLike }).master;
    return pool && typeof pool.totalCount === 'number' ? pool : null;
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
      const client = (await queryRunner.connect()) as NamedQueryClient;
      const waitMs = performance.now() - waitStarted;
      this.longestWaitMs = Math.max(this.longestWaitMs, waitMs);
      this.onAcquired(waitMs);
      const committed: Array<() => void> = [];
      const scope: HeldConnection = { queryRunner, sql: sqlOn(queryRunner, client, this.statementNames, committed), committed };
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

function sqlOn(
  queryRunner: QueryRunner,
  client: NamedQueryClient,
  statementNames: PreparedStatementNames | null,
  committed: Array<() => void>,
): Sql {
  const query = async <Row>(sql: string, params?: unknown[]) => {
    const result = await queryRunner.query(sql, params, true).catch(refuseUnstorableText);
    return (result.records ?? []) as Row[];
  };
  return {
    afterCommit(callback: () => void) {
      committed.push(callback);
    },
    query,
    async queryPrepared<Row>(sql: string, params: unknown[] = []) {
      const name = statementNames?.nameOf(sql);
      if (!name) return query<Row>(sql, params);
      // TypeORM's query runner has no named statements: the statement goes to its connection
      // directly, checked, logged and wrapped as TypeORM does its own, so that callers see one kind
      // of error, and a scope that has ended cannot reach a connection the pool gave to another.
      if (queryRunner.isReleased) throw new QueryRunnerAlreadyReleasedError();
      const logger = queryRunner.connection.logger;
      logger.logQuery(sql, params, queryRunner);
      try {
        const result = await client.query({ name, text: sql, values: params });
        return result.rows as Row[];
      } catch (error) {
        logger.logQueryError(error as Error, sql, params, queryRunner);
        return refuseUnstorableText(new QueryFailedError(sql, params, error as Error));
      }
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

import { EventEmitter } from 'node:events';
import type { PGlite, Results } from '@electric-sql/pglite';

/** The subset of a node-postgres result that TypeORM's Postgres driver reads. */
interface PgResult {
  command: string;
  rowCount: number;
  rows: unknown[];
  fields: Results['fields'];
}

type QueryCallback = (error: Error | null, result?: PgResult) => void;
type ConnectCallback = (error: Error | null, client?: PgliteClient, release?: (error?: unknown) => void) => void;

/**
 * A node-postgres look-alike over one PGlite, given to TypeORM's Postgres driver as `driver`.
 *
 * PGlite is a single session. `typeorm-pglite` hands that session to every QueryRunner at once,
 * so two transactions interleave and one's ROLLBACK discards the other's committed rows. Here the
 * session is a pool of exactly one connection: a checked-out client is exclusive and the next
 * `connect()` waits for its release, so transactions never interleave. A consequence the test
 * suite relies on: any nested acquisition deadlocks.
 *
 * Checkouts are granted first come, first served, and only from a turn of the event loop of their
 * own (see {@link PglitePool}).
 */
export function createPglitePgDriver(db: PGlite): { Pool: new (config?: unknown) => PglitePool } {
  return {
    Pool: class extends PglitePool {
      constructor() {
        super(db);
      }
    },
  };
}

/**
 * The one session as a pool of one, granted first come, first served.
 *
 * PGlite runs each statement synchronously on the main thread and resolves its results as
 * microtasks, so a scope's statements, and everything its caller does until the next real I/O,
 * run without the event loop turning. Handing the session straight to the next waiter from
 * `release()` (a microtask too) would chain every queued scope, and every re-acquisition by a
 * caller that just released it, into one uninterrupted run: no socket is read, no connection
 * accepted and no timer fired until the whole backlog is through, so a request that arrives
 * meanwhile waits for all of it, and for the re-acquisitions of requests that came after it
 * (issue 14: under mixed HTTP load, recall p99 at 8 to 13x its median and retains starved; the
 * `mixed-load` benchmark). So a checkout is always granted from a `setImmediate`: between two
 * holders the event loop turns once, reads what arrived, and those arrivals queue behind the
 * waiters already there, in order. The cost is one turn of the loop per checkout.
 */
export class PglitePool extends EventEmitter {
  private readonly client: PgliteClient;
  private readonly waiters: Waiter[] = [];
  private checkedOut = false;
  /** A grant is scheduled for the next turn of the event loop. */
  private granting = false;
  private ended = false;

  constructor(db: PGlite) {
    super();
    this.client = new PgliteClient(db);
  }

  /**
   * Same names as pg-pool, so pool metrics read both the same way. A session whose grant is
   * scheduled already belongs to the first waiter: it counts as in use, that waiter not as waiting.
   */
  get totalCount(): number {
    return 1;
  }
  get idleCount(): number {
    return this.checkedOut || this.granting ? 0 : 1;
  }
  get waitingCount(): number {
    return this.granting ? Math.max(0, this.waiters.length - 1) : this.waiters.length;
  }

  connect(): Promise<PgliteClient>;
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): Promise<PgliteClient> | void {
    const acquired = this.acquire();
    if (!callback) return acquired.then(() => this.client);
    acquired.then(
      () => {
        // One release per checkout: a second call must not free the session under its next holder.
        let released = false;
        callback(null, this.client, () => {
          if (released) return;
          released = true;
          this.release();
        });
      },
      (error: Error) => callback(error),
    );
  }

  end(callback?: (error?: Error) => void): Promise<void> | void {
    this.ended = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('PGlite pool has ended'));
    if (callback) callback();
    else return Promise.resolve();
  }

  private acquire(): Promise<void> {
    if (this.ended) return Promise.reject(new Error('PGlite pool has ended'));
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.grantSoon();
    });
  }

  private release(): void {
    this.checkedOut = false;
    this.grantSoon();
  }

  /** Gives the session to the longest waiter on the next turn of the event loop, if it is free then. */
  private grantSoon(): void {
    if (this.checkedOut || this.granting || this.waiters.length === 0) return;
    this.granting = true;
    setImmediate(() => {
      this.granting = false;
      if (this.checkedOut) return;
      const next = this.waiters.shift();
      if (!next) return;
      this.checkedOut = true;
      next.resolve();
    });
  }
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

export class PgliteClient extends EventEmitter {
  constructor(private readonly db: PGlite) {
    super();
  }

  query(text: string, params?: unknown[] | QueryCallback, callback?: QueryCallback): Promise<PgResult> | void {
    const values = typeof params === 'function' ? undefined : params;
    const done = typeof params === 'function' ? params : callback;
    const result = this.run(text, values);
    if (!done) return result;
    result.then(
      (value) => done(null, value),
      (error: Error) => done(error),
    );
  }

  private async run(text: string, values: unknown[] | undefined): Promise<PgResult> {
    if (values && values.length > 0) {
      return toPgResult(text, await this.db.query(text, values.map(toPgliteParam)));
    }
    // Without parameters node-postgres uses the simple protocol, which accepts several
    // statements in one string (migrations do); PGlite's `exec` is that protocol.
    const results = await this.db.exec(text);
    return toPgResult(text, results[results.length - 1] ?? { rows: [], fields: [] });
  }
}

/** node-postgres serialises objects and arrays of objects as JSON; PGlite must see the same text. */
function toPgliteParam(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Date || Buffer.isBuffer(value) || value === null) return value;
  if (Array.isArray(value)) return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return value;
}

function toPgResult(text: string, result: Results): PgResult {
  const command = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? '';
  const rows = result.rows ?? [];
  const rowCount = result.affectedRows || rows.length;
  return { command, rowCount, rows, fields: result.fields };
}

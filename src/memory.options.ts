import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { validateCronExpression } from 'cron';
import { z } from 'zod';
import { DEFAULT_AI_CLIENT_SETTINGS, type EmbedderSettings, type LlmSettings, type RerankerSettings } from './external/ai-clients.js';
import type { GuardMode } from './external/external-call-guard.js';
import { ShutdownCoordinator } from './lifecycle/shutdown-coordinator.js';
import { DEFAULT_DATA_SOURCE_SETTINGS } from './storage/data-source-registry.js';
import { ENTITY_NAME_MAX_LENGTH } from './entities/entity-names.js';
import { KNOWLEDGE_NAME_MAX_LENGTH, KNOWLEDGE_NODE_ID_MAX_LENGTH } from './knowledge-base/knowledge-base.types.js';
import { ATTRIBUTE_KEY_MAX_LENGTH } from './supersession/attribute-key.js';

/** What a host application passes to `MemoryModule.forRoot()`; every field has a default. */
export interface MemoryModuleOptions {
  /**
   * `postgres://…` for a server, `pglite://memory[/name]` for an in-memory database, or
   * `pglite:///abs/dir` / `pglite://./rel/dir` for an embedded on-disk one.
   * Default `pglite://./.data/memory`. Ignored when `dataSource` is given.
   */
  databaseUrl?: string;
  /** The host's own TypeORM DataSource: migrated at startup, never closed by this module. */
  dataSource?: DataSource;
  /** Connections of the module's own pool on a PostgreSQL server (PGlite is always 1). Default 10. */
  poolSize?: number;
  /**
   * How long a pooled connection may stay idle before the pool closes it; 0 keeps it until
   * shutdown. Default 300 000 (5 minutes). A new connection's first recall costs many times a
   * warm one's (PostgreSQL builds its catalog caches and maps its shared buffers again,
   * docs/ARCHITECTURE.md, "Warm connections"), and `pg`'s own default of 10 seconds made every
   * recall of an agent that pauses between questions pay it.
   */
  poolIdleTimeoutMs?: number;
  /**
   * The embedded PGlite's buffer pool, in PostgreSQL's size syntax (`'512MB'`). Default `512MB`
   * for a database on disk, where a page PGlite does not hold is a read system call, and `32MB`
   * for one in memory, whose files are already in this process's memory (a larger pool costs each
   * new instance CPU to start, which a host's tests pay per test file). Ignored for a
   * PostgreSQL server; an instance already open in this process keeps the pool it has.
   */
  pgliteSharedBuffers?: string;
  /**
   * Whether the statements every recall runs with the same text are prepared on each PostgreSQL
   * connection, so that the server plans them once rather than on every recall. Default true.
   * Turn it off behind a pooler that runs one client's statements on several server connections
   * (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`). Ignored
   * on PGlite.
   */
  preparedStatements?: boolean;
  /** Default 10 000. */
  connectTimeoutMs?: number;
  /** Attempts to reach the database before startup fails. Default 5. */
  connectAttempts?: number;
  /** First delay between attempts; it doubles each time. Default 250. */
  connectRetryDelayMs?: number;
  /** Upper bound of the whole teardown. Default 10 000. */
  shutdownTimeoutMs?: number;
  /** Names this process in leases and logs. Default `<hostname>-<pid>-<random>`. */
  instanceId?: string;
  /** Interval of the watchdog's database ping. Default 5 000. */
  watchdogIntervalMs?: number;
  /**
   * PGlite has no autovacuum, so the watchdog does its work itself, by its rules: it keeps the
   * planner's statistics fresh and vacuums (`vacuum`). Ignored on PostgreSQL, where autovacuum
   * does both.
   */
  pgliteAnalyze?: Partial<Omit<PgliteAnalyzeSettings, 'vacuum'>> & { vacuum?: Partial<PgliteVacuumSettings> | null };
  /**
   * Indexes of their own for the large banks of a database of many banks (PostgreSQL with
   * pgvector): an HNSW index, so that their recall does not walk every other bank's neighbours,
   * and a full-text index where the bank is at most half the database.
   */
  bankVectorIndexes?: Partial<BankVectorIndexSettings>;
  /**
   * Fresh planner statistics for a bank the last analysis did not see, on either back end, before
   * autovacuum's own rule (a tenth of the table changed) would give them.
   */
  bankStatistics?: Partial<BankStatisticsSettings>;
  /** Default: hashing embeddings of dimension 384, no network. */
  embedder?: Partial<EmbedderSettings>;
  /** Default `none`: deterministic extraction and consolidation without generated text. */
  llm?: Partial<LlmSettings>;
  /** Default `none`. */
  reranker?: Partial<RerankerSettings>;
  /**
   * What an external call made while holding a pooled connection does: `strict` (default)
   * throws `ConnectionHeldAcrossExternalCallError`, `warn` logs; both count it in a metric.
   */
  guardMode?: GuardMode;
  /** Limits of one retain request. */
  retain?: Partial<RetainLimits>;
  /** Sizes of what one HTTP request may carry; a request over one is answered 422 naming the field. */
  limits?: Partial<InputLimits>;
  /** Files uploaded to `POST …/files/retain`: their size, number, and the worker threads that convert them. */
  files?: Partial<FileRetainSettings>;
  /** The async operations worker (async retain and other queued work). */
  operations?: Partial<OperationsSettings>;
  /** Background consolidation of raw memories into observations. */
  consolidation?: Partial<ConsolidationSettings>;
  /** The webhook outbox dispatcher. */
  webhooks?: Partial<WebhookSettings>;
  /** The audit log of writes made through the HTTP API and MCP. */
  audit?: Partial<AuditSettings>;
  /** Traces of every LLM call (prompts, reply, tokens, latency, outcome) per bank; off by default. */
  llmTrace?: Partial<LlmTraceSettings>;
  /**
   * A coordinator created by the caller, so that it can run teardown even when Nest fails to
   * create the application and no provider can be reached (see `main.ts`).
   */
  shutdownCoordinator?: ShutdownCoordinator;
}

/**
 * When the watchdog runs `VACUUM` and `ANALYZE` on PGlite: every `intervalMs` it vacuums, one
 * table at a time, the tables due by the `vacuum` rules, then reads how many rows of each table
 * changed since that table's last analysis (`pg_stat_user_tables.n_mod_since_analyze`) and
 * analyses, one table at a time, those past `threshold` + `scaleFactor` × the table's rows:
 * autovacuum's rules, with its defaults.
 */
export interface PgliteAnalyzeSettings {
  /** How often the watchdog looks for tables due; `null` turns it off. Default 60 000 (autovacuum's naptime). */
  intervalMs: number | null;
  /** Changed rows that make any table due (`autovacuum_analyze_threshold`). Default 50. */
  threshold: number;
  /** Plus this fraction of the table's rows (`autovacuum_analyze_scale_factor`). Default 0.1. */
  scaleFactor: number;
  /** When the same round runs `VACUUM` on a table first; `null` turns that off. */
  vacuum: PgliteVacuumSettings | null;
}

/**
 * Autovacuum's two vacuum rules, with its defaults: a table is due when its dead rows pass
 * `threshold` + `scaleFactor` × its rows, or its rows inserted since its last vacuum pass
 * `insertThreshold` + `insertScaleFactor` × its rows. The insert rule matters most here: only a
 * vacuum marks pages all-visible, and until it has, every index-only scan (recall reads the
 * links of memories to entities that way) fetches each row from the table as well.
 */
export interface PgliteVacuumSettings {
  /** Dead rows that make any table due (`autovacuum_vacuum_threshold`). Default 50. */
  threshold: number;
  /** Plus this fraction of the table's rows (`autovacuum_vacuum_scale_factor`). Default 0.2. */
  scaleFactor: number;
  /** Rows inserted that make any table due (`autovacuum_vacuum_insert_threshold`). Default 1 000. */
  insertThreshold: number;
  /** Plus this fraction of the table's rows (`autovacuum_vacuum_insert_scale_factor`). Default 0.2. */
  insertScaleFactor: number;
}

export const DEFAULT_PGLITE_VACUUM: PgliteVacuumSettings = {
  threshold: 50,
  scaleFactor: 0.2,
  insertThreshold: 1000,
  insertScaleFactor: 0.2,
};

export const DEFAULT_PGLITE_ANALYZE: PgliteAnalyzeSettings = {
  intervalMs: 60_000,
  threshold: 50,
  scaleFactor: 0.1,
  vacuum: DEFAULT_PGLITE_VACUUM,
};

/**
 * Which banks get an HNSW index of their own (and, holding at most half the database's memories,
 * a full-text index of their own), built by one instance of the fleet with
 * `CREATE INDEX CONCURRENTLY` on one of its pooled connections
 * (docs/ARCHITECTURE.md, "Recall at scale"). Where these are built they are the only HNSW
 * indexes: a smaller bank is scanned exactly, so no shared index is kept for it. Where they are
 * not (turned off, PGlite without `onPglite`, a pool of one), one shared index serves every bank.
 */
export interface BankVectorIndexSettings {
  /**
   * Memories from which a bank gets its own index (every memory counts, as in recall's size
   * checks); `null` turns the indexes off. Its index is dropped when the bank is deleted or holds
   * fewer than half this. Default 10 000, where recall stops scanning a bank exactly.
   */
  minMemories: number | null;
  /** How often an instance checks (one at a time across the fleet). Default 300 000. */
  intervalMs: number;
  /**
   * Also on PGlite. Off by default: PGlite builds on the thread that serves every request, so a
   * bank's build stops the process until it is done.
   */
  onPglite: boolean;
  /**
   * The most server memory, in MB, one build may use (`maintenance_work_mem`, for that build's
   * session only): a bank's HNSW graph is built in memory while it fits, 2.5 times as fast as
   * past that (measured at 100,000 memories), and PostgreSQL's default, 64 MB, holds about 28,000
   * memories of dimension 384. Each build asks for what its bank's graph needs, up to this, and
   * never less than the server's own setting. `null` leaves the server's setting. Default 1024.
   * Not used on PGlite, whose memory is the process's own.
   */
  buildMemoryMb: number | null;
}

export const DEFAULT_BANK_VECTOR_INDEXES: BankVectorIndexSettings = {
  minMemories: 10_000,
  intervalMs: 300_000,
  onPglite: false,
  buildMemoryMb: 1024,
};

/**
 * When an instance analyses the tables recall reads by bank because a large bank is one the
 * planner's statistics have not seen (docs/ARCHITECTURE.md, "Statistics of a new bank"): every
 * `intervalMs`, one instance of the fleet at a time asks the planner how many memories it expects
 * of each bank of `minMemories` or more that could be mostly new since the last analysis, and
 * where it expects less than a tenth of what the bank holds, runs `ANALYZE` and logs why.
 */
export interface BankStatisticsSettings {
  /** How often; `null` turns the check off. Default 60 000 (autovacuum's naptime). */
  intervalMs: number | null;
  /**
   * The smallest bank worth an analysis: below it a plan made for one row costs little. Default
   * 1 000.
   */
  minMemories: number;
}

export const DEFAULT_BANK_STATISTICS: BankStatisticsSettings = {
  intervalMs: 60_000,
  minMemories: 1_000,
};

export interface RetainLimits {
  maxItems: number;
  maxContentChars: number;
}

/**
 * Bounds on request input that PostgreSQL, the embedder and the indexes would otherwise take in
 * whatever size a caller sends. Lengths count UTF-16 code units, as `String.length` does.
 */
export interface InputLimits {
  /** Nesting of objects and arrays in a JSON body; deeper bodies are refused before they are parsed. */
  maxJsonDepth: number;
  /**
   * Length of a bank id (the `bank_id` path parameter). It leads every btree key, so it is bounded
   * with the longest text beside it (`ID_KEY_MAX_UNITS`, `LONGEST_NAME_KEY_UNITS`): at most 302.
   */
  maxBankIdLength: number;
  /**
   * Length of a document id, in a retained item, the path or a filter. With the bank id it is a
   * key of btree indexes (`ID_KEY_MAX_UNITS`), so the two together are bounded.
   */
  maxDocumentIdLength: number;
  /** Tags in one list: an item's `tags`, `document_tags`, a recall's or reflect's filter. */
  maxTags: number;
  /** Length of one tag. */
  maxTagLength: number;
  /** Length of a recall or reflect query (and reflect's `context`, appended to it), or a mental model's `source_query`. */
  maxQueryChars: number;
  /** Keys in one item's `metadata`. */
  maxMetadataKeys: number;
  /** Characters of one item's `metadata`, keys and values together. */
  maxMetadataChars: number;
}

/**
 * The most UTF-16 code units a bank id and a document id may have together. They are a key of
 * btree indexes (the documents' primary key, the chunks' and the memories' by document), and a
 * btree entry holds at most 2,704 bytes. A code unit is at most 3 bytes of UTF-8 (a character from
 * U+0800 on; one beyond U+FFFF is 4 bytes for 2 units), so 866 units are at most 2,598 bytes, with
 * room left for the entry's header and the chunk's index. Longer ids of CJK text failed as a 500
 * from the database where the limits let them through.
 */
export const ID_KEY_MAX_UNITS = 866;

/**
 * The longest text other than a document id that btree keys hold beside the bank id, in code
 * units: a knowledge page's name under its parent's id (`knowledge_nodes_page_name`). Entity names
 * (`ENTITY_NAME_MAX_LENGTH`) and attribute keys (`ATTRIBUTE_KEY_MAX_LENGTH`) are shorter. It bounds
 * the bank id as the document id's limit does.
 */
export const LONGEST_NAME_KEY_UNITS = Math.max(
  KNOWLEDGE_NODE_ID_MAX_LENGTH + KNOWLEDGE_NAME_MAX_LENGTH,
  ENTITY_NAME_MAX_LENGTH,
  ATTRIBUTE_KEY_MAX_LENGTH,
);

export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxJsonDepth: 32,
  maxBankIdLength: 256,
  maxDocumentIdLength: 600,
  maxTags: 100,
  maxTagLength: 256,
  maxQueryChars: 10_000,
  maxMetadataKeys: 100,
  maxMetadataChars: 65_536,
};

export interface FileRetainSettings {
  /** Largest file accepted, in bytes; a bigger one is answered 413 naming it. Default 10 MiB. */
  maxFileBytes: number;
  /** Files in one request; more is answered 400. Default 10, as Hindsight's. */
  maxFiles: number;
  /** Uploads converted at once, each in a worker thread of its own that ends with it; the others wait their turn. Default 2. */
  parseConcurrency: number;
  /** Time one file may take to convert before it is refused (422) and its worker ended. Default 30 000. */
  parseTimeoutMs: number;
}

export const DEFAULT_FILE_RETAIN: FileRetainSettings = {
  maxFileBytes: 10 * 1024 * 1024,
  maxFiles: 10,
  parseConcurrency: 2,
  parseTimeoutMs: 30_000,
};

export interface OperationsSettings {
  /** Operations this instance processes at once. */
  concurrency: number;
  /** How often an idle worker looks for work queued by another instance. */
  pollIntervalMs: number;
  /** How long a claimed operation stays ours without a heartbeat; another instance may take it after. */
  leaseMs: number;
  /** Attempts before an operation is marked failed for good. */
  maxAttempts: number;
}

export interface ConsolidationSettings {
  /** Cron expression of the background tick; `null` turns the schedule off (on demand only). */
  cron: string | null;
  /** Memories one batch claims. */
  batchSize: number;
  /**
   * LLM calls this instance has in flight for consolidation at once; with an LLM, up to twice as
   * many batches are claimed so that a freed slot is taken at once. Without one, batches at once.
   */
  concurrency: number;
  /** How long a claimed memory stays ours without a heartbeat. */
  leaseMs: number;
  /** Failed attempts before a memory is marked failed for good. */
  maxAttempts: number;
  /** Cosine similarity from which two memories (or a memory and an observation) belong together. */
  similarityThreshold: number;
}

export interface WebhookSettings {
  /**
   * Lets webhook URLs resolve to loopback, private, link-local or unique-local addresses.
   * Off by default: a webhook URL is chosen by an API caller, and must not reach inside the network.
   */
  allowPrivate: boolean;
  /** Send timeout of a webhook whose `http_config` names none. */
  timeoutMs: number;
  /** Attempts before a delivery is marked failed for good. */
  maxAttempts: number;
  /** Base of the exponential backoff (full jitter) between attempts. */
  backoffMs: number;
  /** How often an idle dispatcher looks for due deliveries. */
  pollIntervalMs: number;
  /** Shortest lease on a claimed delivery; stretched to cover the webhook's timeout. */
  leaseMs: number;
  /** Deliveries this instance sends at once. */
  concurrency: number;
}

/**
 * Every write through the API leaves an entry (who, what, when, request id), written in the
 * write's own transaction. What is written stays out of it unless `includeContent` says otherwise.
 */
export interface AuditSettings {
  /** Default true. */
  enabled: boolean;
  /** Days an entry is kept; `null` keeps entries for ever. Default 90. */
  retentionDays: number | null;
  /**
   * Also keep request bodies, memory text included (secrets are still redacted). Off by default:
   * the log says what happened to which ids, and leaves the content where deletes can reach it.
   */
  includeContent: boolean;
}

/**
 * What `GET …/llm-requests` can show. Off by default: a trace keeps prompts and replies, so the
 * memories they quote, for `retentionDays` after the bank's own deletes have removed them.
 */
export interface LlmTraceSettings {
  /** Default false. */
  enabled: boolean;
  /** Characters kept of each prompt message and of the reply; longer text is cut with a marker. Default 20 000. */
  maxChars: number;
  /** Days a trace is kept. Default 7. */
  retentionDays: number;
}

export const DEFAULT_LLM_TRACE: LlmTraceSettings = { enabled: false, maxChars: 20_000, retentionDays: 7 };

export const DEFAULT_AUDIT: AuditSettings = { enabled: true, retentionDays: 90, includeContent: false };

const DEFAULT_WEBHOOKS: WebhookSettings = {
  allowPrivate: false,
  timeoutMs: 10_000,
  maxAttempts: 5,
  backoffMs: 1000,
  pollIntervalMs: 1000,
  leaseMs: 30_000,
  concurrency: 4,
};

const DEFAULT_CONSOLIDATION: ConsolidationSettings = {
  cron: '*/30 * * * * *',
  batchSize: 20,
  concurrency: 2,
  leaseMs: 60_000,
  maxAttempts: 3,
  similarityThreshold: 0.55,
};

/** Written here once; the standalone server's environment falls back to the same values. */
export const DEFAULT_DATABASE_URL = 'pglite://./.data/memory';
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

const positiveInt = z.number().int().positive();
/** PostgreSQL's size syntax, checked here: PGlite refusing it at start would say much less. */
export const pgliteSharedBuffersSchema = z.string().regex(/^[1-9]\d*(kB|MB|GB)$/, "must be a size in kB, MB or GB, such as '512MB'");
const optionalUrl = z.string().url().optional();

const embedderSchema = z
  .object({
    provider: z.enum(['hashing', 'openai']).default(DEFAULT_AI_CLIENT_SETTINGS.embedder.provider),
    dimension: positiveInt.max(16_000).default(DEFAULT_AI_CLIENT_SETTINGS.embedder.dimension),
    model: z.string().min(1).default(DEFAULT_AI_CLIENT_SETTINGS.embedder.model),
    baseUrl: optionalUrl,
    apiKey: z.string().optional(),
    timeoutMs: positiveInt.default(DEFAULT_AI_CLIENT_SETTINGS.embedder.timeoutMs),
    maxRetries: z.number().int().min(0).max(10).default(DEFAULT_AI_CLIENT_SETTINGS.embedder.maxRetries),
    batchSize: positiveInt.max(2048).default(DEFAULT_AI_CLIENT_SETTINGS.embedder.batchSize),
  })
  .strict();

const llmSchema = z
  .object({
    provider: z.enum(['none', 'openai']).default(DEFAULT_AI_CLIENT_SETTINGS.llm.provider),
    model: z.string().min(1).default(DEFAULT_AI_CLIENT_SETTINGS.llm.model),
    baseUrl: optionalUrl,
    apiKey: z.string().optional(),
    timeoutMs: positiveInt.default(DEFAULT_AI_CLIENT_SETTINGS.llm.timeoutMs),
    maxRetries: z.number().int().min(0).max(10).default(DEFAULT_AI_CLIENT_SETTINGS.llm.maxRetries),
  })
  .strict();

const rerankerSchema = z
  .object({
    provider: z.enum(['none', 'http']).default(DEFAULT_AI_CLIENT_SETTINGS.reranker.provider),
    model: z.string().min(1).default(DEFAULT_AI_CLIENT_SETTINGS.reranker.model),
    baseUrl: optionalUrl,
    apiKey: z.string().optional(),
    timeoutMs: positiveInt.default(DEFAULT_AI_CLIENT_SETTINGS.reranker.timeoutMs),
  })
  .strict()
  .refine((reranker) => reranker.provider === 'none' || !!reranker.baseUrl, {
    message: "needs a baseUrl when provider is 'http'",
    path: ['baseUrl'],
  });

const optionsSchema = z
  .object({
    databaseUrl: z
      .string()
      .regex(/^(postgres|postgresql|pg|pglite|pglite\+file):/i, 'must start with postgres:// or pglite://')
      .default(DEFAULT_DATABASE_URL),
    dataSource: z.instanceof(DataSource).optional(),
    poolSize: positiveInt.max(1000).default(DEFAULT_DATA_SOURCE_SETTINGS.poolSize),
    poolIdleTimeoutMs: z.number().int().nonnegative().default(DEFAULT_DATA_SOURCE_SETTINGS.poolIdleTimeoutMs),
    pgliteSharedBuffers: pgliteSharedBuffersSchema.optional(),
    preparedStatements: z.boolean().default(true),
    connectTimeoutMs: positiveInt.default(DEFAULT_DATA_SOURCE_SETTINGS.connectTimeoutMs),
    connectAttempts: positiveInt.max(100).default(DEFAULT_DATA_SOURCE_SETTINGS.connectAttempts),
    connectRetryDelayMs: z.number().int().nonnegative().default(DEFAULT_DATA_SOURCE_SETTINGS.connectRetryDelayMs),
    shutdownTimeoutMs: positiveInt.default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
    instanceId: z
      .string()
      .min(1)
      .default(() => `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`),
    watchdogIntervalMs: positiveInt.default(5_000),
    pgliteAnalyze: z
      .object({
        intervalMs: positiveInt.nullable().default(DEFAULT_PGLITE_ANALYZE.intervalMs),
        threshold: z.number().int().nonnegative().default(DEFAULT_PGLITE_ANALYZE.threshold),
        scaleFactor: z.number().nonnegative().max(100).default(DEFAULT_PGLITE_ANALYZE.scaleFactor),
        vacuum: z
          .object({
            threshold: z.number().int().nonnegative().default(DEFAULT_PGLITE_VACUUM.threshold),
            scaleFactor: z.number().nonnegative().max(100).default(DEFAULT_PGLITE_VACUUM.scaleFactor),
            insertThreshold: z.number().int().nonnegative().default(DEFAULT_PGLITE_VACUUM.insertThreshold),
            insertScaleFactor: z.number().nonnegative().max(100).default(DEFAULT_PGLITE_VACUUM.insertScaleFactor),
          })
          .strict()
          .nullable()
          .default(DEFAULT_PGLITE_VACUUM),
      })
      .strict()
      .default(DEFAULT_PGLITE_ANALYZE),
    bankVectorIndexes: z
      .object({
        minMemories: positiveInt.nullable().default(DEFAULT_BANK_VECTOR_INDEXES.minMemories),
        intervalMs: positiveInt.default(DEFAULT_BANK_VECTOR_INDEXES.intervalMs),
        onPglite: z.boolean().default(DEFAULT_BANK_VECTOR_INDEXES.onPglite),
        buildMemoryMb: positiveInt.nullable().default(DEFAULT_BANK_VECTOR_INDEXES.buildMemoryMb),
      })
      .strict()
      .default(DEFAULT_BANK_VECTOR_INDEXES),
    bankStatistics: z
      .object({
        intervalMs: positiveInt.nullable().default(DEFAULT_BANK_STATISTICS.intervalMs),
        minMemories: positiveInt.default(DEFAULT_BANK_STATISTICS.minMemories),
      })
      .strict()
      .default(DEFAULT_BANK_STATISTICS),
    embedder: embedderSchema.default(() => embedderSchema.parse({})),
    llm: llmSchema.default(() => llmSchema.parse({})),
    reranker: rerankerSchema.default(() => rerankerSchema.parse({})),
    guardMode: z.enum(['strict', 'warn']).default('strict'),
    retain: z
      .object({ maxItems: positiveInt.default(1000), maxContentChars: positiveInt.default(200_000) })
      .strict()
      .default({ maxItems: 1000, maxContentChars: 200_000 }),
    limits: z
      .object({
        maxJsonDepth: positiveInt.max(256).default(DEFAULT_INPUT_LIMITS.maxJsonDepth),
        maxBankIdLength: positiveInt.default(DEFAULT_INPUT_LIMITS.maxBankIdLength),
        maxDocumentIdLength: positiveInt.default(DEFAULT_INPUT_LIMITS.maxDocumentIdLength),
        maxTags: positiveInt.default(DEFAULT_INPUT_LIMITS.maxTags),
        maxTagLength: positiveInt.default(DEFAULT_INPUT_LIMITS.maxTagLength),
        maxQueryChars: positiveInt.default(DEFAULT_INPUT_LIMITS.maxQueryChars),
        maxMetadataKeys: positiveInt.default(DEFAULT_INPUT_LIMITS.maxMetadataKeys),
        maxMetadataChars: positiveInt.default(DEFAULT_INPUT_LIMITS.maxMetadataChars),
      })
      .strict()
      .refine((limits) => limits.maxBankIdLength + limits.maxDocumentIdLength <= ID_KEY_MAX_UNITS, {
        message:
          `maxBankIdLength and maxDocumentIdLength may add up to at most ${ID_KEY_MAX_UNITS}: together they are a key of ` +
          'btree indexes, whose entries hold at most 2,704 bytes (3 bytes of UTF-8 a code unit at most)',
        path: ['maxDocumentIdLength'],
      })
      .refine((limits) => limits.maxBankIdLength + LONGEST_NAME_KEY_UNITS <= ID_KEY_MAX_UNITS, {
        message:
          `maxBankIdLength may be at most ${ID_KEY_MAX_UNITS - LONGEST_NAME_KEY_UNITS}: with a knowledge page's parent id and ` +
          `name (${LONGEST_NAME_KEY_UNITS} code units) it is a key of a btree index, whose entries hold at most 2,704 bytes`,
        path: ['maxBankIdLength'],
      })
      .default(DEFAULT_INPUT_LIMITS),
    files: z
      .object({
        maxFileBytes: positiveInt.default(DEFAULT_FILE_RETAIN.maxFileBytes),
        maxFiles: positiveInt.max(1000).default(DEFAULT_FILE_RETAIN.maxFiles),
        parseConcurrency: positiveInt.max(64).default(DEFAULT_FILE_RETAIN.parseConcurrency),
        parseTimeoutMs: positiveInt.default(DEFAULT_FILE_RETAIN.parseTimeoutMs),
      })
      .strict()
      .default(DEFAULT_FILE_RETAIN),
    operations: z
      .object({
        concurrency: positiveInt.max(64).default(2),
        pollIntervalMs: positiveInt.default(1000),
        leaseMs: positiveInt.default(30_000),
        maxAttempts: positiveInt.max(100).default(3),
      })
      .strict()
      .default({ concurrency: 2, pollIntervalMs: 1000, leaseMs: 30_000, maxAttempts: 3 }),
    consolidation: z
      .object({
        cron: z
          .string()
          .min(1)
          .refine((cron) => validateCronExpression(cron).valid, 'is not a valid cron expression')
          .nullable()
          .default(DEFAULT_CONSOLIDATION.cron),
        batchSize: positiveInt.max(1000).default(DEFAULT_CONSOLIDATION.batchSize),
        concurrency: positiveInt.max(64).default(DEFAULT_CONSOLIDATION.concurrency),
        leaseMs: positiveInt.default(DEFAULT_CONSOLIDATION.leaseMs),
        maxAttempts: positiveInt.max(100).default(DEFAULT_CONSOLIDATION.maxAttempts),
        similarityThreshold: z.number().min(0).max(1).default(DEFAULT_CONSOLIDATION.similarityThreshold),
      })
      .strict()
      .default(DEFAULT_CONSOLIDATION),
    webhooks: z
      .object({
        allowPrivate: z.boolean().default(DEFAULT_WEBHOOKS.allowPrivate),
        timeoutMs: positiveInt.default(DEFAULT_WEBHOOKS.timeoutMs),
        maxAttempts: positiveInt.max(100).default(DEFAULT_WEBHOOKS.maxAttempts),
        backoffMs: positiveInt.default(DEFAULT_WEBHOOKS.backoffMs),
        pollIntervalMs: positiveInt.default(DEFAULT_WEBHOOKS.pollIntervalMs),
        leaseMs: positiveInt.default(DEFAULT_WEBHOOKS.leaseMs),
        concurrency: positiveInt.max(64).default(DEFAULT_WEBHOOKS.concurrency),
      })
      .strict()
      .default(DEFAULT_WEBHOOKS),
    audit: z
      .object({
        enabled: z.boolean().default(DEFAULT_AUDIT.enabled),
        retentionDays: positiveInt.max(36_500).nullable().default(DEFAULT_AUDIT.retentionDays),
        includeContent: z.boolean().default(DEFAULT_AUDIT.includeContent),
      })
      .strict()
      .default(DEFAULT_AUDIT),
    llmTrace: z
      .object({
        enabled: z.boolean().default(DEFAULT_LLM_TRACE.enabled),
        maxChars: positiveInt.max(10_000_000).default(DEFAULT_LLM_TRACE.maxChars),
        retentionDays: positiveInt.max(36_500).default(DEFAULT_LLM_TRACE.retentionDays),
      })
      .strict()
      .default(DEFAULT_LLM_TRACE),
    shutdownCoordinator: z.instanceof(ShutdownCoordinator).optional(),
  })
  .strict();

export type ResolvedMemoryOptions = z.output<typeof optionsSchema>;

export class InvalidMemoryOptionsError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid MemoryModule options: ${issues.join('; ')}`);
  }
}

/** Validates once at startup, naming each bad option, and fills in the defaults. */
export function resolveMemoryOptions(options: MemoryModuleOptions = {}): ResolvedMemoryOptions {
  const parsed = optionsSchema.safeParse(withoutUndefined(options));
  if (!parsed.success) {
    throw new InvalidMemoryOptionsError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(root)');
        return `option '${name}' ${issue.message}`;
      }),
    );
  }
  return parsed.data;
}

function withoutUndefined(options: object): object {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

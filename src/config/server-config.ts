import { z } from 'zod';
import { DEFAULT_MAX_BODY_BYTES } from '../http/memory-http.options.js';
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  type MemoryModuleOptions,
  pgliteSharedBuffersSchema,
} from '../memory.options.js';

/**
 * The standalone server's environment, read and validated in this one place; everything after
 * it receives typed options.
 */
const envSchema = z.object({
  DATABASE_URL: z.string().min(1).default(DEFAULT_DATABASE_URL),
  PORT: z.coerce.number().int().min(0).max(65535).default(8888),
  HOST: z.string().min(1).default('0.0.0.0'),
  MEMORY_API_KEY: z.string().min(1).optional(),
  MEMORY_DB_POOL_SIZE: z.coerce.number().int().positive().optional(),
  MEMORY_DB_POOL_IDLE_TIMEOUT_MS: z.coerce.number().int().nonnegative().optional(),
  MEMORY_PGLITE_SHARED_BUFFERS: pgliteSharedBuffersSchema.optional(),
  MEMORY_DB_PREPARED_STATEMENTS: z.enum(['true', 'false', '1', '0']).optional(),
  MEMORY_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
  MEMORY_DB_CONNECT_ATTEMPTS: z.coerce.number().int().positive().optional(),
  MEMORY_LOG_FORMAT: z.enum(['text', 'json']).default('text'),
  MEMORY_MAX_BODY_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
  MEMORY_EMBEDDER: z.enum(['hashing', 'openai']).default('hashing'),
  MEMORY_EMBEDDING_MODEL: z.string().min(1).optional(),
  MEMORY_EMBEDDING_DIM: z.coerce.number().int().positive().optional(),
  MEMORY_LLM: z.enum(['none', 'openai']).default('none'),
  MEMORY_LLM_MODEL: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  MEMORY_AI_TIMEOUT_MS: z.coerce.number().int().positive().optional(),
  MEMORY_AI_MAX_RETRIES: z.coerce.number().int().min(0).optional(),
  MEMORY_RERANKER: z.enum(['none', 'http']).default('none'),
  MEMORY_RERANKER_URL: z.string().url().optional(),
  MEMORY_RERANKER_API_KEY: z.string().min(1).optional(),
  MEMORY_RERANKER_MODEL: z.string().min(1).optional(),
  /** A cron expression, or `off` for on-demand consolidation only. */
  MEMORY_CONSOLIDATION_CRON: z.string().min(1).optional(),
  /** `true` lets webhook URLs point at loopback and private networks (development only). */
  MEMORY_WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false', '1', '0']).optional(),
  // Lease lengths and poll intervals: unset means the option's default, kept in memory.options.ts.
  MEMORY_OPERATIONS_LEASE_MS: z.coerce.number().int().positive().optional(),
  MEMORY_OPERATIONS_POLL_MS: z.coerce.number().int().positive().optional(),
  MEMORY_CONSOLIDATION_LEASE_MS: z.coerce.number().int().positive().optional(),
  MEMORY_WEBHOOK_LEASE_MS: z.coerce.number().int().positive().optional(),
  MEMORY_WEBHOOK_POLL_MS: z.coerce.number().int().positive().optional(),
  // Input limits: unset means the default of `limits` in memory.options.ts.
  MEMORY_MAX_JSON_DEPTH: z.coerce.number().int().positive().optional(),
  MEMORY_MAX_BANK_ID_LENGTH: z.coerce.number().int().positive().optional(),
  MEMORY_MAX_DOCUMENT_ID_LENGTH: z.coerce.number().int().positive().optional(),
  MEMORY_MAX_TAGS: z.coerce.number().int().positive().optional(),
  MEMORY_MAX_TAG_LENGTH: z.coerce.number().int().positive().optional(),
  MEMORY_MAX_QUERY_CHARS: z.coerce.number().int().positive().optional(),
  MEMORY_MAX_METADATA_KEYS: z.coerce.number().int().positive().optional(),
  MEMORY_MAX_METADATA_CHARS: z.coerce.number().int().positive().optional(),
  // File retain: unset means the default of `files` in memory.options.ts.
  MEMORY_MAX_FILE_BYTES: z.coerce.number().int().positive().optional(),
  MEMORY_MAX_FILES: z.coerce.number().int().positive().optional(),
  MEMORY_AUDIT_LOG_ENABLED: z.enum(['true', 'false', '1', '0']).optional(),
  /** Days an audit entry is kept, or `forever`. */
  MEMORY_AUDIT_LOG_RETENTION_DAYS: z.union([z.literal('forever'), z.coerce.number().int().positive()]).optional(),
  MEMORY_AUDIT_LOG_INCLUDE_CONTENT: z.enum(['true', 'false', '1', '0']).optional(),
  MEMORY_LLM_TRACE_ENABLED: z.enum(['true', 'false', '1', '0']).optional(),
  MEMORY_LLM_TRACE_MAX_CHARS: z.coerce.number().int().positive().optional(),
  MEMORY_LLM_TRACE_RETENTION_DAYS: z.coerce.number().int().positive().optional(),
  /** Memories from which a bank gets an HNSW index of its own (PostgreSQL with pgvector), or `off`. */
  MEMORY_BANK_INDEX_MIN_MEMORIES: z.union([z.literal('off'), z.coerce.number().int().positive()]).optional(),
  MEMORY_BANK_INDEX_INTERVAL_MS: z.coerce.number().int().positive().optional(),
  /** The most server memory (MB) one HNSW build may use (`maintenance_work_mem`), or `off` for the server's setting. */
  MEMORY_BANK_INDEX_BUILD_MEMORY_MB: z.union([z.literal('off'), z.coerce.number().int().positive()]).optional(),
  /** `off` for autovacuum's rule alone. */
  MEMORY_BANK_STATISTICS_INTERVAL_MS: z.union([z.literal('off'), z.coerce.number().int().positive()]).optional(),
  MEMORY_BANK_STATISTICS_MIN_MEMORIES: z.coerce.number().int().positive().optional(),
  /** `false` leaves `/mcp` out of the server. */
  MEMORY_MCP_ENABLED: z.enum(['true', 'false', '1', '0']).default('true'),
  /** The bank of a `/mcp` session whose client sends no `X-Bank-Id` (Hindsight's HINDSIGHT_MCP_BANK_ID). */
  MEMORY_MCP_BANK_ID: z.string().min(1).optional(),
  /** `false` leaves the memory console (`/ui`) out of the server. */
  MEMORY_CONSOLE_ENABLED: z.enum(['true', 'false', '1', '0']).default('true'),
});

export type ServerEnv = z.output<typeof envSchema>;

export interface ServerConfig {
  port: number;
  host: string;
  apiKey?: string;
  /** Largest JSON request body; a bigger one is answered 413. */
  maxBodyBytes: number;
  logFormat: 'text' | 'json';
  mcp: { enabled: boolean; defaultBankId?: string };
  console: { enabled: boolean };
  memory: MemoryModuleOptions & { shutdownTimeoutMs: number };
  /**
   * `MEMORY_*` variables that are set but are not settings of this server (a typo, or a setting
   * that was removed): they change nothing, and the server says so at startup instead of
   * leaving an operator to wonder why `MEMORY_EMBEDING_DIM=768` had no effect.
   */
  ignoredVariables: string[];
}

export class InvalidEnvironmentError extends Error {}

export function loadServerConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = envSchema.safeParse(blankAsUnset(env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new InvalidEnvironmentError(`Invalid environment: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    ignoredVariables: ignoredVariables(env),
    port: e.PORT,
    host: e.HOST,
    apiKey: e.MEMORY_API_KEY,
    maxBodyBytes: e.MEMORY_MAX_BODY_BYTES,
    logFormat: e.MEMORY_LOG_FORMAT,
    mcp: { enabled: ['true', '1'].includes(e.MEMORY_MCP_ENABLED), defaultBankId: e.MEMORY_MCP_BANK_ID },
    console: { enabled: ['true', '1'].includes(e.MEMORY_CONSOLE_ENABLED) },
    memory: {
      databaseUrl: e.DATABASE_URL,
      poolSize: e.MEMORY_DB_POOL_SIZE,
      poolIdleTimeoutMs: e.MEMORY_DB_POOL_IDLE_TIMEOUT_MS,
      pgliteSharedBuffers: e.MEMORY_PGLITE_SHARED_BUFFERS,
      preparedStatements: e.MEMORY_DB_PREPARED_STATEMENTS && ['true', '1'].includes(e.MEMORY_DB_PREPARED_STATEMENTS),
      shutdownTimeoutMs: e.MEMORY_SHUTDOWN_TIMEOUT_MS,
      connectAttempts: e.MEMORY_DB_CONNECT_ATTEMPTS,
      embedder: {
        provider: e.MEMORY_EMBEDDER,
        model: e.MEMORY_EMBEDDING_MODEL,
        dimension: e.MEMORY_EMBEDDING_DIM,
        baseUrl: e.OPENAI_BASE_URL,
        apiKey: e.OPENAI_API_KEY,
        timeoutMs: e.MEMORY_AI_TIMEOUT_MS,
        maxRetries: e.MEMORY_AI_MAX_RETRIES,
      },
      llm: {
        provider: e.MEMORY_LLM,
        model: e.MEMORY_LLM_MODEL,
        baseUrl: e.OPENAI_BASE_URL,
        apiKey: e.OPENAI_API_KEY,
        timeoutMs: e.MEMORY_AI_TIMEOUT_MS,
        maxRetries: e.MEMORY_AI_MAX_RETRIES,
      },
      operations: onlySet({ leaseMs: e.MEMORY_OPERATIONS_LEASE_MS, pollIntervalMs: e.MEMORY_OPERATIONS_POLL_MS }),
      consolidation: onlySet({
        cron: e.MEMORY_CONSOLIDATION_CRON === 'off' ? null : e.MEMORY_CONSOLIDATION_CRON,
        leaseMs: e.MEMORY_CONSOLIDATION_LEASE_MS,
      }),
      webhooks: onlySet({
        allowPrivate: e.MEMORY_WEBHOOK_ALLOW_PRIVATE && ['true', '1'].includes(e.MEMORY_WEBHOOK_ALLOW_PRIVATE),
        leaseMs: e.MEMORY_WEBHOOK_LEASE_MS,
        pollIntervalMs: e.MEMORY_WEBHOOK_POLL_MS,
      }),
      audit: onlySet({
        enabled: e.MEMORY_AUDIT_LOG_ENABLED && ['true', '1'].includes(e.MEMORY_AUDIT_LOG_ENABLED),
        retentionDays: e.MEMORY_AUDIT_LOG_RETENTION_DAYS === 'forever' ? null : e.MEMORY_AUDIT_LOG_RETENTION_DAYS,
        includeContent: e.MEMORY_AUDIT_LOG_INCLUDE_CONTENT && ['true', '1'].includes(e.MEMORY_AUDIT_LOG_INCLUDE_CONTENT),
      }),
      bankVectorIndexes: onlySet({
        minMemories: e.MEMORY_BANK_INDEX_MIN_MEMORIES === 'off' ? null : e.MEMORY_BANK_INDEX_MIN_MEMORIES,
        intervalMs: e.MEMORY_BANK_INDEX_INTERVAL_MS,
        buildMemoryMb: e.MEMORY_BANK_INDEX_BUILD_MEMORY_MB === 'off' ? null : e.MEMORY_BANK_INDEX_BUILD_MEMORY_MB,
      }),
      bankStatistics: onlySet({
        intervalMs: e.MEMORY_BANK_STATISTICS_INTERVAL_MS === 'off' ? null : e.MEMORY_BANK_STATISTICS_INTERVAL_MS,
        minMemories: e.MEMORY_BANK_STATISTICS_MIN_MEMORIES,
      }),
      llmTrace: onlySet({
        enabled: e.MEMORY_LLM_TRACE_ENABLED && ['true', '1'].includes(e.MEMORY_LLM_TRACE_ENABLED),
        maxChars: e.MEMORY_LLM_TRACE_MAX_CHARS,
        retentionDays: e.MEMORY_LLM_TRACE_RETENTION_DAYS,
      }),
      limits: onlySet({
        maxJsonDepth: e.MEMORY_MAX_JSON_DEPTH,
        maxBankIdLength: e.MEMORY_MAX_BANK_ID_LENGTH,
        maxDocumentIdLength: e.MEMORY_MAX_DOCUMENT_ID_LENGTH,
        maxTags: e.MEMORY_MAX_TAGS,
        maxTagLength: e.MEMORY_MAX_TAG_LENGTH,
        maxQueryChars: e.MEMORY_MAX_QUERY_CHARS,
        maxMetadataKeys: e.MEMORY_MAX_METADATA_KEYS,
        maxMetadataChars: e.MEMORY_MAX_METADATA_CHARS,
      }),
      files: onlySet({ maxFileBytes: e.MEMORY_MAX_FILE_BYTES, maxFiles: e.MEMORY_MAX_FILES }),
      reranker: {
        provider: e.MEMORY_RERANKER,
        baseUrl: e.MEMORY_RERANKER_URL,
        apiKey: e.MEMORY_RERANKER_API_KEY,
        model: e.MEMORY_RERANKER_MODEL,
        timeoutMs: e.MEMORY_AI_TIMEOUT_MS,
      },
    },
  };
}

/** What `ignoredVariables` reports: the server's own prefix, set, but not in the schema. */
function ignoredVariables(env: NodeJS.ProcessEnv): string[] {
  const known = new Set(Object.keys(envSchema.shape));
  return Object.keys(blankAsUnset(env))
    .filter((name) => name.startsWith('MEMORY_') && !known.has(name))
    .sort();
}

/** One warning line per ignored variable, as both entry points log them. */
export function ignoredVariableWarnings(config: Pick<ServerConfig, 'ignoredVariables'>): string[] {
  return config.ignoredVariables.map(
    (name) =>
      `${name} is set but is not a setting of this server, so it is ignored (the README's "Configuration (standalone server)" lists them)`,
  );
}

/** The settings that were set, or `undefined` when none was: the module's defaults fill the rest. */
function onlySet<T extends object>(settings: T): Partial<T> | undefined {
  const set = Object.entries(settings).filter(([, value]) => value !== undefined);
  return set.length ? (Object.fromEntries(set) as Partial<T>) : undefined;
}

/** `FOO=` in a shell or a compose file means "not set", not "the empty string". */
function blankAsUnset(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => !!entry[1]));
}

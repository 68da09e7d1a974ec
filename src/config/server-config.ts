import { z } from 'zod';
import type { MemoryModuleOptions } from '../memory.options.js';

/**
 * The standalone server's environment, read and validated in this one place; everything after
 * it receives typed options.
 */
const envSchema = z.object({
  DATABASE_URL: z.string().min(1).default('pglite://./.data/memory'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8888),
  HOST: z.string().min(1).default('0.0.0.0'),
  MEMORY_API_KEY: z.string().min(1).optional(),
  MEMORY_DB_POOL_SIZE: z.coerce.number().int().positive().default(10),
  MEMORY_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  MEMORY_DB_CONNECT_ATTEMPTS: z.coerce.number().int().positive().default(5),
  MEMORY_LOG_FORMAT: z.enum(['text', 'json']).default('text'),
});

export type ServerEnv = z.output<typeof envSchema>;

export interface ServerConfig {
  port: number;
  host: string;
  apiKey?: string;
  logFormat: 'text' | 'json';
  memory: MemoryModuleOptions & { shutdownTimeoutMs: number };
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
    port: e.PORT,
    host: e.HOST,
    apiKey: e.MEMORY_API_KEY,
    logFormat: e.MEMORY_LOG_FORMAT,
    memory: {
      databaseUrl: e.DATABASE_URL,
      poolSize: e.MEMORY_DB_POOL_SIZE,
      shutdownTimeoutMs: e.MEMORY_SHUTDOWN_TIMEOUT_MS,
      connectAttempts: e.MEMORY_DB_CONNECT_ATTEMPTS,
    },
  };
}

/** `FOO=` in a shell or a compose file means "not set", not "the empty string". */
function blankAsUnset(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => !!entry[1]));
}

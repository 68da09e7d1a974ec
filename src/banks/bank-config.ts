import { MemoryErrorCode, MemoryException } from '../memory.exception.js';

/**
 * Per-bank settings a caller may override, with the defaults they override. Keys are Hindsight's
 * snake_case names, so its client's `updateBankConfig` works unchanged; env-style spellings
 * (`HINDSIGHT_API_RETAIN_EXTRACTION_MODE`) are accepted too.
 */
export const BANK_CONFIG_DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze({
  reflect_mission: null,
  retain_mission: null,
  retain_extraction_mode: 'concise',
  retain_custom_instructions: null,
  retain_chunk_size: 3000,
  retain_structured_chunk_size: 3000,
  enable_observations: true,
  observations_mission: null,
  enable_temporal_retrieval: true,
  enable_graph_retrieval: true,
  enable_reranking: true,
  disposition_skepticism: 3,
  disposition_literalism: 3,
  disposition_empathy: 3,
});

const ENV_PREFIX = 'hindsight_api_';

export function normaliseConfigKey(key: string): string {
  const lower = key.toLowerCase();
  const name = lower.startsWith(ENV_PREFIX) ? lower.slice(ENV_PREFIX.length) : lower;
  if (!(name in BANK_CONFIG_DEFAULTS)) {
    throw new MemoryException(MemoryErrorCode.InvalidConfigKey, `Unknown or read-only bank config key '${key}'`, `updates.${key}`);
  }
  return name;
}

export function validateConfigValue(name: string, value: unknown): unknown {
  const fallback = BANK_CONFIG_DEFAULTS[name];
  if (value === null) return null;
  const expected = name.startsWith('disposition_') ? 'trait' : fallback === null ? 'string' : typeof fallback;
  const ok =
    expected === 'trait'
      ? Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 5
      : expected === 'number'
        ? Number.isInteger(value) && (value as number) > 0
        : typeof value === expected;
  if (!ok) {
    const wanted = expected === 'trait' ? 'an integer from 1 to 5' : expected === 'number' ? 'a positive integer' : `a ${expected}`;
    throw new MemoryException(MemoryErrorCode.InvalidConfigKey, `Bank config '${name}' must be ${wanted}`, `updates.${name}`);
  }
  return value;
}

export function normaliseConfigUpdates(updates: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(updates).map(([key, value]) => {
      const name = normaliseConfigKey(key);
      return [name, validateConfigValue(name, value)];
    }),
  );
}

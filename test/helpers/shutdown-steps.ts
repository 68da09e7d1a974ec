/**
 * The stage of every teardown step a fully started module registers, in the order they run: the
 * scheduler stage holds two crons (consolidation and mental-model refreshes), the watchdog stage the
 * watchdog and the check of new banks' statistics (bank index maintenance adds a third where it
 * runs, on PostgreSQL with pgvector).
 */
export const STEP_STAGES_OF_A_FULL_START = [
  'readiness',
  'scheduler',
  'scheduler',
  'consolidation',
  'operations',
  'webhooks',
  'watchdog',
  'watchdog',
  'ai-clients',
  'database',
] as const;

/**
 * The same for the standalone server, which adds its MCP sessions to the scheduler stage: they
 * produce work as the crons do, so they stop before the workers drain.
 */
export const STEP_STAGES_OF_THE_STANDALONE_SERVER = [
  'readiness',
  'scheduler',
  'scheduler',
  'scheduler',
  'consolidation',
  'operations',
  'webhooks',
  'watchdog',
  'watchdog',
  'ai-clients',
  'database',
] as const;

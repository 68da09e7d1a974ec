/**
 * Teardown order of the module's resources (DESIGN.md, "Components and their order").
 *
 * Readiness flips first so load balancers stop sending work while the rest drains; producers of
 * work (scheduler, watcher) stop before the workers that consume it; the HTTP agents go after
 * every worker that could still be mid-call; the database closes last because every other
 * stage may still need it to release a lease or record a result.
 */
export const SHUTDOWN_STAGES = [
  'readiness',
  'scheduler',
  'file-watcher',
  'consolidation',
  'operations',
  'webhooks',
  'watchdog',
  'ai-clients',
  'database',
] as const;

export type ShutdownStage = (typeof SHUTDOWN_STAGES)[number];

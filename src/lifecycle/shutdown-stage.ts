/**
 * Teardown order of the module's resources (docs/ARCHITECTURE.md, "Startup and shutdown").
 *
 * Readiness flips first so load balancers stop sending work while the rest drains; the producer
 * of background work (the scheduler) stops before the workers that consume it; the HTTP agents go
 * after every worker that could still be mid-call; the database closes last because every other
 * stage may still need it to release a lease or record a result. Every stage here has a step that
 * some provider registers; a test boots the module and checks that.
 */
export const SHUTDOWN_STAGES = [
  'readiness',
  'scheduler',
  'consolidation',
  'operations',
  'webhooks',
  'watchdog',
  'ai-clients',
  'database',
] as const;

export type ShutdownStage = (typeof SHUTDOWN_STAGES)[number];

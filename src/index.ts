// The public face of the package: what a host application imports.
export { MemoryModule } from './memory.module.js';
export { MEMORY_DATA_SOURCE, MEMORY_OPTIONS } from './memory.constants.js';
export { InvalidMemoryOptionsError, type MemoryModuleOptions, type ResolvedMemoryOptions } from './memory.options.js';
export { MemoryHttpModule } from './http/memory-http.module.js';
export { DEFAULT_MAX_BODY_BYTES, type MemoryHttpOptions } from './http/memory-http.options.js';
export { configureHttpApp, type HttpAppOptions } from './http/configure-http-app.js';
export { MemoryHealthIndicator } from './health/memory.health.js';
export { ReadinessService, type ReadinessState } from './health/readiness.service.js';
export { ShutdownCoordinator, type ShutdownCoordinatorOptions, type StepReport } from './lifecycle/shutdown-coordinator.js';
export { SHUTDOWN_STAGES, type ShutdownStage } from './lifecycle/shutdown-stage.js';
export { DatabaseConnectError } from './storage/data-source-registry.js';
export { MemoryDatabase, type Sql } from './storage/memory-database.js';
export { ConnectionHeldAcrossExternalCallError } from './external/external-call-guard.js';

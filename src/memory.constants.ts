/** The validated options with their defaults filled in. */
export const MEMORY_OPTIONS = Symbol('MEMORY_OPTIONS');
/** The TypeORM DataSource the module runs on, migrated and ready. */
export const MEMORY_DATA_SOURCE = Symbol('MEMORY_DATA_SOURCE');

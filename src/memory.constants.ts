/** The validated options with their defaults filled in. */
export const MEMORY_OPTIONS = Symbol('MEMORY_OPTIONS');
/** The TypeORM DataSource the module runs on, migrated and ready. */
export const MEMORY_DATA_SOURCE = Symbol('MEMORY_DATA_SOURCE');
/** The vector back end the migration chose, prepared for the embedder's dimension. */
export const MEMORY_VECTOR_BACKEND = Symbol('MEMORY_VECTOR_BACKEND');

export const FACT_TYPES = ['world', 'experience', 'observation'] as const;
export type FactType = (typeof FACT_TYPES)[number];

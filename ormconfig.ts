import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { MEMORY_MIGRATIONS, MEMORY_MIGRATIONS_TABLE } from './src/storage/migrations/index.js';

/**
 * For the TypeORM CLI (`npm run migration:show`, `migration:run`, `migration:revert`) against a
 * PostgreSQL server. The module migrates itself at startup; this is for operators who prefer to
 * migrate ahead of a deploy. Same migrations, same history table.
 */
export default new DataSource({
  type: 'postgres',
  url: process.env.DATABASE_URL ?? 'postgres://postgres@localhost:5432/postgres',
  migrations: MEMORY_MIGRATIONS,
  migrationsTableName: MEMORY_MIGRATIONS_TABLE,
});

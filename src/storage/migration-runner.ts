import { Logger } from '@nestjs/common';
import type { DataSource, MigrationInterface } from 'typeorm';
import { MEMORY_MIGRATIONS, MEMORY_MIGRATIONS_TABLE } from './migrations/index.js';

/** Any constant works; it only has to be the same for every instance of the fleet. */
const MIGRATION_LOCK_KEY = 7_262_002_411;

type MigrationClass = new () => MigrationInterface;

/**
 * Runs the module's migrations on one DataSource: pending ones in order, each in its own
 * transaction, under a session advisory lock so that instances starting together on one server
 * migrate once and the rest wait. TypeORM's runner takes no such lock and can only run the
 * migrations a DataSource was built with, which a host's own DataSource was not; the table has
 * TypeORM's layout so its CLI (`ormconfig.ts`) sees the same history.
 *
 * Everything happens on one QueryRunner, so it also works on PGlite's single connection.
 */
export async function runMemoryMigrations(
  dataSource: DataSource,
  migrations: MigrationClass[] = MEMORY_MIGRATIONS,
  logger = new Logger('Migrations'),
): Promise<string[]> {
  const queryRunner = dataSource.createQueryRunner();
  const applied: string[] = [];
  try {
    await queryRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await queryRunner.query(`
        CREATE TABLE IF NOT EXISTS ${MEMORY_MIGRATIONS_TABLE} (
          id SERIAL PRIMARY KEY,
          "timestamp" bigint NOT NULL,
          name varchar NOT NULL
        )`);
      const done = new Set<string>(
        ((await queryRunner.query(`SELECT name FROM ${MEMORY_MIGRATIONS_TABLE}`)) as Array<{ name: string }>).map((row) => row.name),
      );
      for (const Migration of migrations) {
        const migration = new Migration();
        const name = migration.name ?? Migration.name;
        if (done.has(name)) continue;
        await queryRunner.startTransaction();
        try {
          await migration.up(queryRunner);
          await queryRunner.query(`INSERT INTO ${MEMORY_MIGRATIONS_TABLE} ("timestamp", name) VALUES ($1, $2)`, [timestampOf(name), name]);
          await queryRunner.commitTransaction();
        } catch (error) {
          await queryRunner.rollbackTransaction();
          throw new Error(`Migration ${name} failed: ${(error as Error).message}`, { cause: error });
        }
        applied.push(name);
        logger.log(`Applied migration ${name}`);
      }
    } finally {
      await queryRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await queryRunner.release();
  }
  return applied;
}

function timestampOf(name: string): number {
  const digits = /(\d{13})$/.exec(name)?.[1];
  if (!digits) throw new Error(`Migration name '${name}' must end in a 13-digit timestamp`);
  return Number(digits);
}

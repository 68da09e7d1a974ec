import { Logger } from '@nestjs/common';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { repairCrossScopeObservations } from '../../consolidation/observation-scopes.queries.js';

/**
 * Observation scopes (docs/ARCHITECTURE.md, "Observation scopes"): each memory keeps the
 * `observation_scopes` it was retained with and the scopes it has already been consolidated in,
 * so that a memory of several scopes is folded into each exactly once.
 *
 * Consolidation used to fold memories of different tag sets into one observation tagged with
 * the union of their tags, which a recall restricted to one of them then returned. Existing
 * observations of that kind are invalidated here and their sources queued again.
 */
export class ObservationScopes1764300000000 implements MigrationInterface {
  name = 'ObservationScopes1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE memory_units
        ADD COLUMN observation_scopes jsonb,
        ADD COLUMN consolidated_scopes text[] NOT NULL DEFAULT '{}';
    `);
    const report = await repairCrossScopeObservations({
      query: async <Row>(text: string, params?: unknown[]) => (await queryRunner.query(text, params)) as Row[],
    });
    new Logger('Migrations').log(
      `Observations built across tag scopes: ${report.observationsInvalidated} invalidated, ` +
        `${report.memoriesRequeued} source memories queued again` +
        (report.banks.length ? ` (banks: ${report.banks.join(', ')})` : ''),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE memory_units DROP COLUMN observation_scopes, DROP COLUMN consolidated_scopes`);
  }
}

import { randomUUID } from 'node:crypto';
import { createTestDatabase, dropTestDatabase } from './postgres.js';

export interface EmptyDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * Both back ends, for `describe.each`: each opens an empty database of its own, on the embedded
 * PGlite or on the test PostgreSQL server, named after `prefix` (letters, digits, underscores).
 */
export const BACK_ENDS: Array<[string, (prefix: string) => Promise<EmptyDatabase>]> = [
  ['PGlite', async (prefix) => ({ url: `pglite://memory/${prefix}-${randomUUID()}`, drop: async () => undefined })],
  [
    'PostgreSQL',
    async (prefix) => {
      const database = await createTestDatabase(prefix);
      return { url: database.url, drop: () => dropTestDatabase(database.name) };
    },
  ],
];

import type { INestApplicationContext } from '@nestjs/common';
import { prepareMemories, seedBank } from '../../bench/seed/bulk-seed.js';
import { syntheticMemories, take } from '../../bench/seed/synthetic-memories.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';
import { entityIdsOffTheirLinks } from '../helpers/entity-ids-on-row.js';
import { bootOnPglite } from '../helpers/memory-app.js';

/**
 * The benchmarks' bulk load writes memories as retain would, or the benchmarks measure a recall no
 * user gets: here, each row's entity ids (a row without them recalls its entities the slower way).
 */
describe('the benchmarks bulk load', () => {
  let app: INestApplicationContext;

  beforeAll(async () => {
    app = await bootOnPglite('bulk-seed');
  });

  afterAll(async () => {
    await app?.close();
  });

  it('writes each memory with the ids of the entities it links, in a bank loaded in two parts', async () => {
    const database = app.get(MemoryDatabase);
    const vectors = app.get<VectorBackend>(MEMORY_VECTOR_BACKEND);
    const memories = prepareMemories(take(syntheticMemories(11), 300), vectors.dimension);
    await seedBank(database, vectors, 'seeded', memories.slice(0, 150));
    await seedBank(database, vectors, 'seeded', memories.slice(150));

    const [{ linked }] = await database.query<{ linked: string }>(
      `SELECT count(*) AS linked FROM memory_units WHERE bank_id = 'seeded' AND cardinality(entity_ids) > 0`,
    );
    expect(Number(linked)).toBe(memories.filter((memory) => memory.entities.length > 0).length);
    expect(await entityIdsOffTheirLinks((text, params) => database.query(text, params), 'seeded')).toEqual([]);
  });
});

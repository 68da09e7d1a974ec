import type { INestApplicationContext } from '@nestjs/common';
import { bootStartedMemory } from '../../test/helpers/memory-app.js';
import { DocumentTransferService } from '../../src/document-transfer/document-transfer.service.js';
import { MEMORY_VECTOR_BACKEND } from '../../src/memory.constants.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { AiClients } from '../../src/external/ai-clients.js';
import { RecallService } from '../../src/recall/recall.service.js';
import { DEFAULT_RECALL_SETTINGS } from '../../src/recall/recall.types.js';
import { MemoryDatabase } from '../../src/storage/memory-database.js';
import type { VectorBackend } from '../../src/storage/vector-backend.js';
import { type Benchmark, type BenchmarkContext, fmt } from '../harness.js';
import { prepareMemories, seedBank } from '../seed/bulk-seed.js';
import { CORPUS_NOW, syntheticMemories, syntheticQueries, take } from '../seed/synthetic-memories.js';

const CORPUS_SEED = 777;
const QUERY_SEED = 21;
const DIMENSION = 384;
const BANK = 'exported';

/**
 * A bank exported from one database and imported into another: how long each takes, the size of
 * the archive, and whether recall in the copy answers exactly what it answered in the original.
 */
export const documentTransfer: Benchmark = {
  id: 'document-transfer',
  title: 'Document transfer: export, re-import into another database, same recall',
  async run(context) {
    const size = context.quick ? 500 : 100_000;
    const source = await context.createDatabase('transfer_source');
    const target = await context.createDatabase('transfer_target');
    const apps: INestApplicationContext[] = [];
    try {
      const boot = async (url: string) => {
        const booted = await bootStartedMemory({ databaseUrl: url, watchdogIntervalMs: 3_600_000, operations: { pollIntervalMs: 50 } });
        apps.push(booted.app);
        return booted.app;
      };
      const from = await boot(source.url);
      const to = await boot(target.url);
      return await measure(context, from, to, size);
    } finally {
      for (const app of apps) await app.close();
      await source.drop();
      await target.drop();
    }
  },
};

async function measure(context: BenchmarkContext, from: INestApplicationContext, to: INestApplicationContext, size: number) {
  const prepared = prepareMemories(take(syntheticMemories(CORPUS_SEED), size), DIMENSION);
  await seedBank(from.get(MemoryDatabase), from.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND), BANK, prepared);
  await from.get(MemoryDatabase).query('ANALYZE');
  context.log(`document-transfer: ${size} memories seeded`);

  const exportStartedAt = performance.now();
  const exportId = await from.get(DocumentTransferService).submitExport(BANK, null, false);
  const exported = await completed(from, BANK, exportId);
  const exportMs = performance.now() - exportStartedAt;
  const download = (await from.get(DocumentTransferService).download(String(exported.storage_key)))!;
  const parts: Buffer[] = [];
  for await (const part of download.parts) parts.push(part);
  const archive = Buffer.concat(parts);
  context.log(`document-transfer: exported in ${fmt(exportMs / 1000)} s, ${archive.length} bytes`);

  const importStartedAt = performance.now();
  const importId = await to.get(DocumentTransferService).submitImport(BANK, archive, 'skip');
  const imported = await completed(to, BANK, importId);
  const importMs = performance.now() - importStartedAt;
  await to.get(MemoryDatabase).query('ANALYZE');
  context.log(`document-transfer: imported in ${fmt(importMs / 1000)} s`);

  const queries = syntheticQueries(QUERY_SEED, context.quick ? 10 : 50);
  // Served recall searches a bank this size through its HNSW graph, which each database builds
  // with its own random levels: the copy's graph differs from the original's whatever the data.
  // The exact scan shows whether the data is the same; the served recall, how much the graphs move.
  const exact = (app: INestApplicationContext) =>
    new RecallService(app.get(MemoryDatabase), app.get<symbol, VectorBackend>(MEMORY_VECTOR_BACKEND), app.get(AiClients).embedder, null, {
      exactScanBelow: Number.MAX_SAFE_INTEGER,
    });
  const services = { exact: [exact(from), exact(to)], served: [from.get(RecallService), to.get(RecallService)] };
  let same = 0;
  let sameServed = 0;
  let overlap = 0;
  for (const query of queries) {
    const ask = (service: RecallService) =>
      service.recall({ bankId: BANK, query, queryTimestamp: CORPUS_NOW }).then(({ results }) => results.map((result) => result.text));
    const [original, copy] = await Promise.all(services.exact.map(ask));
    if (original.join('\n') === copy.join('\n')) same += 1;
    const [servedOriginal, servedCopy] = await Promise.all(services.served.map(ask));
    if (servedOriginal.join('\n') === servedCopy.join('\n')) sameServed += 1;
    const topTen = new Set(servedOriginal.slice(0, 10));
    overlap += servedCopy.slice(0, 10).filter((text) => topTen.has(text)).length / Math.max(1, Math.min(10, topTen.size));
  }
  const importedCount = Number(imported.facts_imported) + Number(imported.loose_facts_imported);
  return {
    workload:
      `One bank of ${size.toLocaleString('en')} memories from the synthetic corpus of seed ${CORPUS_SEED} (retained without documents), ` +
      `loaded in bulk into one database of ${context.server.label}, exported as a transfer archive by the export operation, ` +
      `downloaded, and imported by the import operation into a bank of the same name in a second, empty database (the ` +
      `hashing embedder on both sides). Then ${queries.length} questions of seed ${QUERY_SEED} are recalled in both with the ` +
      'API defaults, and the two result lists compared text by text, in order.',
    tables: [
      {
        caption: `${context.server.label}: ${size.toLocaleString('en')} memories`,
        columns: [
          'export (s)',
          'archive (MB)',
          'import (s)',
          'imported memories/s',
          'same recall (exact scan)',
          'same recall (as served)',
          'served top-10 overlap',
        ],
        rows: [
          [
            fmt(exportMs / 1000),
            fmt(archive.length / 1048576),
            fmt(importMs / 1000),
            fmt(importedCount / (importMs / 1000)),
            `${same} of ${queries.length}`,
            `${sameServed} of ${queries.length}`,
            `${fmt((100 * overlap) / queries.length)} %`,
          ],
        ],
      },
    ],
    findings: [
      `${importedCount.toLocaleString('en')} of ${size.toLocaleString('en')} memories re-imported; with the semantic arm scanning exactly, ` +
        `recall in the copy answered exactly as in the original for ${same} of ${queries.length} questions.`,
      `As served (the HNSW index above ${DEFAULT_RECALL_SETTINGS.exactScanBelow.toLocaleString('en')} memories), ${sameServed} of ` +
        `${queries.length} answers are identical and the top tens overlap by ${fmt((100 * overlap) / queries.length)} %: each ` +
        'database draws its own HNSW graph, so approximate search differs between any two copies of the same data.',
    ],
    figures: {
      export_s: exportMs / 1000,
      archive_mb: archive.length / 1048576,
      import_s: importMs / 1000,
      same_recall: same / queries.length,
      same_served_recall: sameServed / queries.length,
    },
  };
}

async function completed(app: INestApplicationContext, bankId: string, operationId: string): Promise<Record<string, unknown>> {
  const operations = app.get(OperationsService);
  for (;;) {
    const operation = await operations.get(bankId, operationId);
    if (operation?.status === 'completed') return operation.result ?? {};
    if (operation?.status === 'failed') throw new Error(`operation ${operationId} failed: ${operation.error}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

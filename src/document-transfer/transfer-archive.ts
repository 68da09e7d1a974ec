import { z } from 'zod';
import { STORABLE_INSTANT_RULE, isStorableInstant } from '../storage/storable-instant.js';

/**
 * The document-transfer archive, in the layout Hindsight 0.9.1 writes and reads, so that an
 * archive moves between the two servers:
 *
 *     manifest.json            TransferManifest, written last (it carries the counts)
 *     documents/000000.json    one TransferDocument per document, named by position (ids may
 *     documents/000001.json    hold characters a path cannot)
 *
 * plus, as this server's own addition, `loose/000000.json`: memories retained without a
 * document, a page of at most LOOSE_FACTS_PER_ENTRY per entry. Hindsight reads past files it
 * does not know. Embeddings and database ids are never carried: an import embeds again with the
 * target's model and resolves entities by name.
 */
export const TRANSFER_SCHEMA_VERSION = 1;
export const MANIFEST_ENTRY = 'manifest.json';
export const LOOSE_FACTS_PER_ENTRY = 1000;

export const documentEntryName = (index: number) => `documents/${String(index).padStart(6, '0')}.json`;
export const looseEntryName = (index: number) => `loose/${String(index).padStart(6, '0')}.json`;

const timestamp = z
  .string()
  .datetime({ offset: true })
  .refine((value) => isStorableInstant(new Date(value)), STORABLE_INSTANT_RULE)
  .nullish();

export const transferFactSchema = z.object({
  text: z.string().min(1),
  fact_type: z.enum(['world', 'experience']),
  context: z.string().nullish(),
  event_date: timestamp,
  occurred_start: timestamp,
  occurred_end: timestamp,
  mentioned_at: timestamp,
  metadata: z.record(z.string(), z.string()).default({}),
  tags: z.array(z.string()).default([]),
  observation_scopes: z.unknown().nullish(),
  chunk_index: z.number().int().min(0).nullish(),
  entities: z.array(z.string()).default([]),
  causal_relations: z.array(z.unknown()).default([]),
  created_at: timestamp,
  consolidated_at: timestamp,
  consolidation_failed_at: timestamp,
  /** This server's: which fact about whom the memory states, for supersession. */
  attribute_key: z.string().nullish(),
});

export const transferDocumentSchema = z.object({
  id: z.string().min(1),
  original_text: z.string().nullish(),
  retain_params: z.record(z.string(), z.unknown()).nullish(),
  tags: z.array(z.string()).default([]),
  created_at: timestamp,
  chunks: z.array(z.object({ chunk_index: z.number().int().min(0), chunk_text: z.string() })).default([]),
  facts: z.array(transferFactSchema).default([]),
});

export const looseFactsSchema = z.object({ facts: z.array(transferFactSchema) });

export const transferManifestSchema = z.object({
  schema_version: z.literal(TRANSFER_SCHEMA_VERSION),
  source_bank_id: z.string(),
  exported_at: timestamp,
  document_count: z.number().int().min(0).default(0),
  fact_count: z.number().int().min(0).default(0),
  observation_count: z.number().int().min(0).default(0),
  archive_type: z.enum(['documents', 'bank']).default('documents'),
});

export type TransferFact = z.infer<typeof transferFactSchema>;
export type TransferDocument = z.infer<typeof transferDocumentSchema>;
export type TransferManifest = z.infer<typeof transferManifestSchema>;

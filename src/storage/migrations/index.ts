import { InitialSchema1764000000000 } from './1764000000000-initial-schema.js';
import { ConsolidationAndModels1764100000000 } from './1764100000000-consolidation-and-models.js';
import { Webhooks1764200000000 } from './1764200000000-webhooks.js';
import { ObservationScopes1764300000000 } from './1764300000000-observation-scopes.js';
import { Supersession1764400000000 } from './1764400000000-supersession.js';
import { LlmSupersession1764500000000 } from './1764500000000-llm-supersession.js';
import { TemporalIndex1764600000000 } from './1764600000000-temporal-index.js';
import { BankLeadingKeys1764700000000 } from './1764700000000-bank-leading-keys.js';
import { TemporalMidpointIndex1764800000000 } from './1764800000000-temporal-midpoint-index.js';
import { EntityNameIndex1764900000000 } from './1764900000000-entity-name-index.js';
import { DocumentChunks1765100000000 } from './1765100000000-document-chunks.js';
import { Directives1765200000000 } from './1765200000000-directives.js';
import { ObservationHistory1765300000000 } from './1765300000000-observation-history.js';
import { LlmRequests1765400000000 } from './1765400000000-llm-requests.js';
import { AuditLog1765500000000 } from './1765500000000-audit-log.js';
import { KnowledgeBase1765700000000 } from './1765700000000-knowledge-base.js';
import { StoredFiles1765800000000 } from './1765800000000-stored-files.js';
import { EntityLinkTime1765900000000 } from './1765900000000-entity-link-time.js';
import { MemoryTokenCount1766000000000 } from './1766000000000-memory-token-count.js';
import { LinkTimeGiven1766100000000 } from './1766100000000-link-time-given.js';
import { MemoryEntityIds1766200000000 } from './1766200000000-memory-entity-ids.js';
import { LinkUnitIndex1766300000000 } from './1766300000000-link-unit-index.js';
import { EntityNameWordsIndex1766400000000 } from './1766400000000-entity-name-words-index.js';
import { LinkUnitIndexBack1766500000000 } from './1766500000000-link-unit-index-back.js';
import { DropKeywordWalkIndexes1766600000000 } from './1766600000000-drop-keyword-walk-indexes.js';
import { ClampMemoryTimes1766700000000 } from './1766700000000-clamp-memory-times.js';

/** In order of their timestamps; the TypeORM CLI (`ormconfig.ts`) and the runtime share this list. */
export const MEMORY_MIGRATIONS = [
  InitialSchema1764000000000,
  ConsolidationAndModels1764100000000,
  Webhooks1764200000000,
  ObservationScopes1764300000000,
  Supersession1764400000000,
  LlmSupersession1764500000000,
  TemporalIndex1764600000000,
  BankLeadingKeys1764700000000,
  TemporalMidpointIndex1764800000000,
  EntityNameIndex1764900000000,
  DocumentChunks1765100000000,
  Directives1765200000000,
  ObservationHistory1765300000000,
  LlmRequests1765400000000,
  AuditLog1765500000000,
  KnowledgeBase1765700000000,
  StoredFiles1765800000000,
  EntityLinkTime1765900000000,
  MemoryTokenCount1766000000000,
  LinkTimeGiven1766100000000,
  MemoryEntityIds1766200000000,
  LinkUnitIndex1766300000000,
  EntityNameWordsIndex1766400000000,
  LinkUnitIndexBack1766500000000,
  DropKeywordWalkIndexes1766600000000,
  ClampMemoryTimes1766700000000,
];

export const MEMORY_MIGRATIONS_TABLE = 'memory_migrations';

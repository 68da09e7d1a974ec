import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DispositionTraitsResponse } from '../bank-maintenance.dto.js';

const INTEGER_MAP = { type: 'object', additionalProperties: { type: 'integer' } } as const;

/** Hindsight's `BankListItem`; null fields are left out. */
export class BankListItemResponse {
  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  name?: string | null;

  @ApiProperty({ type: DispositionTraitsResponse })
  disposition!: DispositionTraitsResponse;

  @ApiPropertyOptional({ type: String, nullable: true })
  mission?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  created_at?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  updated_at?: string | null;

  @ApiPropertyOptional({ type: 'integer', default: 0, description: 'Live memories of every type' })
  fact_count?: number;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'When a document was last ingested' })
  last_document_at?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'When anything was last written to the bank' })
  last_write_at?: string | null;
}

/** Hindsight's `BankListResponse`. */
export class BankListResponse {
  @ApiProperty({ type: [BankListItemResponse] })
  banks!: BankListItemResponse[];
}

/** Hindsight's `BankProfileResponse`. */
export class BankProfileResponse {
  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiProperty({ type: String, description: 'The bank id when no name was given' })
  name!: string;

  @ApiProperty({ type: DispositionTraitsResponse })
  disposition!: DispositionTraitsResponse;

  @ApiProperty({ type: String, description: 'The reflect mission; empty when none was set' })
  mission!: string;

  @ApiPropertyOptional({ type: String, nullable: true, deprecated: true, description: 'Same as mission' })
  background?: string | null;
}

/** Hindsight's `BankStatsResponse`; the timestamps are left out when null. */
export class BankStatsResponse {
  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiProperty({ type: 'integer', description: 'Live memories of every type' })
  total_nodes!: number;

  @ApiProperty({ type: 'integer' })
  total_links!: number;

  @ApiProperty({ type: 'integer' })
  total_documents!: number;

  @ApiProperty({ ...INTEGER_MAP, description: 'world, experience and observation always present' })
  nodes_by_fact_type!: Record<string, number>;

  @ApiProperty({ ...INTEGER_MAP, description: 'Only entity links are kept, so only `entity`' })
  links_by_link_type!: Record<string, number>;

  @ApiProperty({ ...INTEGER_MAP, description: 'Always empty: links are not counted by fact type' })
  links_by_fact_type!: Record<string, number>;

  @ApiProperty({ type: 'object', additionalProperties: INTEGER_MAP, description: 'Always empty' })
  links_breakdown!: Record<string, Record<string, number>>;

  @ApiProperty({ type: 'integer', description: 'Operations pending or processing' })
  pending_operations!: number;

  @ApiProperty({ type: 'integer' })
  failed_operations!: number;

  @ApiProperty({ ...INTEGER_MAP })
  operations_by_status!: Record<string, number>;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  last_consolidated_at?: string | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  last_memory_write_at?: string | null;

  @ApiProperty({ type: 'integer', description: 'Memories waiting for consolidation' })
  pending_consolidation!: number;

  @ApiProperty({ type: 'integer', description: 'Memories whose consolidation failed for good' })
  failed_consolidation!: number;

  @ApiProperty({ type: 'integer' })
  total_observations!: number;
}

/** Hindsight's `BankConfigResponse`. */
export class BankConfigResponse {
  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The configuration in effect: defaults, then the overrides' })
  config!: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: true, description: "Only the bank's own overrides" })
  overrides!: Record<string, unknown>;
}

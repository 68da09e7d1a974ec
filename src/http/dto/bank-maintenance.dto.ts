import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsDefined, IsOptional, IsString } from 'class-validator';
import { LLM_OPERATIONS, type BankProfile, type LlmProbe } from '../../banks/banks.service.js';
import { IsNotBlank } from './coercions.js';

/** Hindsight's deprecated `AddBackgroundRequest`. */
export class AddBackgroundRequestDto {
  @ApiProperty({ type: String, description: 'Appended to the bank mission' })
  @IsDefined({ message: 'content is required' })
  @IsString()
  @IsNotBlank('content cannot be empty')
  content!: string;

  @ApiPropertyOptional({ type: Boolean, default: true, deprecated: true, description: 'Accepted and ignored, as in Hindsight' })
  @IsOptional()
  @IsBoolean()
  update_disposition?: boolean | null;
}

export class DispositionTraitsResponse {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 5 })
  skepticism!: number;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 5 })
  literalism!: number;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 5 })
  empathy!: number;
}

/** Hindsight's `BackgroundResponse`. */
export class BackgroundResponse {
  @ApiProperty({ type: String })
  mission!: string;

  @ApiPropertyOptional({ type: String, nullable: true, deprecated: true, description: 'Same as mission' })
  background?: string | null;

  @ApiPropertyOptional({ type: DispositionTraitsResponse, nullable: true })
  disposition?: DispositionTraitsResponse | null;
}

/** Hindsight's `DeleteResponse`. */
export class DeleteResponse {
  @ApiProperty({ type: Boolean })
  success!: boolean;

  @ApiPropertyOptional({ type: String, nullable: true })
  message?: string | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true })
  deleted_count?: number | null;
}

/** Hindsight's `RecoverConsolidationResponse`. */
export class RecoverConsolidationResponse {
  @ApiProperty({ type: 'integer', description: 'Memories put back in the consolidation queue' })
  retried_count!: number;
}

/** Hindsight's `LlmOperationHealth`. */
export class LlmOperationHealthResponse {
  @ApiProperty({ enum: LLM_OPERATIONS })
  operation!: (typeof LLM_OPERATIONS)[number];

  @ApiProperty({ type: Boolean })
  ok!: boolean;

  @ApiProperty({ enum: ['connected', 'not_configured', 'auth_failed', 'unreachable', 'timeout'] })
  status!: LlmProbe['status'];

  @ApiPropertyOptional({ type: Number, nullable: true })
  latency_ms?: number | null;
}

/** Hindsight's `BankLlmHealthResponse`. */
export class BankLlmHealthResponse {
  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiProperty({ type: [LlmOperationHealthResponse] })
  operations!: LlmOperationHealthResponse[];
}

export function toBackgroundResponse(profile: BankProfile): BackgroundResponse {
  return { mission: profile.mission, background: profile.mission, disposition: { ...profile.disposition } };
}

export function toBankLlmHealthResponse(bankId: string, probe: LlmProbe): BankLlmHealthResponse {
  return {
    bank_id: bankId,
    operations: LLM_OPERATIONS.map((operation) => ({
      operation,
      ok: probe.ok,
      status: probe.status,
      ...(probe.latencyMs === null ? {} : { latency_ms: probe.latencyMs }),
    })),
  };
}

import { ApiProperty } from '@nestjs/swagger';

/** Hindsight's `ConsolidationResponse`. */
export class ConsolidationResponse {
  @ApiProperty({ type: String, description: 'The consolidation operation to poll' })
  operation_id!: string;

  @ApiProperty({ type: Boolean, description: 'True when the operation already queued was returned instead of a new one' })
  deduplicated!: boolean;
}

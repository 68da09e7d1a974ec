import { ApiProperty } from '@nestjs/swagger';

/** The body of every error answer, as Hindsight's clients read it. */
export class ErrorDetailResponse {
  @ApiProperty({ type: String, description: 'What went wrong, naming the field or the unsupported operation' })
  detail!: string;
}

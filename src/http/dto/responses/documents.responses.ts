import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const FREE_OBJECT = { type: 'object', additionalProperties: true } as const;

/** An item of `list_documents`: Hindsight types it as a free dictionary; this is what it holds. */
export class DocumentListItemResponse {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiProperty({ type: String, nullable: true })
  content_hash!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updated_at!: string;

  @ApiProperty({ type: 'integer', description: 'Characters of the stored text; 0 when none is stored' })
  text_length!: number;

  @ApiProperty({ type: 'integer' })
  memory_unit_count!: number;

  @ApiProperty({ ...FREE_OBJECT, nullable: true, description: 'Always null: retain parameters are not kept' })
  retain_params!: Record<string, unknown> | null;

  @ApiProperty({ ...FREE_OBJECT })
  document_metadata!: Record<string, unknown>;

  @ApiProperty({ type: [String] })
  tags!: string[];
}

/** Hindsight's `ListDocumentsResponse`. */
export class ListDocumentsResponse {
  @ApiProperty({ type: [DocumentListItemResponse] })
  items!: DocumentListItemResponse[];

  @ApiProperty({ type: 'integer' })
  total!: number;

  @ApiProperty({ type: 'integer' })
  limit!: number;

  @ApiProperty({ type: 'integer' })
  offset!: number;
}

/** Hindsight's `DocumentResponse`; its nulls are sent, not left out. */
export class DocumentResponse {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String })
  bank_id!: string;

  @ApiProperty({ type: String, nullable: true })
  original_text!: string | null;

  @ApiProperty({ type: String, nullable: true })
  content_hash!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updated_at!: string;

  @ApiProperty({ type: 'integer' })
  memory_unit_count!: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'integer' }, nullable: true })
  nodes_by_fact_type?: Record<string, number> | null;

  @ApiPropertyOptional({ type: [String], default: [] })
  tags?: string[];

  @ApiPropertyOptional({ ...FREE_OBJECT, nullable: true })
  document_metadata?: Record<string, unknown> | null;

  @ApiPropertyOptional({ ...FREE_OBJECT, nullable: true, description: 'Always null: retain parameters are not kept' })
  retain_params?: Record<string, unknown> | null;

  @ApiPropertyOptional({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'array', items: { type: 'string' } } }],
    nullable: true,
    description: 'Always null: read the scopes of each memory instead',
  })
  observation_scopes?: string | string[][] | null;
}

/** Hindsight's `DeleteDocumentResponse`. */
export class DeleteDocumentResponse {
  @ApiProperty({ type: Boolean })
  success!: boolean;

  @ApiProperty({ type: String })
  message!: string;

  @ApiProperty({ type: String })
  document_id!: string;

  @ApiProperty({ type: 'integer' })
  memory_units_deleted!: number;
}

/** Hindsight's `TagItem`. */
export class TagItemResponse {
  @ApiProperty({ type: String })
  tag!: string;

  @ApiProperty({ type: 'integer', description: 'Memories with the tag' })
  count!: number;
}

/** Hindsight's `ListTagsResponse`. */
export class ListTagsResponse {
  @ApiProperty({ type: [TagItemResponse] })
  items!: TagItemResponse[];

  @ApiProperty({ type: 'integer' })
  total!: number;

  @ApiProperty({ type: 'integer' })
  limit!: number;

  @ApiProperty({ type: 'integer' })
  offset!: number;
}

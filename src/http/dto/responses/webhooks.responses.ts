import { ApiProperty } from '@nestjs/swagger';

const STRING_MAP = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** Hindsight's `WebhookHttpConfig`, with every default filled in. */
export class WebhookHttpConfigResponse {
  @ApiProperty({ enum: ['GET', 'POST'] })
  method!: 'GET' | 'POST';

  // Hindsight types it integer; fractions (0.5) are accepted here and answered as given.
  @ApiProperty({ type: Number, description: 'Seconds; may be a fraction' })
  timeout_seconds!: number;

  @ApiProperty({ ...STRING_MAP })
  headers!: Record<string, string>;

  @ApiProperty({ ...STRING_MAP })
  params!: Record<string, string>;
}

/** Hindsight's `WebhookResponse`. */
export class WebhookResponse {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String, nullable: true })
  bank_id!: string | null;

  @ApiProperty({ type: String })
  url!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Always null: the secret is never returned' })
  secret!: string | null;

  @ApiProperty({ type: [String] })
  event_types!: string[];

  @ApiProperty({ type: Boolean })
  enabled!: boolean;

  @ApiProperty({ type: WebhookHttpConfigResponse })
  http_config!: WebhookHttpConfigResponse;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  created_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  updated_at!: string | null;
}

/** Hindsight's `WebhookListResponse`. */
export class WebhookListResponse {
  @ApiProperty({ type: [WebhookResponse] })
  items!: WebhookResponse[];
}

/** Hindsight's `WebhookDeliveryResponse`. */
export class WebhookDeliveryResponse {
  @ApiProperty({ type: String })
  id!: string;

  @ApiProperty({ type: String, nullable: true })
  webhook_id!: string | null;

  @ApiProperty({ type: String })
  url!: string;

  @ApiProperty({ type: String })
  event_type!: string;

  @ApiProperty({ type: String })
  status!: string;

  @ApiProperty({ type: 'integer' })
  attempts!: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  next_retry_at!: string | null;

  @ApiProperty({ type: String, nullable: true })
  last_error!: string | null;

  @ApiProperty({ type: 'integer', nullable: true })
  last_response_status!: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'Always null: response bodies are not kept' })
  last_response_body!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_attempt_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Not in Hindsight: when it was delivered' })
  delivered_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  created_at!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  updated_at!: string | null;
}

/** Hindsight's `WebhookDeliveryListResponse`, newest first. */
export class WebhookDeliveryListResponse {
  @ApiProperty({ type: [WebhookDeliveryResponse] })
  items!: WebhookDeliveryResponse[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last' })
  next_cursor!: string | null;
}

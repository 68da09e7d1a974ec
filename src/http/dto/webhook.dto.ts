import { validateHeaderName, validateHeaderValue } from 'node:http';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { unstorableReason } from '../../storage/storable-text.js';
import { WEBHOOK_EVENTS } from '../../webhooks/webhook.types.js';
import { IsIsoTimestamp, IsNotBlank, IsStringRecord, QueryInt } from './coercions.js';

/**
 * Headers the dispatcher sets itself (the body's type and its signature), or that belong to the
 * transport: one given here would clash with them or break the request.
 */
const RESERVED_HEADERS = new Set([
  'content-type',
  'x-hindsight-signature',
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
]);

/**
 * Header names and values every delivery can send. Checked when the webhook is saved: undici
 * throws on a bad name or a value with a line break at send time, so such a webhook would only
 * ever fail its deliveries, one retry after another.
 */
function IsSendableHeaders(): PropertyDecorator {
  const problem = (headers: Record<string, unknown>): string | null => {
    for (const [name, value] of Object.entries(headers)) {
      if (RESERVED_HEADERS.has(name.toLowerCase())) return `may not set '${name}', which the delivery sets itself`;
      try {
        validateHeaderName(name);
      } catch {
        return `has '${name}', which is not a valid HTTP header name`;
      }
      // NUL and lone surrogates are refused by the edge's rule for every field, naming the header.
      if (typeof value === 'string' && unstorableReason(value)) continue;
      try {
        validateHeaderValue(name, String(value));
      } catch {
        return `has a value for '${name}' that is not a valid HTTP header value (a line break or a control character)`;
      }
    }
    return null;
  };
  return ValidateBy({
    name: 'isSendableHeaders',
    validator: {
      validate: (value) => typeof value !== 'object' || value === null || problem(value as Record<string, unknown>) === null,
      defaultMessage: (args) => `${args?.property} ${problem(args?.value as Record<string, unknown>)}`,
    },
  });
}

/** Hindsight's `WebhookHttpConfig`. */
export class WebhookHttpConfigDto {
  @ApiPropertyOptional({ enum: ['GET', 'POST'], default: 'POST' })
  @IsOptional()
  @IsIn(['GET', 'POST'])
  method?: 'GET' | 'POST';

  @ApiPropertyOptional({ type: Number, description: 'Send timeout; the server default when absent' })
  @IsOptional()
  @IsNumber()
  @Min(0.1)
  @Max(300)
  timeout_seconds?: number;

  @ApiPropertyOptional({ type: Object, default: {}, description: 'Extra request headers; not those the transport or the signature sets' })
  @IsOptional()
  @IsStringRecord()
  @IsSendableHeaders()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ type: Object, default: {} })
  @IsOptional()
  @IsStringRecord()
  params?: Record<string, string>;
}

export class CreateWebhookRequestDto {
  @ApiProperty({ description: 'http(s) URL; loopback and private addresses are refused unless the server allows them' })
  @IsString()
  @IsNotBlank('url cannot be empty')
  @MaxLength(2048)
  url: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'HMAC-SHA256 key of the X-Hindsight-Signature header; never returned' })
  @IsOptional()
  @IsString()
  secret?: string | null;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENTS, isArray: true, default: ['consolidation.completed'] })
  @IsOptional()
  @IsArray()
  @IsIn(WEBHOOK_EVENTS, { each: true })
  event_types?: string[];

  @ApiPropertyOptional({ type: Boolean, default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ type: WebhookHttpConfigDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => WebhookHttpConfigDto)
  http_config?: WebhookHttpConfigDto;
}

/** Every field optional; only those present change. `secret: null` clears the secret. */
export class UpdateWebhookRequestDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @IsNotBlank('url cannot be empty')
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  secret?: string | null;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENTS, isArray: true })
  @IsOptional()
  @IsArray()
  @IsIn(WEBHOOK_EVENTS, { each: true })
  event_types?: string[];

  @ApiPropertyOptional({ type: Boolean })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ type: WebhookHttpConfigDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => WebhookHttpConfigDto)
  http_config?: WebhookHttpConfigDto;
}

export class ListWebhookDeliveriesQuery {
  @ApiPropertyOptional({ type: Number, default: 50, minimum: 1, maximum: 200 })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  // Stricter than the service's Date.parse, which takes '1' that PostgreSQL then refuses.
  @IsIsoTimestamp([], { message: 'cursor must be a timestamp from next_cursor' })
  cursor?: string;
}

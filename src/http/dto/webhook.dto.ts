import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { WEBHOOK_EVENTS } from '../../webhooks/webhook.types.js';
import { IsIsoTimestamp, IsNotBlank, QueryInt } from './coercions.js';

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

  @ApiPropertyOptional({ type: Object, default: {} })
  @IsOptional()
  @IsObject()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ type: Object, default: {} })
  @IsOptional()
  @IsObject()
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

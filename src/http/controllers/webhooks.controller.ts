import { Body, Delete, Get, HttpCode, HttpException, HttpStatus, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { WebhooksService } from '../../webhooks/webhooks.service.js';
import { CreateWebhookRequestDto, ListWebhookDeliveriesQuery, UpdateWebhookRequestDto } from '../dto/webhook.dto.js';
import { DeleteResponse } from '../dto/bank-maintenance.dto.js';
import { WebhookDeliveryListResponse, WebhookListResponse, WebhookResponse } from '../dto/responses/webhooks.responses.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { toCreateWebhook, toUpdateWebhook, toWebhookDeliveryListWire, toWebhookWire } from '../wire.mapper.js';

@MemoryApiController('webhooks')
export class WebhooksController {
  constructor(@Inject(WebhooksService) private readonly webhooks: WebhooksService) {}

  @Post('banks/:bank_id/webhooks')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ operationId: 'create_webhook', summary: 'The secret is stored for signing and never returned' })
  @ApiCreatedResponse({ type: WebhookResponse })
  async create(@Param('bank_id') bankId: string, @Body() body: CreateWebhookRequestDto) {
    return toWebhookWire(await this.webhooks.create(bankId, toCreateWebhook(body)));
  }

  @Get('banks/:bank_id/webhooks')
  @ApiOperation({ operationId: 'list_webhooks' })
  @ApiOkResponse({ type: WebhookListResponse })
  async list(@Param('bank_id') bankId: string) {
    return { items: (await this.webhooks.list(bankId)).map(toWebhookWire) };
  }

  @Patch('banks/:bank_id/webhooks/:webhook_id')
  @ApiOperation({ operationId: 'update_webhook', summary: 'Only the fields present change; secret: null clears it' })
  @ApiOkResponse({ type: WebhookResponse })
  async update(@Param('bank_id') bankId: string, @Param('webhook_id') webhookId: string, @Body() body: UpdateWebhookRequestDto) {
    const update = toUpdateWebhook(body);
    if (Object.keys(update).length === 0) {
      // Hindsight's exact answer, a string detail rather than a field list.
      throw new HttpException({ detail: 'No fields provided to update' }, HttpStatus.UNPROCESSABLE_ENTITY);
    }
    return toWebhookWire(await this.webhooks.update(bankId, webhookId, update));
  }

  @Delete('banks/:bank_id/webhooks/:webhook_id')
  @ApiOperation({ operationId: 'delete_webhook' })
  @ApiOkResponse({ type: DeleteResponse })
  async delete(@Param('bank_id') bankId: string, @Param('webhook_id') webhookId: string) {
    await this.webhooks.delete(bankId, webhookId);
    return { success: true };
  }

  @Get('banks/:bank_id/webhooks/:webhook_id/deliveries')
  @ApiOperation({ operationId: 'list_webhook_deliveries', summary: 'Newest first' })
  @ApiOkResponse({ type: WebhookDeliveryListResponse })
  async deliveries(@Param('bank_id') bankId: string, @Param('webhook_id') webhookId: string, @Query() query: ListWebhookDeliveriesQuery) {
    const page = await this.webhooks.deliveries(bankId, webhookId, { limit: query.limit ?? 50, cursor: query.cursor });
    return toWebhookDeliveryListWire(page);
  }
}

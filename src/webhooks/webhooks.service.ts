import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ensureBank } from '../banks/banks.queries.js';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';
import type { ResolvedMemoryOptions } from '../memory.options.js';
import { MemoryDatabase, type Sql } from '../storage/memory-database.js';
import { isUuid } from '../storage/uuid.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhookUrlRejectedError, assertWebhookUrlAllowed } from './webhook-url-policy.js';
import {
  type ConsolidationEventData,
  type CreateWebhook,
  type RetainEventData,
  type UpdateWebhook,
  type Webhook,
  type WebhookDelivery,
  type WebhookEvent,
  type WebhookPayload,
  withDefaults,
} from './webhook.types.js';
import {
  type DeliveryRow,
  type WebhookChanges,
  countDocumentMemoryUnits,
  deleteWebhook,
  hasSubscribers,
  insertDeliveries,
  insertWebhook,
  listWebhooks,
  pageOfDeliveries,
  selectWebhook,
  toWebhook,
  updateWebhook,
} from './webhooks.queries.js';

const DEFAULT_EVENT_TYPES = ['consolidation.completed'];

/**
 * Webhooks of a bank, and the outbox their deliveries go through. `enqueue` runs inside the
 * transaction of the change it announces, so a delivery exists exactly when the change committed;
 * `WebhookDispatcher` sends it later.
 */
@Injectable()
export class WebhooksService {
  constructor(
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(WebhookDispatcher) private readonly dispatcher: WebhookDispatcher,
  ) {}

  /**
   * One delivery per enabled webhook of the bank subscribed to `event`, written on the caller's
   * connection and therefore inside its transaction. Returns how many were queued.
   */
  async enqueue(
    sql: Sql,
    bankId: string,
    event: WebhookEvent,
    operationId: string,
    status: string,
    data: Record<string, unknown>,
  ): Promise<number> {
    return this.enqueueEach(sql, bankId, event, operationId, status, [data]);
  }

  /**
   * Hindsight's `retain.completed`, in the retain's own transaction (so `memory_unit_count`
   * includes what it just wrote): one event per document, items sharing a `document_id` announced
   * once with their tags together, and one per item without a document. A sync retain has no
   * operation; it is given an id of its own, in Hindsight's form.
   */
  async announceRetain(
    sql: Sql,
    bankId: string,
    operationId: string | null,
    items: ReadonlyArray<{ documentId?: string | null; tags?: string[] | null }>,
  ): Promise<number> {
    // Counting documents is wasted on a bank nobody listens to, the common case.
    if (!(await hasSubscribers(sql, bankId, 'retain.completed'))) return 0;
    const events = new Map<string | number, { documentId: string | null; tags: string[] }>();
    items.forEach((item, index) => {
      const key = item.documentId || index;
      const event = events.get(key) ?? { documentId: item.documentId || null, tags: [] };
      for (const tag of item.tags ?? []) if (!event.tags.includes(tag)) event.tags.push(tag);
      events.set(key, event);
    });
    const documentIds = [...events.values()].flatMap((event) => (event.documentId === null ? [] : [event.documentId]));
    const counts = await countDocumentMemoryUnits(sql, bankId, documentIds);
    const data = [...events.values()].map(({ documentId, tags }): RetainEventData => ({
      ...(documentId !== null && { document_id: documentId }),
      ...(tags.length > 0 && { tags }),
      ...(documentId !== null && { memory_unit_count: counts.get(documentId) ?? 0 }),
    }));
    const id = operationId ?? randomUUID().replaceAll('-', '');
    return this.enqueueEach(sql, bankId, 'retain.completed', id, 'completed', data as Record<string, unknown>[]);
  }

  /** Hindsight's `consolidation.completed` for a finished run, in the transaction that completes its operation. */
  async announceConsolidation(
    sql: Sql,
    bankId: string,
    operationId: string,
    result: { created: number; updated: number; deleted: number },
  ): Promise<number> {
    const data: ConsolidationEventData = {
      observations_created: result.created,
      observations_updated: result.updated,
      observations_deleted: result.deleted,
    };
    return this.enqueue(sql, bankId, 'consolidation.completed', operationId, 'completed', { ...data });
  }

  private async enqueueEach(
    sql: Sql,
    bankId: string,
    event: WebhookEvent,
    operationId: string,
    status: string,
    data: Record<string, unknown>[],
  ): Promise<number> {
    const timestamp = new Date().toISOString();
    const payloads = data.map((item): WebhookPayload => ({
      event,
      bank_id: bankId,
      operation_id: operationId,
      status,
      timestamp,
      data: item,
    }));
    const affected = await insertDeliveries(sql, bankId, event, payloads);
    // This instance's dispatcher need not wait for its next poll; the others still poll.
    if (affected > 0) sql.afterCommit(() => this.dispatcher.notify());
    return affected;
  }

  async create(bankId: string, input: CreateWebhook): Promise<Webhook> {
    // The URL is vetted (and its host resolved) before any connection is taken.
    await this.vetUrl(input.url);
    const httpConfig = withDefaults(input.httpConfig, this.options.webhooks.timeoutMs);
    const row = await this.database.transaction(async (sql) => {
      await ensureBank(sql, bankId);
      return insertWebhook(sql, bankId, {
        url: input.url,
        secret: input.secret ?? null,
        eventTypes: uniqueEvents(input.eventTypes ?? DEFAULT_EVENT_TYPES),
        enabled: input.enabled ?? true,
        httpConfig,
      });
    });
    return toWebhook(row, this.options.webhooks.timeoutMs);
  }

  async list(bankId: string): Promise<Webhook[]> {
    const rows = await this.database.withConnection((sql) => listWebhooks(sql, bankId));
    return rows.map((row) => toWebhook(row, this.options.webhooks.timeoutMs));
  }

  async get(bankId: string, webhookId: string): Promise<Webhook> {
    if (!isUuid(webhookId)) throw webhookNotFound();
    const row = await this.database.withConnection((sql) => selectWebhook(sql, bankId, webhookId));
    if (!row) throw webhookNotFound();
    return toWebhook(row, this.options.webhooks.timeoutMs);
  }

  async update(bankId: string, webhookId: string, update: UpdateWebhook): Promise<Webhook> {
    if (!isUuid(webhookId)) throw webhookNotFound();
    const changes: WebhookChanges = {};
    if (update.url !== undefined) {
      await this.vetUrl(update.url);
      changes.url = update.url;
    }
    if (update.secret !== undefined) changes.secret = update.secret;
    if (update.eventTypes !== undefined) changes.eventTypes = uniqueEvents(update.eventTypes);
    if (update.enabled !== undefined) changes.enabled = update.enabled;
    if (update.httpConfig !== undefined) changes.httpConfig = withDefaults(update.httpConfig, this.options.webhooks.timeoutMs);
    if (Object.keys(changes).length === 0) throw new MemoryException(MemoryErrorCode.InvalidInput, 'No fields provided to update');
    const row = await this.database.withConnection((sql) => updateWebhook(sql, bankId, webhookId, changes));
    if (!row) throw webhookNotFound();
    return toWebhook(row, this.options.webhooks.timeoutMs);
  }

  /** Its deliveries go with it, sent or not. */
  async delete(bankId: string, webhookId: string): Promise<void> {
    if (!isUuid(webhookId)) throw webhookNotFound();
    const affected = await this.database.withConnection((sql) => deleteWebhook(sql, bankId, webhookId));
    if (affected === 0) throw webhookNotFound();
  }

  /** Newest first; `cursor` is the `created_at` of the last item of the previous page. */
  async deliveries(
    bankId: string,
    webhookId: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: WebhookDelivery[]; nextCursor: string | null }> {
    const webhook = await this.get(bankId, webhookId);
    let cursor: string | null = null;
    if (page.cursor !== undefined) {
      if (Number.isNaN(Date.parse(page.cursor))) {
        throw new MemoryException(MemoryErrorCode.InvalidInput, 'cursor must be a timestamp from next_cursor', 'cursor');
      }
      cursor = page.cursor;
    }
    const rows = await this.database.withConnection((sql) => pageOfDeliveries(sql, webhook.id, cursor, page.limit + 1));
    const items = rows.slice(0, page.limit).map((row) => toDelivery(row, webhook.url));
    return { items, nextCursor: rows.length > page.limit ? items[items.length - 1].cursor : null };
  }

  private async vetUrl(url: string): Promise<void> {
    try {
      await assertWebhookUrlAllowed(url, this.options.webhooks.allowPrivate);
    } catch (error) {
      if (error instanceof WebhookUrlRejectedError) throw new MemoryException(MemoryErrorCode.InvalidInput, error.message, 'url');
      throw error;
    }
  }
}

function toDelivery(row: DeliveryRow, url: string): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    url,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    lastError: row.last_error,
    lastResponseStatus: row.last_response_status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deliveredAt: row.delivered_at,
    cursor: row.cursor,
  };
}

function uniqueEvents(events: string[]): string[] {
  return [...new Set(events)];
}

function webhookNotFound(): MemoryException {
  return new MemoryException(MemoryErrorCode.WebhookNotFound, 'Webhook not found');
}

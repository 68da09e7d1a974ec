export const WEBHOOK_EVENTS = ['retain.completed', 'consolidation.completed', 'memory_defense.triggered'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const DELIVERY_STATUSES = ['pending', 'processing', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Hindsight's `WebhookHttpConfig`, every field filled in. */
export interface WebhookHttpConfig {
  method: 'GET' | 'POST';
  timeout_seconds: number;
  headers: Record<string, string>;
  params: Record<string, string>;
}

export interface Webhook {
  id: string;
  bankId: string;
  url: string;
  /** Held for signing; never returned by the API. */
  secret: string | null;
  eventTypes: string[];
  enabled: boolean;
  httpConfig: WebhookHttpConfig;
  createdAt: Date;
  updatedAt: Date;
}

export interface CreateWebhook {
  url: string;
  secret?: string | null;
  eventTypes?: string[];
  enabled?: boolean;
  httpConfig?: Partial<WebhookHttpConfig>;
}

/** Only the fields present are changed; `secret: null` clears the secret. */
export type UpdateWebhook = Partial<{ [K in keyof CreateWebhook]-?: Exclude<CreateWebhook[K], undefined> }> & {
  secret?: string | null;
};

/** What a receiver is sent: Hindsight's webhook payload. */
export interface WebhookPayload {
  event: string;
  bank_id: string;
  operation_id: string;
  status: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** Hindsight's `RetainEventData`; a field Hindsight would send as null is left out, as it does. */
export interface RetainEventData {
  document_id?: string;
  tags?: string[];
  /** The memory units the document owns after the retain; only with a `document_id`. */
  memory_unit_count?: number;
}

/** Hindsight's `ConsolidationEventData` of a completed run. */
export interface ConsolidationEventData {
  observations_created: number;
  observations_updated: number;
  observations_deleted: number;
}

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  url: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  lastResponseStatus: number | null;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt: Date | null;
  /** `created_at` at microsecond precision: the cursor of the next page. */
  cursor: string;
}

export function withDefaults(config: Partial<WebhookHttpConfig> | undefined, defaultTimeoutMs: number): WebhookHttpConfig {
  return {
    method: config?.method === 'GET' ? 'GET' : 'POST',
    timeout_seconds: config?.timeout_seconds ?? defaultTimeoutMs / 1000,
    headers: { ...(config?.headers ?? {}) },
    params: { ...(config?.params ?? {}) },
  };
}

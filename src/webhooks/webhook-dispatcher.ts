import { createHmac } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Agent, fetch as undiciFetch } from 'undici';
import { CallSignal } from '../external/call-signal.js';
import { ExternalCallGuard } from '../external/external-call-guard.js';
import { sharedAbortController } from '../lifecycle/shared-abort-controller.js';
import { ShutdownCoordinator, errorMessage } from '../lifecycle/shutdown-coordinator.js';
import { WakeableSleep } from '../lifecycle/wakeable-sleep.js';
import { RepeatedFailureLog } from '../logging/repeated-failure-log.js';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import type { ResolvedMemoryOptions } from '../memory.options.js';
import { MemoryDatabase } from '../storage/memory-database.js';
import { assertWebhookUrlAllowed, isInternalAddress } from './webhook-url-policy.js';
import { type WebhookHttpConfig, type WebhookPayload, withDefaults } from './webhook.types.js';
import { claimDelivery, markDelivered, recordFailedAttempt, releaseDelivery } from './webhooks.queries.js';

/** A delivery this instance holds the lease of; `leaseToken` fences every write about it. */
interface ClaimedDelivery {
  id: string;
  webhookId: string;
  eventType: string;
  payload: WebhookPayload;
  attempts: number;
  leaseToken: string;
  url: string;
  secret: string | null;
  httpConfig: WebhookHttpConfig;
  /** When the lease runs out, by this process's clock: counted from before the claim, so never late. */
  leaseEndsAt: number;
}

type SendOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'rejected'; status: number; error: string }
  | { kind: 'error'; error: string }
  | { kind: 'abandoned' };

/** How much of a response body is read (and thrown away) so the socket can be reused. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** A lease outlives the send it covers by this much, so the result is written while still ours. */
const LEASE_MARGIN_MS = 5000;
/** First pause before writing a result again that the database refused; it doubles up to the cap. */
const RECORD_RETRY_MS = 250;
const RECORD_RETRY_CAP_MS = 2000;

/**
 * Sends the outbox. Each loop claims one due delivery (`FOR UPDATE SKIP LOCKED`, a lease and a
 * fencing token, as operations are claimed), sends it with no connection held, and records the
 * result only while its token still matches: an instance that stalled past its lease writes
 * nothing, and the instance that took the delivery over owns it.
 */
@Injectable()
export class WebhookDispatcher {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly stop = new AbortController();
  /** Aborted at the shutdown deadline: in-flight sends give up and go back to pending. */
  private readonly abandon = sharedAbortController();
  private readonly inFlight = new Set<string>();
  private agent?: Agent;
  private loops: Promise<void>[] = [];
  private readonly pause = new WakeableSleep(this.stop.signal);
  private drained?: Promise<void>;

  constructor(
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
    @Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator,
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(ExternalCallGuard) private readonly guard: ExternalCallGuard,
  ) {}

  /** Called by MemoryLifecycle at stage 'webhooks'; the agent and the loops exist from here on. */
  start(): void {
    const { allowPrivate, concurrency } = this.options.webhooks;
    // The address check is repeated when the socket connects: between the pre-send lookup and
    // the connect a DNS answer may change, and only the connect-time answer is the one used.
    this.agent = new Agent({ connect: allowPrivate ? {} : { lookup: publicOnlyLookup } });
    this.coordinator.register('webhooks', 'webhook-dispatcher', (_signal, deadlineAt) => this.drain(deadlineAt));
    this.loops = Array.from({ length: concurrency }, (_, index) => this.loop(index));
  }

  /** Deliveries were queued here: look now rather than at the next poll. */
  notify(): void {
    this.pause.wake();
  }

  /** How many deliveries this instance is sending now. */
  get sending(): number {
    return this.inFlight.size;
  }

  private async loop(index: number): Promise<void> {
    const claiming = new RepeatedFailureLog(this.logger, `Webhook loop ${index}`, 'claim deliveries');
    while (!this.stop.signal.aborted) {
      let claimed: ClaimedDelivery | null = null;
      try {
        claimed = await this.claim();
        claiming.succeeded();
      } catch (error) {
        if (this.stop.signal.aborted) break;
        claiming.failed(error);
      }
      if (claimed) {
        await this.deliver(claimed).catch((error: unknown) =>
          this.logger.warn(`Delivery ${claimed!.id}: could not record the result: ${errorMessage(error)}`),
        );
        continue;
      }
      await this.pause.sleep(this.options.webhooks.pollIntervalMs);
    }
  }

  private async claim(): Promise<ClaimedDelivery | null> {
    const { leaseMs, timeoutMs } = this.options.webhooks;
    const claimedAt = Date.now();
    const row = await this.database.withConnection((sql) =>
      claimDelivery(sql, this.options.instanceId, { leaseMs, timeoutMs, marginMs: LEASE_MARGIN_MS }),
    );
    if (!row) return null;
    return {
      id: row.id,
      webhookId: row.webhook_id,
      eventType: row.event_type,
      payload: row.payload,
      attempts: row.attempts,
      leaseToken: String(row.lease_token),
      url: row.url,
      secret: row.secret,
      httpConfig: withDefaults(row.http_config, timeoutMs),
      leaseEndsAt: claimedAt + row.lease_ms,
    };
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    this.inFlight.add(delivery.id);
    try {
      const outcome = await this.send(delivery);
      await this.recordWhileLeased(delivery, outcome);
    } finally {
      this.inFlight.delete(delivery.id);
    }
  }

  /**
   * A result the database refuses (it restarted, the pool is reconnecting) is written again until
   * the lease runs out. Giving up at once would leave the delivery `processing` until its lease
   * expired and then send it again: a second copy to a receiver that already answered 200. While
   * the lease holds, nobody else sends it; past it, another instance may have, so the result is
   * dropped and the delivery is sent again (at least once, as after a crash).
   */
  private async recordWhileLeased(delivery: ClaimedDelivery, outcome: SendOutcome): Promise<void> {
    for (let pauseMs = RECORD_RETRY_MS; ; pauseMs = Math.min(pauseMs * 2, RECORD_RETRY_CAP_MS)) {
      try {
        return await this.record(delivery, outcome);
      } catch (error) {
        if (Date.now() + pauseMs >= delivery.leaseEndsAt || this.abandon.signal.aborted) throw error;
        if (pauseMs === RECORD_RETRY_MS) {
          this.logger.warn(`Delivery ${delivery.id}: could not record the result (${errorMessage(error)}); retrying while the lease lasts`);
        }
        const slept = await sleep(pauseMs, true, { signal: this.abandon.signal }).catch(() => false);
        if (!slept) throw error;
      }
    }
  }

  /** One HTTP attempt, outside any SQL scope, bounded by the webhook's timeout and the shutdown. */
  private async send(delivery: ClaimedDelivery): Promise<SendOutcome> {
    const { method, timeout_seconds: timeoutSeconds, headers, params } = delivery.httpConfig;
    const call = new CallSignal({ closed: this.abandon.signal, timeoutMs: Math.round(timeoutSeconds * 1000) });
    try {
      return await this.guard.call('webhook', delivery.eventType, async () => {
        const url = await assertWebhookUrlAllowed(delivery.url, this.options.webhooks.allowPrivate);
        for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
        const body = method === 'POST' ? JSON.stringify(delivery.payload) : '';
        const signed: Record<string, string> = { ...headers, 'Content-Type': 'application/json' };
        if (delivery.secret) signed['X-Hindsight-Signature'] = signature(delivery.secret, body);
        const response = await undiciFetch(url, {
          method,
          headers: signed,
          body: method === 'POST' ? body : undefined,
          signal: call.signal,
          dispatcher: this.agent,
          redirect: 'manual',
        });
        const excerpt = await readExcerpt(response);
        if (response.status >= 200 && response.status < 300) return { kind: 'delivered', status: response.status };
        return { kind: 'rejected', status: response.status, error: `HTTP ${response.status}${excerpt ? `: ${excerpt}` : ''}` };
      });
    } catch (error) {
      if (call.abortedBy === 'closed') return { kind: 'abandoned' };
      if (call.abortedBy === 'deadline') return { kind: 'error', error: `timed out after ${timeoutSeconds}s` };
      return { kind: 'error', error: describe(error) };
    } finally {
      call.dispose();
    }
  }

  /** Only while the lease is ours (the writes are fenced by its token). */
  private async record(delivery: ClaimedDelivery, outcome: SendOutcome): Promise<void> {
    let affected: number;
    if (outcome.kind === 'delivered') {
      affected = await this.database.withConnection((sql) => markDelivered(sql, delivery, outcome.status));
      if (affected) this.logger.log(`Delivery ${delivery.id} (${delivery.eventType}) delivered on attempt ${delivery.attempts}`);
    } else if (outcome.kind === 'abandoned') {
      affected = await this.database.withConnection((sql) => releaseDelivery(sql, delivery));
      if (affected) this.logger.log(`Delivery ${delivery.id} released for another instance at shutdown`);
    } else {
      const { maxAttempts, backoffMs } = this.options.webhooks;
      const giveUp = delivery.attempts >= maxAttempts;
      // Exponential backoff with full jitter: receivers that failed together do not retry together.
      const retryInMs = giveUp ? null : Math.random() * backoffMs * 2 ** (delivery.attempts - 1);
      affected = await this.database.withConnection((sql) =>
        recordFailedAttempt(sql, delivery, outcome.error, outcome.kind === 'rejected' ? outcome.status : null, retryInMs),
      );
      if (affected) {
        this.logger.warn(
          `Delivery ${delivery.id} (${delivery.eventType}) attempt ${delivery.attempts} failed: ${outcome.error}; ` +
            (giveUp ? 'giving up' : `retrying in ${Math.round(retryInMs!)}ms`),
        );
      }
    }
    if (!affected) this.logger.warn(`Delivery ${delivery.id}: lease lost to another instance; result discarded`);
  }

  /**
   * Stops claiming and waits for in-flight sends; near the deadline, aborts them, which puts
   * their deliveries back to pending (the fenced write above), then drops the agent's sockets.
   */
  private drain(deadlineAt: number): Promise<void> {
    this.drained ??= this.shutDown(deadlineAt);
    return this.drained;
  }

  private async shutDown(deadlineAt: number): Promise<void> {
    this.stop.abort();
    this.pause.wake();
    const everyLoop = Promise.all(this.loops);
    // Keep a slice of the budget for writing the abandoned deliveries back.
    const remaining = deadlineAt - Date.now();
    const waitMs = Math.max(0, remaining - Math.min(1000, remaining / 4));
    const timer = new AbortController();
    const finished = await Promise.race([everyLoop.then(() => true), sleep(waitMs, false, { signal: timer.signal }).catch(() => false)]);
    timer.abort();
    if (!finished) {
      this.logger.warn(`Abandoning ${this.inFlight.size} in-flight webhook deliver(ies) at the shutdown deadline`);
      this.abandon.abort(new Error('shutdown deadline'));
      await everyLoop;
    }
    await this.agent?.destroy();
  }
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`, the header Hindsight's receivers verify. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

async function readExcerpt(response: { body: ReadableStream<Uint8Array> | null }): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_RESPONSE_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, 200);
}

function describe(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const message = errorMessage(error);
  return cause instanceof Error && cause.message && cause.message !== message ? `${message}: ${cause.message}` : message;
}

/** `dns.lookup` for the agent's sockets that refuses internal addresses at connect time. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, []);
    const blocked = addresses.find((entry) => isInternalAddress(entry.address));
    if (blocked) {
      return callback(new Error(`webhook host '${hostname}' resolves to ${blocked.address}, which webhooks may not reach`), []);
    }
    if (options.all) return callback(null, addresses);
    return callback(null, addresses[0].address, addresses[0].family);
  });
};

import { createHmac, timingSafeEqual } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the receiver answers one request. */
export type ReceiverBehaviour =
  | { kind: 'status'; status: number }
  /** Never answers; the sender has to time out or give up. */
  | { kind: 'hang' }
  /** Answers `status` after `delayMs`. */
  | { kind: 'slow'; delayMs: number; status: number }
  /** Answers `status` when the test calls `releaseHeld()`: an answer that lands exactly when the test says. */
  | { kind: 'held'; status: number };

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: any;
  /** The X-Hindsight-Signature header matched the HMAC of the raw body under the receiver's secret. */
  verified: boolean;
  /** What the receiver answered (or `hang`). */
  answered: number | 'hang';
  /** `Date.now()` when the whole request had arrived; a `slow` answer leaves `delayMs` later. */
  receivedAt: number;
}

/**
 * A real webhook receiver on 127.0.0.1: it checks the HMAC of every request against its secret,
 * records every request, and answers each with the next scripted behaviour (then the default).
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  private readonly script: ReceiverBehaviour[] = [];
  private server?: Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  private held: Array<() => void> = [];
  url = '';

  constructor(
    readonly secret: string | null,
    private fallback: ReceiverBehaviour = { kind: 'status', status: 200 },
  ) {}

  /** Requests that were answered 2xx and carried a valid signature: what a consumer acted on. */
  get accepted(): ReceivedRequest[] {
    return this.requests.filter((request) => request.verified && typeof request.answered === 'number' && request.answered < 300);
  }

  answerNext(...behaviours: ReceiverBehaviour[]): this {
    this.script.push(...behaviours);
    return this;
  }

  always(behaviour: ReceiverBehaviour): this {
    this.fallback = behaviour;
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        const behaviour = this.script.shift() ?? this.fallback;
        this.requests.push({
          method: request.method ?? '',
          path: request.url ?? '',
          headers: request.headers,
          rawBody,
          body: rawBody ? JSON.parse(rawBody) : undefined,
          verified: this.verify(rawBody, request.headers['x-hindsight-signature']),
          answered: behaviour.kind === 'hang' ? 'hang' : behaviour.status,
          receivedAt: Date.now(),
        });
        if (behaviour.kind === 'hang') return;
        const answer = () => response.writeHead(behaviour.status, { 'content-type': 'text/plain' }).end(`answered ${behaviour.status}`);
        if (behaviour.kind === 'status') return answer();
        if (behaviour.kind === 'held') return void this.held.push(answer);
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          answer();
        }, behaviour.delayMs);
        this.timers.add(timer);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  /** Answers every request held so far (`held` behaviour); returns how many. */
  releaseHeld(): number {
    const answers = this.held;
    this.held = [];
    for (const answer of answers) answer();
    return answers.length;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.held = [];
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private verify(rawBody: string, header: string | string[] | undefined): boolean {
    if (this.secret === null) return header === undefined;
    if (typeof header !== 'string') return false;
    const expected = Buffer.from(`sha256=${createHmac('sha256', this.secret).update(rawBody).digest('hex')}`);
    const actual = Buffer.from(header);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
}

import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_HASHING_DIMENSION, hashingVector, wordsOf } from '../../src/external/hashing-embedder.js';
import { sharedAbortController } from '../../src/lifecycle/shared-abort-controller.js';

/**
 * An OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks: embeddings, chat
 * completions in JSON mode and a Cohere/Jina-style rerank, with latency, scripted faults and
 * gates that let a test hold a request at a known point and release it when it chooses.
 *
 *     const fake = await FakeOpenAiServer.start({ embeddingDimension: 64 });
 *     // openai client: baseURL fake.baseUrl (…/v1); reranker: baseUrl fake.url
 *     fake.fail('embeddings', { kind: 'status', status: 500 });
 *     const release = fake.pause('chat');
 *     const arrived = fake.nextRequest('chat');
 *     …
 *     await fake.close();
 */

export type FakeRoute = 'embeddings' | 'chat' | 'rerank';

export const FAKE_ROUTES: readonly FakeRoute[] = ['embeddings', 'chat', 'rerank'];

const ROUTE_OF_PATH: Record<string, FakeRoute> = {
  '/v1/embeddings': 'embeddings',
  '/v1/chat/completions': 'chat',
  '/v1/rerank': 'rerank',
};

/**
 * A scripted misbehaviour, used by the next request of its route (one fault per request, in
 * the order queued).
 *
 * - `status`: answer with this status and body (default an OpenAI-style error object).
 * - `malformed-json`: answer 200 with a body cut off in the middle of the JSON.
 * - `truncated`: a well-formed answer with too little in it: chat content cut in half with
 *   `finish_reason: 'length'`; one embedding fewer than inputs; the last document unscored.
 * - `empty`: chat content `''`; embeddings `data: []`; rerank `results: []`.
 * - `hang`: hold the request until `releaseHung()` (then answer normally) or `close()`.
 * - `stall`: send the status, the headers and half of the normal body, then hold the rest until
 *   `releaseHung()` or `close()`: a timeout that stops at the headers does not see this one.
 * - `disconnect`: destroy the socket without answering.
 */
export type FakeFault =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'malformed-json' }
  | { kind: 'truncated' }
  | { kind: 'empty' }
  | { kind: 'hang' }
  | { kind: 'stall' }
  | { kind: 'disconnect' };

export interface ReceivedRequest {
  route: FakeRoute;
  // The tests assert on whatever the client sent, so the body stays loosely typed.
  body: Record<string, any>;
  headers: IncomingHttpHeaders;
}

export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  response_format?: { type: string };
  max_tokens?: number;
  [key: string]: unknown;
}

/** Produces the assistant's content: a string is sent as is, anything else as its JSON. */
export type ChatHandler = (body: ChatRequestBody) => string | object | Promise<string | object>;

export interface FakeOpenAiServerOptions {
  /** Size of the vectors when a request names no `dimensions`. Default 384, as the hashing embedder. */
  embeddingDimension?: number;
  /** `reversed` sends `data` in reverse input order (each item keeps its true `index`). */
  embeddingOrder?: 'input' | 'reversed';
  chat?: ChatHandler;
  latencyMs?: Partial<Record<FakeRoute, number>>;
}

type RequestHook = (request: ReceivedRequest) => void;

interface Gate {
  routes: readonly FakeRoute[];
  opened: Promise<void>;
  open: () => void;
}

const DEFAULT_CHAT: ChatHandler = () => ({});

export class FakeOpenAiServer {
  embeddingDimension: number;
  embeddingOrder: 'input' | 'reversed';

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  // Every delayed answer waits on it: a slow fake with more than ten requests in flight is normal.
  private readonly closing = sharedAbortController();
  private readonly closed: Promise<void>;
  private chatHandler: ChatHandler;
  private latency: Record<FakeRoute, number>;
  private faults = emptyPerRoute<FakeFault[]>(() => []);
  private log = emptyPerRoute<ReceivedRequest[]>(() => []);
  private inFlightCount = emptyPerRoute(() => 0);
  private gates = new Set<Gate>();
  private hung = new Set<() => void>();
  private hooks = new Set<RequestHook>();
  private address?: AddressInfo;
  private connectionsAccepted = 0;

  private constructor(private readonly options: FakeOpenAiServerOptions) {
    this.embeddingDimension = options.embeddingDimension ?? DEFAULT_HASHING_DIMENSION;
    this.embeddingOrder = options.embeddingOrder ?? 'input';
    this.chatHandler = options.chat ?? DEFAULT_CHAT;
    this.latency = { ...emptyPerRoute(() => 0), ...options.latencyMs };
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.on('connection', (socket) => {
      this.connectionsAccepted += 1;
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.closed = new Promise((resolve) => this.closing.signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  static async start(options: FakeOpenAiServerOptions = {}): Promise<FakeOpenAiServer> {
    const fake = new FakeOpenAiServer(options);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.address = fake.server.address() as AddressInfo;
    return fake;
  }

  /** `http://127.0.0.1:<port>`: the reranker's base URL. */
  get url(): string {
    if (!this.address) throw new Error('FakeOpenAiServer is not listening');
    return `http://127.0.0.1:${this.address.port}`;
  }

  /** `http://127.0.0.1:<port>/v1`: the openai client's base URL. */
  get baseUrl(): string {
    return `${this.url}/v1`;
  }

  // --- behaviour -------------------------------------------------------------------------------

  setLatency(route: FakeRoute | 'all', ms: number): void {
    for (const each of routesOf(route)) this.latency[each] = ms;
  }

  onChat(handler: ChatHandler): void {
    this.chatHandler = handler;
  }

  /** Queues faults for the next requests of the route, one per request. */
  fail(route: FakeRoute, ...faults: FakeFault[]): void {
    this.faults[route].push(...faults);
  }

  /**
   * Holds every request of the route (or of all routes) that arrives from now on, after it has
   * been counted and logged and before it is answered, until the returned function is called.
   */
  pause(route: FakeRoute | 'all' = 'all'): () => void {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const gate: Gate = { routes: routesOf(route), opened, open };
    this.gates.add(gate);
    return () => {
      this.gates.delete(gate);
      gate.open();
    };
  }

  /** Lets every request held by a `hang` or a `stall` fault go on to a normal answer. */
  releaseHung(): void {
    for (const release of [...this.hung]) release();
  }

  /**
   * Back to the options given at start, with no faults, gates, hooks or log: for a server shared
   * by the tests of a file. Requests still in flight are let through.
   */
  reset(): void {
    const options = this.options;
    for (const gate of this.gates) gate.open();
    this.gates.clear();
    this.releaseHung();
    this.hooks.clear();
    this.faults = emptyPerRoute(() => []);
    this.log = emptyPerRoute(() => []);
    this.latency = { ...emptyPerRoute(() => 0), ...options.latencyMs };
    this.chatHandler = options.chat ?? DEFAULT_CHAT;
    this.embeddingDimension = options.embeddingDimension ?? DEFAULT_HASHING_DIMENSION;
    this.embeddingOrder = options.embeddingOrder ?? 'input';
  }

  // --- observation -----------------------------------------------------------------------------

  /** Requests received on the route (or on all), whether answered, faulted or still waiting. */
  requestCount(route?: FakeRoute): number {
    return routesOf(route ?? 'all').reduce((sum, each) => sum + this.log[each].length, 0);
  }

  /** Requests received and not yet answered or abandoned by the client. */
  inFlight(route?: FakeRoute): number {
    return routesOf(route ?? 'all').reduce((sum, each) => sum + this.inFlightCount[each], 0);
  }

  /** TCP connections currently open to the server, idle keep-alive ones included. */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** TCP connections accepted since start: far fewer than requests when clients keep them alive. */
  get acceptedConnections(): number {
    return this.connectionsAccepted;
  }

  /** The requests received on the route, oldest first. */
  received(route: FakeRoute): ReceivedRequest[] {
    return [...this.log[route]];
  }

  /** Called for each request as it arrives, before gates, latency and faults; returns an unsubscribe. */
  onRequest(hook: RequestHook): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  /** Resolves when the next request of the route arrives (already held there if it is paused). */
  nextRequest(route: FakeRoute): Promise<ReceivedRequest> {
    return new Promise((resolve) => {
      const unsubscribe = this.onRequest((request) => {
        if (request.route !== route) return;
        unsubscribe();
        resolve(request);
      });
    });
  }

  /** Stops listening and destroys every open socket, so nothing outlives the test. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await stopped;
  }

  // --- request handling ------------------------------------------------------------------------

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const route = ROUTE_OF_PATH[(request.url ?? '').split('?')[0]];
    if (!route) return sendError(response, 404, `no route for ${request.method} ${request.url}`);
    if (request.method !== 'POST') return sendError(response, 405, `${request.url} takes POST`);
    let body: Record<string, any>;
    try {
      body = JSON.parse(await readBody(request));
    } catch {
      return sendError(response, 400, 'request body is not JSON');
    }

    const received: ReceivedRequest = { route, body, headers: request.headers };
    this.log[route].push(received);
    this.inFlightCount[route] += 1;
    response.once('close', () => (this.inFlightCount[route] -= 1));
    const fault = this.faults[route].shift();
    // Gates closed at arrival hold this request; a pause() issued later does not reach back.
    const gates = [...this.gates].filter((gate) => gate.routes.includes(route));
    // Held from arrival, so that `releaseHung()` called as soon as the test sees the request
    // still finds it, however far it has got through gates and latency.
    const hold = fault?.kind === 'hang' || fault?.kind === 'stall' ? this.hold() : undefined;
    hold?.catch(() => undefined); // rejected by close(), possibly before anyone awaits it
    for (const hook of [...this.hooks]) hook(received);

    try {
      await this.passGates(gates);
      if (this.latency[route] > 0) await sleep(this.latency[route], undefined, { signal: this.closing.signal });
      if (fault?.kind === 'hang') await hold;
    } catch {
      return; // closing: the socket is being destroyed
    }
    if (this.closing.signal.aborted || response.destroyed) return;

    try {
      await this.answer(route, body, fault, hold, response);
    } catch (error) {
      if (!response.headersSent) sendError(response, 500, `fake server: ${(error as Error).message}`);
    }
  }

  private async passGates(gates: Gate[]): Promise<void> {
    if (gates.length === 0) return;
    await Promise.race([Promise.all(gates.map((gate) => gate.opened)), this.closed]);
    if (this.closing.signal.aborted) throw new Error('closing');
  }

  /** Resolves on `releaseHung()`, rejects on `close()`. */
  private async hold(): Promise<void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    this.hung.add(release);
    try {
      await Promise.race([released, this.closed]);
    } finally {
      this.hung.delete(release);
    }
    if (this.closing.signal.aborted) throw new Error('closing');
  }

  private async answer(
    route: FakeRoute,
    body: Record<string, any>,
    fault: FakeFault | undefined,
    hold: Promise<void> | undefined,
    response: ServerResponse,
  ) {
    switch (fault?.kind) {
      case 'status':
        return sendJson(response, fault.status, fault.body ?? openAiError(`scripted ${fault.status}`), fault.headers);
      case 'malformed-json':
        return sendRaw(response, 200, '{"object": "list", "data": [{"object": "embedd');
      case 'disconnect':
        response.socket?.destroy();
        return;
    }
    const shape = fault?.kind === 'truncated' || fault?.kind === 'empty' ? fault.kind : 'complete';
    const reply = await this.replyTo(route, body, shape);
    if (fault?.kind === 'stall' && hold) return this.sendStalled(response, reply, hold);
    sendJson(response, reply.status, reply.payload);
  }

  private async replyTo(route: FakeRoute, body: Record<string, any>, shape: AnswerShape): Promise<Reply> {
    switch (route) {
      case 'embeddings':
        return this.embeddingsReply(body, shape);
      case 'chat':
        return this.chatReply(body as ChatRequestBody, shape);
      case 'rerank':
        return rerankReply(body, shape);
    }
  }

  private async sendStalled(response: ServerResponse, reply: Reply, hold: Promise<void>): Promise<void> {
    const text = JSON.stringify(reply.payload);
    const half = Math.floor(text.length / 2);
    response.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.write(text.slice(0, half));
    try {
      await hold;
    } catch {
      return; // closing: the socket is being destroyed
    }
    if (!response.destroyed) response.end(text.slice(half));
  }

  private embeddingsReply(body: Record<string, any>, shape: AnswerShape): Reply {
    const inputs: unknown[] = Array.isArray(body.input) ? body.input : [body.input];
    if (!inputs.every((input) => typeof input === 'string')) {
      return { status: 400, payload: openAiError('this fake embeds strings only') };
    }
    const dimension = typeof body.dimensions === 'number' ? body.dimensions : this.embeddingDimension;
    const base64 = body.encoding_format === 'base64';
    let data = (inputs as string[]).map((text, index) => {
      const vector = hashingVector(text, dimension);
      return { object: 'embedding', index, embedding: base64 ? toBase64Floats(vector) : vector };
    });
    if (shape === 'truncated') data = data.slice(0, -1);
    if (shape === 'empty') data = [];
    if (this.embeddingOrder === 'reversed') data.reverse();
    const tokens = (inputs as string[]).reduce((sum, text) => sum + wordsOf(text).length, 0);
    return {
      status: 200,
      payload: { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } },
    };
  }

  private async chatReply(body: ChatRequestBody, shape: AnswerShape): Promise<Reply> {
    const reply = await this.chatHandler(body);
    let content = typeof reply === 'string' ? reply : JSON.stringify(reply);
    let finishReason = 'stop';
    if (shape === 'truncated') {
      content = content.slice(0, Math.floor(content.length / 2));
      finishReason = 'length';
    }
    if (shape === 'empty') content = '';
    const promptTokens = body.messages.reduce((sum, message) => sum + wordsOf(String(message.content)).length, 0);
    const completionTokens = wordsOf(content).length;
    return {
      status: 200,
      payload: {
        id: `chatcmpl-fake-${this.log.chat.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal: null },
            finish_reason: finishReason,
            logprobs: null,
          },
        ],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      },
    };
  }
}

interface Reply {
  status: number;
  payload: unknown;
}

type AnswerShape = 'complete' | 'truncated' | 'empty';

/** Share of the query's distinct words that the document contains, best first. */
function rerankReply(body: Record<string, any>, shape: AnswerShape): Reply {
  const documents: unknown[] = Array.isArray(body.documents) ? body.documents : [];
  const texts = documents.map((document) =>
    typeof document === 'string' ? document : String((document as { text?: unknown })?.text ?? ''),
  );
  const queryWords = new Set(wordsOf(String(body.query ?? '')));
  let results = texts
    .map((text, index) => {
      const documentWords = new Set(wordsOf(text));
      const shared = [...queryWords].filter((word) => documentWords.has(word)).length;
      return { index, relevance_score: queryWords.size === 0 ? 0 : shared / queryWords.size };
    })
    .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index);
  if (typeof body.top_n === 'number') results = results.slice(0, body.top_n);
  if (shape === 'truncated') results = results.filter((result) => result.index !== texts.length - 1);
  if (shape === 'empty') results = [];
  return { status: 200, payload: { id: 'rerank-fake', results, meta: { billed_units: { search_units: 1 } } } };
}

function toBase64Floats(vector: number[]): string {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function openAiError(message: string): object {
  return { error: { message, type: 'fake_error', param: null, code: null } };
}

function sendError(response: ServerResponse, status: number, message: string): void {
  sendJson(response, status, openAiError(message));
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendRaw(response, status, JSON.stringify(body), headers);
}

function sendRaw(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (response.destroyed) return;
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

function routesOf(route: FakeRoute | 'all'): readonly FakeRoute[] {
  return route === 'all' ? FAKE_ROUTES : [route];
}

function emptyPerRoute<T>(make: () => T): Record<FakeRoute, T> {
  return { embeddings: make(), chat: make(), rerank: make() };
}

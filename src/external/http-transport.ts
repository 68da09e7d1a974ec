import { Logger } from '@nestjs/common';
import { Agent, fetch as undiciFetch } from 'undici';
import { sharedAbortController } from '../lifecycle/shared-abort-controller.js';

/** The `fetch` shape the openai client and the reranker call. */
export type HttpFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Raised into every in-flight and later call once the transport is closed. */
export class TransportClosedError extends Error {
  constructor() {
    super('AI client HTTP transport is closed');
    this.name = 'TransportClosedError';
  }
}

/**
 * The keep-alive connection pool that every AI client shares, and the signal that ends their
 * calls when it closes.
 *
 * undici's own `fetch` is paired with undici's own `Agent` rather than handing the agent to the
 * global `fetch`: Node bundles a private undici whose version drifts from the npm one, and a
 * dispatcher crossing that boundary is not a supported contract.
 */
export class HttpTransport {
  private readonly logger = new Logger(HttpTransport.name);
  private readonly agent = new Agent();
  private readonly closing = sharedAbortController();
  private closed?: Promise<void>;

  readonly fetch: HttpFetch = async (input, init) => {
    if (this.closing.signal.aborted) throw new TransportClosedError();
    try {
      // The global and the undici Request/Response types describe the same classes, but were
      // declared by two packages, so TypeScript cannot see that they line up.
      return (await undiciFetch(input as Parameters<typeof undiciFetch>[0], {
        ...(init as Parameters<typeof undiciFetch>[1]),
        dispatcher: this.agent,
      })) as unknown as Response;
    } catch (error) {
      throw sameRealmError(error);
    }
  };

  /** Aborted when `close()` begins; each call links it into its own signal. */
  get closedSignal(): AbortSignal {
    return this.closing.signal;
  }

  /**
   * Aborts in-flight calls, then drops every socket. Aborting first matters: a call whose socket
   * is merely destroyed looks like a network error to the openai client, which would retry it.
   */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    this.closing.abort(new TransportClosedError());
    await this.agent.destroy(new TransportClosedError());
    this.logger.log('AI client HTTP agent closed');
  }
}

/**
 * An aborted fetch rejects with a `DOMException`, which in another realm than the caller's (a
 * jest VM context, for one) is not `instanceof Error`; the openai client then loses its name and
 * reports its own timeout as a connection failure. Re-creating it here keeps `AbortError` an
 * `AbortError` everywhere; in the common case the error already is an `Error` and passes as is.
 */
function sameRealmError(error: unknown): unknown {
  if (error instanceof Error || typeof error !== 'object' || error === null) return error;
  const { name, message } = error as { name?: unknown; message?: unknown };
  const copy = new Error(typeof message === 'string' ? message : String(error), { cause: error });
  if (typeof name === 'string') copy.name = name;
  return copy;
}

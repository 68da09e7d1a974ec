/** What a host passes to `MemoryHttpModule.forRoot()`. */
export interface MemoryHttpOptions {
  /**
   * When set, every route but the health probes and `/version` needs `Authorization: Bearer <key>`
   * (or the raw key). Unset: the API is open, as Hindsight is without an auth extension.
   */
  apiKey?: string;
  /**
   * Serve the memory console (a browser UI over this API) at `/ui`. Off unless asked for, so a host
   * gets no extra routes by surprise; the standalone server turns it on (`MEMORY_CONSOLE_ENABLED`).
   * The page itself is served without the key; every call it makes needs it.
   */
  console?: boolean;
}

export const MEMORY_HTTP_OPTIONS = Symbol('MEMORY_HTTP_OPTIONS');

/** Where Hindsight serves its v1 API; its client builds every URL on it. */
export const API_PREFIX = 'v1/default';

/** Default of `MEMORY_MAX_BODY_BYTES`: 10 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

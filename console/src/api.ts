/**
 * Every data call of the console goes through here: the static shell holds no data, so the v1 API
 * and its key guard decide what the browser may see. The key lives in sessionStorage so it is gone
 * with the tab and never lands in a URL or a log.
 */

const KEY_STORAGE = 'nestjs-memory.apiKey';

export class ApiError extends Error {
  status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export type QueryValue = string | number | boolean | undefined | null;

export interface ApiFetchInit {
  method?: string;
  body?: unknown;
  query?: Record<string, QueryValue>;
  signal?: AbortSignal;
}

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** The shell subscribes to show the API-key form whenever the server answers 401. */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function storedApiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function storeApiKey(key: string | null): void {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage refused (private mode quotas): the key then lasts only until the next 401.
  }
}

export function buildUrl(path: string, query?: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === '') continue;
    params.append(name, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

export async function apiFetch<T>(path: string, init: ApiFetchInit = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const key = storedApiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(buildUrl(path, init.query), {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: init.signal,
  });
  const text = await response.text();
  const payload = parseJson(text);
  if (!response.ok) {
    if (response.status === 401) for (const listener of unauthorizedListeners) listener();
    throw new ApiError(response.status, errorMessage(payload, response));
  }
  return payload as T;
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The server says what was wrong in `detail` (Hindsight's shape) or `message` (Nest's). */
function errorMessage(payload: unknown, response: Response): string {
  if (payload && typeof payload === 'object') {
    const { detail, message } = payload as { detail?: unknown; message?: unknown };
    for (const candidate of [detail, message]) {
      if (typeof candidate === 'string' && candidate) return candidate;
      if (Array.isArray(candidate) && candidate.length) return candidate.map(describe).join('; ');
    }
  }
  if (typeof payload === 'string' && payload.trim()) return payload.trim().slice(0, 300);
  return `${response.status} ${response.statusText || 'request failed'}`;
}

function describe(item: unknown): string {
  if (typeof item === 'string') return item;
  if (item && typeof item === 'object' && 'msg' in item) {
    const { msg, loc } = item as { msg: unknown; loc?: unknown };
    return Array.isArray(loc) ? `${loc.join('.')}: ${String(msg)}` : String(msg);
  }
  return JSON.stringify(item);
}

/** `/v1/default/banks/<id>` + rest, with the id encoded once, here. */
export function bankPath(bankId: string, rest = ''): string {
  return `/v1/default/banks/${encodeURIComponent(bankId)}${rest}`;
}

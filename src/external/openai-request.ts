import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { CallSignal, withCallSignal } from './call-signal.js';
import type { ExternalClientKind } from './external-call-guard.js';
import { ExternalFailureCode, ExternalServiceError } from './external-errors.js';
import type { HttpTransport } from './http-transport.js';

export const OPENAI_PROVIDER = 'openai';

const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * Local OpenAI-compatible servers (Ollama, vLLM, llama.cpp) need no key, but the openai client
 * refuses to start without one, and would otherwise read `OPENAI_API_KEY` behind the back of the
 * module's one configuration reader.
 */
const KEYLESS = 'no-key';

const PER_ATTEMPT_SLACK_MS = 100;

export interface OpenAiConnectionSettings {
  /** Including the version segment, as the openai client expects: `http://host:port/v1`. */
  baseUrl?: string;
  apiKey?: string;
  /** Per attempt, up to the response headers: the openai client's own timeout. */
  timeoutMs: number;
  maxRetries: number;
}

export function createOpenAiClient(settings: OpenAiConnectionSettings, transport: HttpTransport): OpenAI {
  return new OpenAI({
    apiKey: settings.apiKey ?? KEYLESS,
    baseURL: settings.baseUrl ?? OPENAI_BASE_URL,
    timeout: settings.timeoutMs,
    maxRetries: settings.maxRetries,
    fetch: transport.fetch,
  });
}

export interface OpenAiCall {
  client: ExternalClientKind;
  operation: string;
  settings: OpenAiConnectionSettings;
  transport: HttpTransport;
  signal?: AbortSignal;
}

/**
 * Runs one openai request and turns every way it can fail into an `ExternalServiceError`.
 *
 * The openai client's timeout stops at the response headers and starts again on each retry, so
 * a server that stalls in the middle of a body would hang the caller for ever; the call signal
 * bounds the whole call, retries and backoff included.
 */
export function requestOpenAi<T>(call: OpenAiCall, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timeoutMs = wholeCallBudgetMs(call.settings);
  return withCallSignal({ caller: call.signal, closed: call.transport.closedSignal, timeoutMs }, async (callSignal) => {
    try {
      return await request(callSignal.signal);
    } catch (error) {
      throw translateFailure(error, call, callSignal, timeoutMs);
    }
  });
}

/**
 * Every attempt's timeout plus the openai client's longest backoff between attempts, and a little
 * slack per attempt so that, when a server does not answer at all, the openai client's own
 * timeout fires first and the error says so per attempt.
 */
export function wholeCallBudgetMs({ timeoutMs, maxRetries }: OpenAiConnectionSettings): number {
  let budget = (timeoutMs + PER_ATTEMPT_SLACK_MS) * (maxRetries + 1);
  for (let retry = 0; retry < maxRetries; retry++) budget += Math.min(500 * 2 ** retry, 8000);
  return budget;
}

function translateFailure(error: unknown, call: OpenAiCall, callSignal: CallSignal, budgetMs: number): unknown {
  if (error instanceof ExternalServiceError) return error;
  const failed = (code: ExternalFailureCode, detail: string, status?: number) =>
    new ExternalServiceError(call.client, OPENAI_PROVIDER, call.operation, code, detail, status, { cause: error });
  switch (callSignal.abortedBy) {
    case 'closed':
      return failed('closed', 'the AI clients were closed during the call');
    case 'caller':
      return failed('aborted', 'aborted by the caller');
    case 'deadline':
      return failed('timeout', `no complete answer within ${budgetMs}ms, retries included`);
  }
  if (error instanceof APIConnectionTimeoutError) {
    const attempts = call.settings.maxRetries + 1;
    return failed('timeout', `no response within ${call.settings.timeoutMs}ms (${attempts} attempt${attempts === 1 ? '' : 's'})`);
  }
  if (error instanceof APIUserAbortError) return failed('aborted', 'aborted');
  if (error instanceof APIConnectionError) return failed('network', connectionFailureDetail(error));
  if (error instanceof APIError) return failed('http', error.message, error.status);
  // The client parses a 2xx body as JSON; a proxy's HTML page or a cut-off body ends up here.
  if (error instanceof SyntaxError) return failed('bad-response', `response body is not JSON: ${error.message}`);
  return error;
}

function connectionFailureDetail(error: APIConnectionError): string {
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const root = cause?.cause instanceof Error ? cause.cause : cause;
  return root ? `${error.message} (${root.message})` : error.message;
}

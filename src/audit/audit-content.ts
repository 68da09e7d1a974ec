/**
 * What an entry keeps of a request and its answer. By default the ids and counts that say what
 * was done to which thing, never the text that was written: an audit log outlives the deletes
 * that are meant to remove a memory. `includeContent` keeps the bodies too. Secrets never stay.
 */

type Json = Record<string, unknown>;

const SECRET_KEY = /(^|_)(secret|password|api_?key|authorization|token|credentials?)$/i;
const REDACTED = '[redacted]';
/** Top-level fields of an answer that identify or count what a request touched. */
const IDENTIFYING_KEY = /(^id$|_id$|_ids$|_count$|^count$|^success$|^deleted$|^created$|^updated$|^status$)/;

export interface AuditedRequest {
  params: Record<string, unknown>;
  query: Json;
  body: unknown;
}

export function describeRequest(request: AuditedRequest, includeContent: boolean): Json {
  const described: Json = {};
  const params = Object.fromEntries(Object.entries(request.params).filter(([key]) => key !== 'bank_id'));
  if (Object.keys(params).length) described.params = params;
  if (Object.keys(request.query).length) described.query = redacted(request.query);
  const body = request.body;
  if (!isObject(body)) return described;
  if (includeContent) {
    described.body = redacted(body);
    return described;
  }
  described.fields = Object.keys(body).sort();
  const items = body.items;
  if (Array.isArray(items)) {
    described.item_count = items.length;
    const documentIds = items.flatMap((item) => (isObject(item) && typeof item.document_id === 'string' ? [item.document_id] : []));
    if (documentIds.length) described.document_ids = [...new Set(documentIds)];
  }
  return described;
}

export function describeResponse(body: unknown, includeContent: boolean): Json | null {
  if (!isObject(body)) return null;
  if (includeContent) return redacted(body) as Json;
  const kept = Object.entries(body).filter(([key, value]) => IDENTIFYING_KEY.test(key) && isIdentifying(value));
  return kept.length ? Object.fromEntries(kept) : null;
}

/** A tool's arguments, described as a request body is. */
export function describeToolArguments(args: Json, includeContent: boolean): Json {
  return describeRequest({ params: {}, query: {}, body: args }, includeContent);
}

function redacted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redacted);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => {
      // A webhook's `http_config.headers` carries whatever the caller authenticates with.
      if (SECRET_KEY.test(key) || key === 'headers') return [key, inner === null || inner === undefined ? inner : REDACTED];
      return [key, redacted(inner)];
    }),
  );
}

function isIdentifying(value: unknown): boolean {
  if (Array.isArray(value)) return value.every((item) => typeof item === 'string' || typeof item === 'number');
  return ['string', 'number', 'boolean'].includes(typeof value);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import path from 'node:path';

export type DatabaseTarget = { kind: 'postgres'; key: string; url: string } | { kind: 'pglite'; key: string; dataDir?: string };

const POSTGRES_SCHEMES = new Set(['postgres:', 'postgresql:', 'pg:']);
const PGLITE_SCHEMES = new Set(['pglite:', 'pglite+file:']);
const IN_MEMORY_HOST = 'memory';

export class InvalidDatabaseUrlError extends Error {
  constructor(url: string, reason: string) {
    super(`Invalid database URL '${redactDatabaseUrl(url)}': ${reason}`);
  }
}

/**
 * Maps every spelling of one database to one key, so the registry creates one DataSource per
 * database and not one per spelling (docs/ARCHITECTURE.md, "Invariant 3"). Two URLs that differ only in scheme alias,
 * host case, an explicit default port, the order of query parameters or a trailing slash
 * name the same database.
 *
 * `pglite://memory` (optionally `pglite://memory/<name>`) is an in-memory database;
 * `pglite:///abs/dir` and `pglite://./rel/dir` are on-disk directories, resolved against the
 * working directory so that relative and absolute spellings meet.
 */
export function parseDatabaseUrl(raw: string): DatabaseTarget {
  const trimmed = raw.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(trimmed)?.[0].toLowerCase();
  if (!scheme) throw new InvalidDatabaseUrlError(raw, 'no scheme (expected postgres:// or pglite://)');
  if (PGLITE_SCHEMES.has(scheme)) return parsePglite(raw, trimmed.slice(scheme.length));
  if (POSTGRES_SCHEMES.has(scheme)) return parsePostgres(raw, 'postgres:' + trimmed.slice(scheme.length));
  throw new InvalidDatabaseUrlError(raw, `unsupported scheme '${scheme}' (expected postgres:// or pglite://)`);
}

function parsePglite(raw: string, rest: string): DatabaseTarget {
  const location = rest.replace(/^\/\//, '');
  const [hostPart, ...pathParts] = location.split('/');
  if (location === '' || hostPart.toLowerCase() === IN_MEMORY_HOST) {
    const name = pathParts.filter(Boolean).join('/');
    return { kind: 'pglite', key: `pglite://memory${name ? '/' + name : ''}` };
  }
  // `pglite:///abs` leaves a leading slash; `pglite://./rel` and `pglite://rel` are relative.
  const dataDir = path.resolve(location.split('?')[0]).replace(/\/+$/, '');
  if (!dataDir) throw new InvalidDatabaseUrlError(raw, 'empty PGlite directory');
  return { kind: 'pglite', key: `pglite://${dataDir}`, dataDir };
}

function parsePostgres(raw: string, withCanonicalScheme: string): DatabaseTarget {
  let parsed: URL;
  try {
    parsed = new URL(withCanonicalScheme);
  } catch {
    throw new InvalidDatabaseUrlError(raw, 'not a URL');
  }
  if (!parsed.hostname) throw new InvalidDatabaseUrlError(raw, 'no host');
  const host = parsed.hostname.toLowerCase();
  const port = parsed.port || '5432';
  const database = decodeURIComponent(parsed.pathname.replace(/^\/+|\/+$/g, ''));
  const credentials = parsed.username ? `${parsed.username}${parsed.password ? ':' + parsed.password : ''}@` : '';
  const params = [...parsed.searchParams.entries()].sort(([a], [b]) => a.localeCompare(b));
  const query = params.length ? '?' + new URLSearchParams(params).toString() : '';
  const url = `postgres://${credentials}${host}:${port}/${encodeURIComponent(database)}${query}`;
  return { kind: 'postgres', key: url, url };
}

/** For logs and errors: a URL with its password replaced. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

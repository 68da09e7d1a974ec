import path from 'node:path';
import { parseDatabaseUrl, redactDatabaseUrl } from '../../src/storage/database-url.js';

describe('parseDatabaseUrl', () => {
  it.each([
    ['postgres://u:p@db.example.com:5432/memory'],
    ['postgresql://u:p@db.example.com:5432/memory'],
    ['pg://u:p@db.example.com/memory'],
    ['POSTGRES://u:p@DB.Example.COM/memory/'],
    ['postgres://u:p@db.example.com:5432/memory/'],
  ])('gives %s the same key as its canonical spelling', (url) => {
    expect(parseDatabaseUrl(url).key).toBe('postgres://u:p@db.example.com:5432/memory');
  });

  it('ignores the order of query parameters but not their values', () => {
    const a = parseDatabaseUrl('postgres://h/db?sslmode=disable&application_name=x').key;
    const b = parseDatabaseUrl('postgres://h/db?application_name=x&sslmode=disable').key;
    const c = parseDatabaseUrl('postgres://h/db?application_name=y&sslmode=disable').key;
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('keeps different ports, databases and users apart', () => {
    const keys = new Set(
      ['postgres://u@h:5432/a', 'postgres://u@h:5433/a', 'postgres://u@h:5432/b', 'postgres://v@h:5432/a'].map(
        (url) => parseDatabaseUrl(url).key,
      ),
    );
    expect(keys.size).toBe(4);
  });

  it('resolves relative and absolute PGlite directories to one key', () => {
    const absolute = path.resolve('.data/x');
    expect(parseDatabaseUrl('pglite://./.data/x').key).toBe(`pglite://${absolute}`);
    expect(parseDatabaseUrl(`pglite://${absolute}/`).key).toBe(`pglite://${absolute}`);
    expect(parseDatabaseUrl('pglite://./.data/x')).toMatchObject({ kind: 'pglite', dataDir: absolute });
  });

  it('treats pglite://memory as in-memory, with optional names', () => {
    expect(parseDatabaseUrl('pglite://memory')).toEqual({ kind: 'pglite', key: 'pglite://memory' });
    expect(parseDatabaseUrl('PGLITE://MEMORY/a/')).toEqual({ kind: 'pglite', key: 'pglite://memory/a' });
  });

  it.each([
    ['mysql://h/db', /unsupported scheme 'mysql:'/],
    ['localhost:5432', /unsupported scheme|no scheme/],
    ['not a url', /no scheme/],
  ])('rejects %s with a clear error', (url, message) => {
    expect(() => parseDatabaseUrl(url)).toThrow(message);
  });

  it('never puts a password in an error or log line', () => {
    expect(redactDatabaseUrl('postgres://user:secret@h/db')).toBe('postgres://user:***@h/db');
    expect(() => parseDatabaseUrl('mysql://user:secret@h/db')).toThrow(/^(?!.*secret)/);
  });
});

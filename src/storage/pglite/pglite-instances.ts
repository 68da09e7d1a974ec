import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite, type PGliteOptions, types } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

interface Entry {
  refs: number;
  instance: Promise<PGlite>;
}

/**
 * One PGlite per database key in the whole process, shared by reference count.
 *
 * A PGlite directory opened twice is two Postgres processes writing one data directory, and two
 * in-memory instances under one URL would be two databases under one name; so even two
 * `MemoryModule`s of one process (each with its own registry) must share the instance.
 */
const instances = new Map<string, Entry>();

/**
 * The instance of `key`, created on first use. `sharedBuffers` (PostgreSQL's size syntax, such as
 * `512MB`) sizes a new instance's buffer pool, by default the one its location calls for; an
 * instance already open keeps the pool it was created with.
 */
export async function openPglite(
  key: string,
  dataDir: string | undefined,
  sharedBuffers: string = defaultSharedBuffers(dataDir),
): Promise<PGlite> {
  let entry = instances.get(key);
  if (!entry) {
    const instance = createPglite(dataDir, pgliteOptions(sharedBuffers));
    entry = { refs: 0, instance };
    instances.set(key, entry);
    const created = entry;
    instance.catch(() => {
      if (instances.get(key) === created) instances.delete(key);
    });
  }
  entry.refs += 1;
  try {
    return await entry.instance;
  } catch (error) {
    entry.refs -= 1;
    throw error;
  }
}

export async function closePglite(key: string): Promise<void> {
  const entry = instances.get(key);
  if (!entry) return;
  entry.refs -= 1;
  if (entry.refs > 0) return;
  instances.delete(key);
  const instance = await entry.instance.catch(() => undefined);
  if (instance && !instance.closed) await instance.close();
}

/**
 * A freshly initialised cluster, copied into every new database after the first. Creating a
 * PGlite runs `initdb` in WebAssembly (about 4 s on two cores); loading the image of one that ran
 * takes about 1.4 s. The image is kept in the process and in the system's temporary directory,
 * keyed by the PGlite and pgvector versions, so that a host that opens in-memory databases often
 * (its own test files, each in a fresh module registry, or child processes) pays `initdb` once
 * per machine. Gzipped, it is about 4.5 MB. A file that cannot be read or loaded is ignored and
 * replaced; nothing of a database is ever in it, only what `initdb` wrote.
 *
 * A new data directory on disk starts from the image too when one is kept (a first `npm start`
 * on a machine that ran the tests), but never makes one: its first start would pay for a dump
 * it does not need.
 */
let freshClusterImage: Promise<Blob | undefined> | undefined;

async function createPglite(dataDir: string | undefined, options: PGliteOptions): Promise<PGlite> {
  if (dataDir) return openDataDir(dataDir, options);
  const loaded = await loadFreshCluster(undefined, options);
  if (loaded) return loaded;
  const instance = await PGlite.create(options);
  // Taken before anyone has used the instance, so the image is the bare cluster initdb made.
  const made = instance.dumpDataDir('gzip').then(
    async (dump) => {
      await writeImageFile(dump);
      return dump;
    },
    () => undefined,
  );
  freshClusterImage = made;
  await made;
  return instance;
}

async function openDataDir(dataDir: string, options: PGliteOptions): Promise<PGlite> {
  await mkdir(dataDir, { recursive: true });
  // Only an empty directory is a new cluster: anything else is a database to resume, or not ours.
  if ((await readdir(dataDir)).length === 0) {
    const loaded = await loadFreshCluster(dataDir, options);
    if (loaded) return loaded;
  }
  return PGlite.create({ dataDir, ...options });
}

/** A new cluster from the kept image, or `undefined` (no image, or a broken one, now dropped). */
async function loadFreshCluster(dataDir: string | undefined, options: PGliteOptions): Promise<PGlite | undefined> {
  freshClusterImage ??= readImageFile();
  const image = await freshClusterImage;
  if (!image) return undefined;
  try {
    return await PGlite.create({ dataDir, loadDataDir: image, ...options });
  } catch {
    freshClusterImage = undefined;
    await rm(imageFile(), { force: true }).catch(() => undefined);
    // What a broken image left in a new directory would be resumed as a cluster: initdb starts clean.
    if (dataDir) await emptyDirectory(dataDir);
    return undefined;
  }
}

async function emptyDirectory(directory: string): Promise<void> {
  for (const entry of await readdir(directory)) await rm(path.join(directory, entry), { recursive: true, force: true });
}

/** Where the image is kept between processes (exported for the test that corrupts it). */
export function imageFile(): string {
  const require = createRequire(import.meta.url);
  const versionOf = (name: string) => {
    const manifest = path.join(path.dirname(require.resolve(name)), '..', 'package.json');
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  };
  const key = `pglite-${versionOf('@electric-sql/pglite')}-pgvector-${versionOf('@electric-sql/pglite-pgvector')}`;
  return path.join(tmpdir(), 'nestjs-memory', `${key}-fresh-cluster.tgz`);
}

async function readImageFile(): Promise<Blob | undefined> {
  try {
    return new Blob([await readFile(imageFile())]);
  } catch {
    return undefined;
  }
}

/** Written under a name of its own, then renamed: a reader sees the whole file or none. */
async function writeImageFile(image: Blob): Promise<void> {
  const target = imageFile();
  const partial = `${target}.${process.pid}.${randomUUID()}`;
  try {
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(partial, Buffer.from(await image.arrayBuffer()));
    await rename(partial, target);
  } catch {
    // A read-only or full temporary directory costs the next process an initdb, nothing more.
    await rm(partial, { force: true }).catch(() => undefined);
  }
}

/**
 * PostgreSQL's default of 128MB is sized for a server that leaves the rest of the machine to the
 * operating system's page cache. PGlite reads every page it does not hold through Emscripten's
 * file system (a read system call each, for a database on disk), so on disk a larger pool of its
 * own pays: recall in a 100,000-memory bank on disk went from 71-74 to 60-65 ms p50 with 512MB,
 * the semantic arm's graph walk most of it (measured back to back, twice each). The blocks take
 * memory only once a page is read into them.
 *
 * An in-memory database is what a host's tests open, one or more per test file, and its files
 * already live in this process's memory, so a larger pool holds a second copy of every page it
 * reads. What a new instance costs grows with its pool: from the fresh-cluster image, about 0.9 s
 * of CPU at 32MB, 1.7 s at 128MB and 3.3 s at 512MB (five starts each, one process, two cores).
 * This suite's test files spent 1,081 s of its two workers' time at 128MB and 980 s at 32MB, about
 * 20 s of the difference from loading chrono's English locale alone (src/retain/time-expressions.ts)
 * in the same change. What a small pool gives up shows only in a large bank, measured back to back
 * in one in-memory bank: at 10,000 memories recall p50 22-24 ms with either 32MB or 128MB; at
 * 100,000, 48-58 ms with 32MB, 35-37 ms with 128MB and 28.6 ms with 512MB. A host that keeps a
 * large bank in memory sets `pgliteSharedBuffers`.
 */
export const PGLITE_SHARED_BUFFERS_ON_DISK = '512MB';
export const PGLITE_SHARED_BUFFERS_IN_MEMORY = '32MB';

function defaultSharedBuffers(dataDir: string | undefined): string {
  return dataDir ? PGLITE_SHARED_BUFFERS_ON_DISK : PGLITE_SHARED_BUFFERS_IN_MEMORY;
}

function pgliteOptions(sharedBuffers: string): PGliteOptions {
  return {
    extensions: { vector },
    // node-postgres hands int8 back as a string (it may not fit a double); TypeORM and our
    // queries expect that, so PGlite must do the same.
    parsers: { [types.INT8]: (value: string) => value },
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`],
  };
}

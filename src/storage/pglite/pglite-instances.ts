import { mkdir } from 'node:fs/promises';
import { PGlite, types } from '@electric-sql/pglite';
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

export async function openPglite(key: string, dataDir: string | undefined): Promise<PGlite> {
  let entry = instances.get(key);
  if (!entry) {
    const instance = createPglite(dataDir);
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
 * A freshly initialised cluster, made once per process and copied into every later in-memory
 * instance. Creating a PGlite runs `initdb` in WebAssembly (about 4 s on two cores); loading the
 * image of one it already ran takes about 1.4 s, and a host that opens in-memory databases often
 * (its own tests, for one) pays `initdb` once. Gzipped, the image is about 4.5 MB.
 */
let freshClusterImage: Promise<Blob> | undefined;

async function createPglite(dataDir: string | undefined): Promise<PGlite> {
  if (dataDir) {
    await mkdir(dataDir, { recursive: true });
    return PGlite.create({ dataDir, ...PGLITE_OPTIONS });
  }
  if (freshClusterImage) {
    const image = await freshClusterImage.catch(() => undefined);
    if (image) return PGlite.create({ loadDataDir: image, ...PGLITE_OPTIONS });
  }
  const instance = await PGlite.create(PGLITE_OPTIONS);
  // Taken before anyone has used the instance, so the image is the bare cluster initdb made.
  if (!freshClusterImage) {
    const image = instance.dumpDataDir('gzip');
    freshClusterImage = image;
    await image.catch(() => {
      // An image that could not be made is not kept: the next instance runs initdb and tries again.
      if (freshClusterImage === image) freshClusterImage = undefined;
    });
  }
  return instance;
}

const PGLITE_OPTIONS = {
  extensions: { vector },
  // node-postgres hands int8 back as a string (it may not fit a double); TypeORM and our
  // queries expect that, so PGlite must do the same.
  parsers: { [types.INT8]: (value: string) => value },
};

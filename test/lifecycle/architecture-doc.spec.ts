import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SHUTDOWN_STAGES } from '../../src/lifecycle/shutdown-stage.js';

const ARCHITECTURE = 'docs/ARCHITECTURE.md';

async function sourceFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) return sourceFiles(full);
      return Promise.resolve(/\.(ts|mts|mjs)$/.test(entry.name) ? [full] : []);
    }),
  );
  return nested.flat();
}

/** The documentation says what the code does: same stages, and every section the code cites exists. */
describe('docs/ARCHITECTURE.md and the README', () => {
  let architecture: string;
  let readme: string;

  beforeAll(async () => {
    architecture = await readFile(ARCHITECTURE, 'utf8');
    readme = await readFile('README.md', 'utf8');
  });

  it('list the shutdown stages of SHUTDOWN_STAGES, in its order', () => {
    const table = [...architecture.matchAll(/^\| `([a-z-]+)` *\|/gm)].map((match) => match[1]);
    expect(table).toEqual([...SHUTDOWN_STAGES]);
    const sentence = /runs them in one order — ((?:`[a-z-]+`,?\s*)+)—/.exec(readme)?.[1] ?? '';
    expect([...sentence.matchAll(/`([a-z-]+)`/g)].map((match) => match[1])).toEqual([...SHUTDOWN_STAGES]);
  });

  it('has every section that a comment or message in the code points to', async () => {
    const headings = new Set([...architecture.matchAll(/^#+ (.+)$/gm)].map((match) => match[1].trim()));
    const cited: string[] = [];
    for (const file of [...(await sourceFiles('src')), ...(await sourceFiles('test'))]) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/docs\/ARCHITECTURE\.md, "([^"]+)"/g)) cited.push(`${file}: ${match[1]}`);
    }
    expect(cited.length).toBeGreaterThan(0);
    const missing = cited.filter((entry) => {
      const section = entry.slice(entry.indexOf(': ') + 2);
      return ![...headings].some((heading) => heading === section || heading.startsWith(`${section}:`));
    });
    expect(missing).toEqual([]);
  });

  it('is the only design document the code refers to', async () => {
    const outside: string[] = [];
    for (const file of await sourceFiles('src')) {
      const text = await readFile(file, 'utf8');
      if (/DESIGN\.md/.test(text)) outside.push(file);
    }
    expect(outside).toEqual([]);
  });
});

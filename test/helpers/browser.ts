import type { ChildProcess } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';

/** Debian's package (`scripts/ensure-chromium.mjs` installs it before `npm test` builds). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/**
 * As root Chromium refuses to start sandboxed; there is no GPU; and the machine's network is
 * closed, so every background fetch (component updates, sync, QUIC probes, first-run pages) would
 * be a refused connection or a failed lookup at each start, slowing it and filling the log.
 */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Chromium {
  browser: Browser;
  /** The browser's own process, to prove it is gone after `close()`. */
  process: ChildProcess;
  /** Closes the browser and resolves once its process has exited. */
  close(): Promise<{ pid: number; exitCode: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Headless Chromium from the system's executable: playwright-core never downloads a browser.
 * Launched as a server and connected to, because only a browser server hands out its process
 * (a launched `Browser` no longer does), and a test file must be able to show it leaves no
 * process behind. Without `userDataDir` playwright starts it on a new temporary profile and
 * deletes that on close.
 */
export async function launchChromium(): Promise<Chromium> {
  const server = await chromium.launchServer({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS, timeout: 60_000 });
  const child = server.process();
  let browser: Browser;
  try {
    browser = await chromium.connect(server.wsEndpoint(), { timeout: 60_000 });
  } catch (error) {
    await server.close();
    throw error;
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    browser,
    process: child,
    async close() {
      await browser.close();
      await server.close();
      await exited;
      return { pid: child.pid!, exitCode: child.exitCode, signal: child.signalCode };
    },
  };
}

/** Whether any process of the group `pid` leads is still alive (signal 0 only checks). */
export function processGroupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

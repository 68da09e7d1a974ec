import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export interface StandaloneServer {
  url: string;
  child: ChildProcess;
  /**
   * Everything the process printed so far, stdout and stderr interleaved. While it runs, a line
   * may still be on its way: wait for it (`eventually`) rather than reading it once.
   */
  output(): string;
  /** Sends the signal and resolves with the exit code once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /**
   * Resolves with the exit code once the process is gone and its stdout and stderr are closed,
   * so `output()` is then complete.
   */
  exited: Promise<number | null>;
}

const MAIN = path.resolve('dist/src/main.js');

/**
 * Runs the built standalone server (`npm start` without the build), or another built Nest app
 * (`script`), as a child process on a free port, and resolves once it logs `Listening on <url>`.
 * `npm test` builds first (`pretest`).
 */
export function startStandalone(env: Record<string, string>, timeoutMs = 90_000, script = MAIN): Promise<StandaloneServer> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, NODE_OPTIONS: '', PORT: '0', HOST: '127.0.0.1', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  // 'close', not 'exit': 'exit' can come before the last chunks of output have been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`standalone server did not start within ${timeoutMs}ms:\n${printed}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      printed += chunk.toString();
      const match = /Listening on (http:\/\/[^\s"]+)/.exec(printed);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1].replace('[::1]', '127.0.0.1'),
          child,
          exited,
          output: () => printed,
          async stop(signal = 'SIGTERM') {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`standalone server exited with ${code} before listening:\n${printed}`), { code, printed }));
    });
  });
}

/** Runs the server to completion (for startup failures) and returns its exit code and output. */
export function runStandaloneToExit(env: Record<string, string>, timeoutMs = 90_000): Promise<{ code: number | null; output: string }> {
  return startStandalone(env, timeoutMs).then(
    async (server) => {
      const code = await server.stop('SIGKILL');
      throw new Error(`expected the server to fail at startup, but it listened at ${server.url} (exit ${code})`);
    },
    (error: { code?: number | null; printed?: string }) => {
      if (error.printed === undefined) throw error;
      return { code: error.code ?? null, output: error.printed };
    },
  );
}

export function shutdownStepLines(output: string): string[] {
  return output.match(/Shutdown step '[^']+' [^\n]*/g) ?? [];
}

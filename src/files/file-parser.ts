import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Inject, Injectable } from '@nestjs/common';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import type { FileRetainSettings, ResolvedMemoryOptions } from '../memory.options.js';
import type { FileKind, FileRejectionReason } from './file-conversion.js';
import type { ParseMessage, ParseReply } from './file-parser.worker.js';

export interface UploadedFile {
  /** The name the client gave; only ever used to name the file in answers. */
  name: string;
  bytes: Uint8Array;
}

export interface ParsedFile {
  name: string;
  kind: FileKind;
  text: string;
}

/** A file that cannot be retained; `message` says why, after the file's name. */
export class FileRejectedError extends Error {
  constructor(
    readonly fileName: string,
    readonly reason: FileRejectionReason,
    readonly why: string,
  ) {
    super(`File '${fileName}' was refused: ${why}`);
  }
}

/**
 * A conversion that allocates past this is ended: a DOCX is a zip, and a small one can inflate to
 * gigabytes. What the worker can hold is bounded here, not by the process's heap.
 */
const WORKER_HEAP_MB = 512;

/**
 * Converts the files of one upload to text in a worker thread of their own, so a large PDF blocks
 * no other request and a hostile one takes down nothing but its worker. The worker lives exactly as
 * long as the upload's conversion and is ended whatever happens (last file done, a refusal, a
 * timeout): none outlives a request, so there is nothing for shutdown to stop. At most
 * `parseConcurrency` workers run at once; further uploads wait for a free one. No database
 * connection is involved.
 */
@Injectable()
export class FileParser {
  private readonly settings: FileRetainSettings;
  private running = 0;
  private live = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(@Inject(MEMORY_OPTIONS) options: ResolvedMemoryOptions) {
    this.settings = options.files;
  }

  /** Worker threads that have started and not yet exited. */
  get liveWorkers(): number {
    return this.live;
  }

  /** Every file's text, in order; the first file that cannot be converted rejects with `FileRejectedError`. */
  async parseAll(files: UploadedFile[]): Promise<ParsedFile[]> {
    await this.acquire();
    const worker = new Worker(WORKER_PATH, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    this.live += 1;
    worker.once('exit', () => (this.live -= 1));
    // Each file listens for errors while it converts; one between two files (none is expected of
    // an idle worker) must not be an unhandled 'error' event, which would end the process.
    worker.on('error', () => undefined);
    // A conversion in progress never keeps the process from exiting.
    worker.unref();
    try {
      const parsed: ParsedFile[] = [];
      for (const [index, file] of files.entries()) parsed.push(await this.parseOne(worker, index, file));
      return parsed;
    } finally {
      await worker.terminate();
      this.release();
    }
  }

  private parseOne(worker: Worker, index: number, file: UploadedFile): Promise<ParsedFile> {
    return new Promise<ParsedFile>((resolve, reject) => {
      const settle = (outcome: () => void) => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        outcome();
      };
      const onMessage = (reply: ParseReply) => {
        if (reply.index !== index) return;
        settle(() =>
          reply.ok
            ? resolve({ name: file.name, kind: reply.kind, text: reply.text })
            : reject(new FileRejectedError(file.name, reply.reason, reply.message)),
        );
      };
      const onError = (error: Error & { code?: string }) =>
        settle(() =>
          reject(
            error.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? new FileRejectedError(file.name, 'too_large', `converting it needs more than ${WORKER_HEAP_MB} MB of memory`)
              : error,
          ),
        );
      const onExit = (code: number) =>
        settle(() => reject(new Error(`the file parser worker exited (code ${code}) while converting '${file.name}'`)));
      const timer = setTimeout(
        () =>
          settle(() =>
            reject(new FileRejectedError(file.name, 'timeout', `it was not converted within ${this.settings.parseTimeoutMs} ms`)),
          ),
        this.settings.parseTimeoutMs,
      );
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      // Copied, not transferred: multer's buffer may be a slice of a pooled allocation.
      worker.postMessage({ index, bytes: file.bytes } satisfies ParseMessage);
    });
  }

  private async acquire(): Promise<void> {
    if (this.running < this.settings.parseConcurrency) {
      this.running += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Hands the slot straight to the next waiting upload, if any. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }
}

/**
 * The worker script beside this module; under ts-jest this module runs from its TypeScript source,
 * which a worker thread cannot load, so the build's copy in `dist/` is used instead.
 */
const WORKER_PATH = ((): string => {
  const beside = fileURLToPath(new URL('./file-parser.worker.js', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../../dist/src/files/file-parser.worker.js', import.meta.url));
})();

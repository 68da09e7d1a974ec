import { parentPort } from 'node:worker_threads';
import { convertFile, type FileConversion } from './file-conversion.js';

/** One file to convert, as the parser sends it; `index` ties the answer to it. */
export interface ParseMessage {
  index: number;
  bytes: Uint8Array;
}

export type ParseReply = FileConversion & { index: number };

// The worker of one upload: it converts the files it is sent one after the other and holds
// nothing else, so the parser can end it at any moment (timeout, last file done).
parentPort?.on('message', (message: ParseMessage) => {
  void convertFile(message.bytes)
    .catch((error: unknown): FileConversion => ({
      ok: false,
      reason: 'corrupt',
      message: `it could not be converted (${error instanceof Error ? error.message : String(error)})`,
    }))
    .then((result) => parentPort?.postMessage({ ...result, index: message.index } satisfies ParseReply));
});

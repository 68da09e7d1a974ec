import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import type { ResolvedMemoryOptions } from '../memory.options.js';
import { RetainService } from '../retain/retain.service.js';
import type { RetainRequest } from '../retain/retain.types.js';
import { FileParser, FileRejectedError, type UploadedFile } from './file-parser.js';

/** What applies to one file (Hindsight's `FileRetainMetadata`, parser and strategy aside). */
export interface FileRetainItem {
  /** Default `file_<uuid>`, as Hindsight names an uploaded file's document. */
  documentId?: string | null;
  context?: string | null;
  metadata?: Record<string, string> | null;
  tags?: string[] | null;
  /** `undefined`: now; `null`: the content has no event time. */
  timestamp?: Date | null;
}

/**
 * Retains uploaded files: each becomes one document, retained like any other (chunks, facts,
 * entities) by a queued retain, as Hindsight always queues a file's. Every file of the upload is
 * converted before anything is written, so one file that cannot be read refuses the whole upload
 * and nothing of it is stored; the conversion runs in a worker thread with no database
 * connection held, and the retains are then queued in one short transaction.
 */
@Injectable()
export class FileRetainService {
  constructor(
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
    @Inject(FileParser) private readonly parser: FileParser,
    @Inject(RetainService) private readonly retainer: RetainService,
  ) {}

  /** The ids of the queued retains, one per file, in the order of `files`. */
  async retainFiles(bankId: string, files: UploadedFile[], items: FileRetainItem[]): Promise<string[]> {
    const parsed = await this.parser.parseAll(files);
    const { maxContentChars } = this.options.retain;
    for (const file of parsed) {
      if (file.text.length > maxContentChars) {
        throw new FileRejectedError(
          file.name,
          'too_large',
          `its text is ${file.text.length} characters long, more than the ${maxContentChars} one retained document may hold`,
        );
      }
    }
    const requests = parsed.map((file, index): RetainRequest => {
      const item = items[index] ?? {};
      return {
        async: true,
        items: [
          {
            content: file.text,
            documentId: item.documentId ?? `file_${randomUUID()}`,
            context: item.context ?? null,
            metadata: item.metadata ?? null,
            tags: item.tags ?? null,
            timestamp: item.timestamp,
          },
        ],
      };
    });
    const labels = parsed.map((file) => ({ original_filename: file.name, file_type: file.kind }));
    return this.retainer.enqueueEach(bankId, requests, labels);
  }
}

import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  type NestInterceptor,
  UseInterceptors,
  applyDecorators,
} from '@nestjs/common';
import { FilesInterceptor } from '@nestjs/platform-express';
import type { Request } from 'express';
import { type Observable, catchError, throwError } from 'rxjs';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import type { FileRetainSettings, ResolvedMemoryOptions } from '../memory.options.js';

/** The multer limits of this request, put on it by `FileUploadLimits` for `FilesInterceptor` to read. */
const UPLOAD_LIMITS = Symbol('memory:upload-limits');

type WithLimits = Request & { [UPLOAD_LIMITS]?: { fileSize: number; files: number } };

interface MulterCause {
  code?: string;
  field?: string;
  filename?: string;
}

/**
 * Refuses a body that is not a multipart form, hands multer the configured limits (they are
 * options of the module, which a decorator cannot read), and turns multer's refusals into
 * Hindsight's `{"detail": …}` naming the file or the limit at fault.
 */
@Injectable()
export class FileUploadLimits implements NestInterceptor {
  private readonly settings: FileRetainSettings;

  constructor(@Inject(MEMORY_OPTIONS) options: ResolvedMemoryOptions) {
    this.settings = options.files;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<WithLimits>();
    const type = request.headers['content-type'];
    if (type?.split(';')[0].trim().toLowerCase() !== 'multipart/form-data') {
      const what = type ? `'${type}'` : 'a body without a content type';
      throw new HttpException(
        { detail: `Unsupported media type ${what}: files are uploaded as multipart/form-data` },
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      );
    }
    request[UPLOAD_LIMITS] = { fileSize: this.settings.maxFileBytes, files: this.settings.maxFiles };
    return next.handle().pipe(catchError((error: unknown) => throwError(() => this.explain(error))));
  }

  private explain(error: unknown): unknown {
    if (!(error instanceof HttpException)) return error;
    const cause = error.cause as MulterCause | undefined;
    switch (cause?.code) {
      case 'LIMIT_FILE_SIZE':
        return new HttpException(
          {
            detail: `File '${cause.filename ?? '(unnamed)'}' is larger than the limit of ${this.settings.maxFileBytes} bytes (MEMORY_MAX_FILE_BYTES); nothing was stored`,
          },
          HttpStatus.PAYLOAD_TOO_LARGE,
        );
      case 'LIMIT_FILE_COUNT':
        return new HttpException(
          { detail: `Too many files. Maximum ${this.settings.maxFiles} files per request.` },
          HttpStatus.BAD_REQUEST,
        );
      case 'LIMIT_UNEXPECTED_FILE':
        return new HttpException(
          { detail: `Unexpected file field '${cause.field ?? ''}': files are sent in the field 'files'` },
          HttpStatus.BAD_REQUEST,
        );
      default:
        return error;
    }
  }
}

/**
 * The multipart parsing of a route that takes files in the field `files`: multer with memory
 * storage, limited per request as `FileUploadLimits` says.
 */
export function FileUpload(): MethodDecorator {
  return applyDecorators(
    UseInterceptors(
      FileUploadLimits,
      FilesInterceptor('files', undefined, {
        limits: (request: WithLimits) => request[UPLOAD_LIMITS] ?? {},
        // Browsers and undici's FormData send file names as UTF-8.
        defParamCharset: 'utf8',
      }),
    ),
  );
}

import { HttpCode, HttpException, HttpStatus, Inject, Param, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiUnprocessableEntityResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { FileRejectedError, type UploadedFile } from '../../files/file-parser.js';
import { type FileRetainItem, FileRetainService } from '../../files/file-retain.service.js';
import { MEMORY_OPTIONS } from '../../memory.constants.js';
import type { ResolvedMemoryOptions } from '../../memory.options.js';
import { parseIsoTimestamp } from '../dto/coercions.js';
import { FILE_PARSERS, FileRetainBodyDto, FileRetainRequestDto, FileRetainResponse } from '../dto/files.dto.js';
import { ErrorDetailResponse } from '../dto/responses/error.responses.js';
import { FileUpload } from '../file-upload.interceptor.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { unprocessable } from '../memory-exception.filter.js';
import { MemoryValidationPipe } from '../memory-validation.pipe.js';

/** What multer's memory storage leaves on the request for each file. */
interface MulterFile {
  originalname: string;
  buffer: Buffer;
}

/** Fields of `FileRetainMetadata` that Hindsight refuses at the top of the request. */
const PER_FILE_FIELDS = ['context', 'document_id', 'metadata', 'strategy', 'tags', 'timestamp'];

/** What a refused file is answered: too big to take, of a type not read here, or unreadable. */
const REJECTION_STATUS: Record<FileRejectedError['reason'], HttpStatus> = {
  too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  unsupported: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  encrypted: HttpStatus.UNPROCESSABLE_ENTITY,
  corrupt: HttpStatus.UNPROCESSABLE_ENTITY,
  empty: HttpStatus.UNPROCESSABLE_ENTITY,
  timeout: HttpStatus.UNPROCESSABLE_ENTITY,
};

@MemoryApiController('files')
export class FilesController {
  private readonly validation: MemoryValidationPipe;

  constructor(
    @Inject(FileRetainService) private readonly files: FileRetainService,
    @Inject(MEMORY_OPTIONS) options: ResolvedMemoryOptions,
  ) {
    this.validation = new MemoryValidationPipe(options);
  }

  // The form is read from the request rather than with @Body()/@UploadedFiles(): the JSON
  // checks bound to every route (JsonBodyInterceptor, the validation pipe) are for JSON bodies.
  @Post('banks/:bank_id/files/retain')
  @HttpCode(200)
  @FileUpload()
  @ApiOperation({
    operationId: 'file_retain',
    summary: 'Convert files to memories',
    description:
      'Plain text, Markdown, HTML, PDF and DOCX, their type sniffed from their content. Every file is converted first; ' +
      'then each becomes one document, retained by a queued operation (one id per file, in order). A file that cannot ' +
      'be read refuses the whole upload, naming it, and nothing is stored.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: FileRetainBodyDto })
  @ApiOkResponse({ type: FileRetainResponse })
  @ApiBadRequestResponse({
    type: ErrorDetailResponse,
    description: 'request is not JSON, per-file fields at its top, files_metadata not one per file, an unknown parser, too many files',
  })
  @ApiPayloadTooLargeResponse({
    type: ErrorDetailResponse,
    description: 'A file over MEMORY_MAX_FILE_BYTES, or whose text is over the retain limit; named',
  })
  @ApiUnsupportedMediaTypeResponse({
    type: ErrorDetailResponse,
    description: 'Not a multipart form, or a file of a type not read here; named',
  })
  @ApiUnprocessableEntityResponse({
    description: 'A field of request at fault, files or request missing, or a file encrypted, corrupt or without text; named',
  })
  async retain(@Param('bank_id') bankId: string, @Req() request: Request): Promise<FileRetainResponse> {
    const uploaded = ((request as Request & { files?: MulterFile[] }).files ?? []).map((file): UploadedFile => ({
      name: file.originalname,
      bytes: file.buffer,
    }));
    const body = await this.readRequest(request.body as Record<string, unknown> | undefined, uploaded.length);
    const items = (body.files_metadata ?? []).map((meta): FileRetainItem => ({
      documentId: meta.document_id ?? null,
      context: meta.context ?? null,
      metadata: meta.metadata ?? null,
      tags: meta.tags ?? null,
      timestamp: meta.timestamp == null ? undefined : meta.timestamp === 'unset' ? null : parseIsoTimestamp(meta.timestamp),
    }));
    try {
      return { operation_ids: await this.files.retainFiles(bankId, uploaded, items) };
    } catch (error) {
      if (!(error instanceof FileRejectedError)) throw error;
      throw new HttpException({ detail: `${error.message}. Nothing of this upload was stored.` }, REJECTION_STATUS[error.reason]);
    }
  }

  /** The `request` field, checked as Hindsight checks it (400 for what it refuses with 400), then as a DTO. */
  private async readRequest(form: Record<string, unknown> | undefined, fileCount: number): Promise<FileRetainRequestDto> {
    const missing = [
      ...(fileCount === 0 ? [{ loc: ['body', 'files'], msg: 'Field required: at least one file', type: 'missing' }] : []),
      ...(typeof form?.request !== 'string' ? [{ loc: ['body', 'request'], msg: 'Field required', type: 'missing' }] : []),
    ];
    if (missing.length) {
      const { status, body } = unprocessable(missing);
      throw new HttpException(body, status);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(form!.request as string);
    } catch (error) {
      throw badRequest(`Invalid request JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('Invalid request JSON: not a JSON object');
    const fields = parsed as Record<string, unknown>;
    const misplaced = PER_FILE_FIELDS.filter((name) => fields[name] != null);
    const errors = [
      ...(misplaced.length ? [`Per-file fields (${misplaced.join(', ')}) must be placed in the corresponding 'files_metadata' entry`] : []),
      ...(fields.update_mode != null ? ["'update_mode' is not supported by /files/retain, which always processes asynchronously"] : []),
    ];
    if (errors.length) throw badRequest(`Invalid request JSON: ${errors.join('; ')}`);

    const dto = (await this.validation.transform(parsed, {
      type: 'body',
      metatype: FileRetainRequestDto,
      data: 'request',
    })) as FileRetainRequestDto;
    if (dto.files_metadata && dto.files_metadata.length !== fileCount) {
      throw badRequest(`files_metadata count (${dto.files_metadata.length}) must match files count (${fileCount})`);
    }
    checkParsers(dto.parser, 'request-level parser');
    dto.files_metadata?.forEach((meta, index) => checkParsers(meta.parser, `files_metadata[${index}].parser`));
    return dto;
  }
}

function checkParsers(parser: unknown, where: string): void {
  if (parser == null) return;
  const names = Array.isArray(parser) ? parser : [parser];
  const unknown = names.filter((name) => !(FILE_PARSERS as readonly unknown[]).includes(name));
  if (names.length === 0 || unknown.length) {
    throw badRequest(`Parser(s) not available (${where}): ${JSON.stringify(unknown)}. Available: ${JSON.stringify(FILE_PARSERS)}`);
  }
}

function badRequest(detail: string): HttpException {
  return new HttpException({ detail }, HttpStatus.BAD_REQUEST);
}

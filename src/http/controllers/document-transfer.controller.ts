import {
  Get,
  GoneException,
  HttpCode,
  HttpException,
  HttpStatus,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConsumes,
  ApiGoneResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { once } from 'node:events';
import { DocumentTransferService } from '../../document-transfer/document-transfer.service.js';
import { isUuid } from '../../storage/uuid.js';
import {
  DocumentTransferSubmitResponse,
  ExportDocumentsQuery,
  ImportDocumentsBody,
  ImportDocumentsQuery,
} from '../dto/document-transfer.dto.js';
import { ErrorDetailResponse } from '../dto/responses/error.responses.js';
import { MemoryApiController } from '../memory-api.decorator.js';

/** Largest transfer archive an import takes (512 MiB); the upload is held in memory while it is checked and stored. */
export const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;

type MulterFile = { buffer: Buffer; originalname: string };

/** Hindsight's document transfer: archives exported and imported by background operations. */
@MemoryApiController('document-transfer')
export class DocumentTransferController {
  constructor(@Inject(DocumentTransferService) private readonly transfer: DocumentTransferService) {}

  @Get('banks/:bank_id/document-transfer')
  @ApiOperation({ operationId: 'export_documents_sync_removed', deprecated: true, summary: 'Gone: use POST …/document-transfer/export' })
  @ApiGoneResponse({ type: ErrorDetailResponse, description: 'Always' })
  exportSync(@Param('bank_id') bankId: string): never {
    throw new GoneException(
      `Synchronous document export has been removed. Submit an async export via POST /v1/default/banks/${bankId}/document-transfer/export, ` +
        `poll GET /v1/default/banks/${bankId}/operations/{operation_id}, then download the archive from the download_url in the ` +
        `operation's result_metadata.`,
    );
  }

  @Post('banks/:bank_id/document-transfer/export')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    operationId: 'export_documents',
    summary: 'Queue an export of the bank’s documents as a transfer archive',
    description:
      'On completion the operation’s result_metadata carries download_url, storage_key, byte_size and filename. ' +
      'A whole-bank export also carries the memories retained without a document (loose/*.json).',
  })
  @ApiAcceptedResponse({ type: DocumentTransferSubmitResponse })
  async export(@Param('bank_id') bankId: string, @Query() query: ExportDocumentsQuery): Promise<DocumentTransferSubmitResponse> {
    const ids = query.document_id?.length ? query.document_id : null;
    return { operation_id: await this.transfer.submitExport(bankId, ids, query.include_observations === true), status: 'pending' };
  }

  // The archive is read from the request rather than with @UploadedFile(): the JSON checks bound
  // to every route are for JSON bodies.
  @Post('banks/:bank_id/document-transfer')
  @HttpCode(HttpStatus.ACCEPTED)
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: MAX_ARCHIVE_BYTES, files: 1 } }))
  @ApiOperation({
    operationId: 'import_documents',
    summary: 'Queue the import of a transfer archive',
    description:
      'Memories are embedded again with this server’s embedder and entities resolved by name; no LLM runs. Each document is ' +
      'imported whole or not at all; result_metadata carries the counts.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: ImportDocumentsBody })
  @ApiAcceptedResponse({ type: DocumentTransferSubmitResponse })
  async import(
    @Param('bank_id') bankId: string,
    @Query() query: ImportDocumentsQuery,
    @Req() request: Request,
  ): Promise<DocumentTransferSubmitResponse> {
    const file = (request as Request & { file?: MulterFile }).file;
    if (!file) throw new HttpException({ detail: [{ loc: ['body', 'file'], msg: 'Field required', type: 'missing' }] }, 422);
    return { operation_id: await this.transfer.submitImport(bankId, file.buffer, query.on_conflict ?? 'skip'), status: 'pending' };
  }

  /** Its URL names no bank: the key (a random UUID) is looked up wherever it lives. */
  @Get('files/download/:key')
  @ApiOperation({ operationId: 'download_file', summary: 'Stream a stored file (an export archive)' })
  @ApiProduces('application/zip')
  @ApiOkResponse({ description: 'The stored file', content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } } })
  @ApiNotFoundResponse({ type: ErrorDetailResponse, description: 'No finished, unexpired file has this key' })
  async download(@Param('key') key: string, @Res() response: Response): Promise<void> {
    const file = isUuid(key) ? await this.transfer.download(key) : null;
    if (!file) throw new NotFoundException(`File '${key}' not found`);
    response.status(200);
    response.setHeader('Content-Type', file.contentType);
    response.setHeader('Content-Length', String(file.byteSize));
    response.setHeader('Content-Disposition', `attachment; filename="${file.filename.replace(/["\\\r\n]/g, '_')}"`);
    try {
      for await (const part of file.parts) {
        if (response.destroyed) return;
        if (!response.write(part)) await Promise.race([once(response, 'drain'), once(response, 'close')]);
      }
      response.end();
    } catch (error) {
      // The status line is sent: the only way left to say the file is incomplete is to cut it.
      response.destroy(error as Error);
    }
  }
}

import { Body, Get, HttpCode, HttpException, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { BANK_TEMPLATE_JSON_SCHEMA } from '../../bank-templates/bank-template.manifest.js';
import { BankTemplateInvalidError, BankTemplatesService } from '../../bank-templates/bank-templates.service.js';
import {
  BankTemplateImportResponse,
  BankTemplateManifestDto,
  BankTemplateSchemaResponse,
  ImportBankTemplateQuery,
} from '../dto/bank-template.dto.js';
import { MemoryApiController } from '../memory-api.decorator.js';
import { unprocessable } from '../memory-exception.filter.js';

/** Under `/v1` rather than `/v1/default`: the schema route is not a bank's. */
@MemoryApiController('bank-templates', 'v1')
export class BankTemplatesController {
  constructor(@Inject(BankTemplatesService) private readonly templates: BankTemplatesService) {}

  @Get('bank-template-schema')
  @ApiOperation({ operationId: 'get_bank_template_schema', summary: 'The JSON Schema import validates manifests with' })
  @ApiOkResponse({ type: BankTemplateSchemaResponse })
  schema(): BankTemplateSchemaResponse {
    return BANK_TEMPLATE_JSON_SCHEMA as unknown as BankTemplateSchemaResponse;
  }

  @Get('default/banks/:bank_id/export')
  @ApiOperation({ operationId: 'export_bank_template', summary: "The bank's config overrides, mental models and directives" })
  @ApiOkResponse({ type: BankTemplateManifestDto })
  async export(@Param('bank_id') bankId: string): Promise<BankTemplateManifestDto> {
    return (await this.templates.export(bankId)) as BankTemplateManifestDto;
  }

  /** The body is checked by the manifest's own schema (the one the schema route serves), not by a DTO. */
  @Post('default/banks/:bank_id/import')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'import_bank_template',
    summary: 'All or nothing: a manifest with any bad field is a 422 naming it, and nothing is written',
  })
  @ApiBody({ type: BankTemplateManifestDto })
  @ApiOkResponse({ type: BankTemplateImportResponse })
  @ApiUnprocessableEntityResponse({ description: 'The manifest is refused; detail lists each field at fault' })
  async import(
    @Param('bank_id') bankId: string,
    @Query() query: ImportBankTemplateQuery,
    @Body() body: unknown,
  ): Promise<BankTemplateImportResponse> {
    try {
      return BankTemplateImportResponse.of(await this.templates.import(bankId, body, query.dry_run ?? false));
    } catch (error) {
      if (!(error instanceof BankTemplateInvalidError)) throw error;
      const { status, body: detail } = unprocessable(
        error.issues.map((issue) => ({ loc: ['body', ...issue.path], msg: issue.message, type: 'value_error' })),
      );
      throw new HttpException(detail, status);
    }
  }
}

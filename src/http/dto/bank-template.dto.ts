import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';
import { BANK_CONFIG_DEFAULTS } from '../../banks/bank-config.js';
import { RETAIN_EXTRACTION_MODES } from '../../bank-templates/bank-template.manifest.js';
import type { BankTemplateImport } from '../../bank-templates/bank-templates.service.js';
import { MAX_MODEL_TOKENS, MIN_MODEL_TOKENS } from '../../mental-models/mental-model.types.js';
import { QueryBoolean } from './coercions.js';
import { MentalModelTriggerResponse } from './mental-model.dto.js';

/**
 * The swagger side of the manifest. What import accepts is `bankTemplateManifestSchema` (zod),
 * served whole by `GET /v1/bank-template-schema`; these classes describe the same shapes for
 * /docs and its generated clients.
 */

/** Hindsight's `BankTemplateConfig`: one optional property per per-bank setting this server has. */
export class BankTemplateConfigDto {
  [setting: string]: unknown;
}

// Declared from BANK_CONFIG_DEFAULTS, so a setting added there is documented here too.
for (const [name, fallback] of Object.entries(BANK_CONFIG_DEFAULTS)) {
  const options: ApiPropertyOptions = name.startsWith('disposition_')
    ? { type: 'integer', minimum: 1, maximum: 5, nullable: true }
    : name === 'retain_extraction_mode'
      ? { type: String, enum: [...RETAIN_EXTRACTION_MODES], nullable: true }
      : typeof fallback === 'number'
        ? { type: 'integer', minimum: 1, nullable: true }
        : { type: typeof fallback === 'boolean' ? Boolean : String, nullable: true };
  ApiPropertyOptional(options)(BankTemplateConfigDto.prototype, name);
}

/** Hindsight's `BankTemplateMentalModel`. */
export class BankTemplateMentalModelDto {
  @ApiProperty({ description: 'Lowercase letters, digits and hyphens; matches an existing model on import' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty()
  source_query: string;

  @ApiProperty({ type: [String], default: [] })
  tags: string[];

  @ApiProperty({ type: 'integer', default: 2048, minimum: MIN_MODEL_TOKENS, maximum: MAX_MODEL_TOKENS })
  max_tokens: number;

  @ApiProperty({ type: MentalModelTriggerResponse, description: 'As the mental-model routes show it; import takes what they take' })
  trigger: MentalModelTriggerResponse;
}

/** Hindsight's `BankTemplateDirective`. */
export class BankTemplateDirectiveDto {
  @ApiProperty({ description: 'Matches an existing directive on import' })
  name: string;

  @ApiProperty()
  content: string;

  @ApiProperty({ type: 'integer', default: 0 })
  priority: number;

  @ApiProperty({ default: true })
  is_active: boolean;

  @ApiProperty({ type: [String], default: [] })
  tags: string[];
}

/** Hindsight's `BankTemplateManifest`. */
export class BankTemplateManifestDto {
  @ApiProperty({ example: '1', description: "Manifest version; only '1'" })
  version: string;

  @ApiPropertyOptional({ type: BankTemplateConfigDto, nullable: true, description: 'Config overrides; null leaves the config as it is' })
  bank?: BankTemplateConfigDto | null;

  @ApiPropertyOptional({ type: [BankTemplateMentalModelDto], nullable: true, description: 'Matched by id; null leaves models as they are' })
  mental_models?: BankTemplateMentalModelDto[] | null;

  @ApiPropertyOptional({
    type: [BankTemplateDirectiveDto],
    nullable: true,
    description: 'Matched by name; null leaves directives as they are',
  })
  directives?: BankTemplateDirectiveDto[] | null;
}

export class ImportBankTemplateQuery {
  @ApiPropertyOptional({ type: Boolean, default: false, description: 'Check only; nothing is written' })
  @IsOptional()
  @QueryBoolean()
  @IsBoolean()
  dry_run?: boolean;
}

/** Hindsight's `BankTemplateImportResponse`. */
export class BankTemplateImportResponse {
  @ApiProperty()
  bank_id: string;

  @ApiProperty({ description: 'Whether config overrides were (or would be) applied' })
  config_applied: boolean;

  @ApiProperty({ type: [String] })
  mental_models_created: string[];

  @ApiProperty({ type: [String] })
  mental_models_updated: string[];

  @ApiProperty({ type: [String] })
  directives_created: string[];

  @ApiProperty({ type: [String] })
  directives_updated: string[];

  @ApiProperty({ type: [String], description: "The mental models' refresh operations; none on a dry run" })
  operation_ids: string[];

  @ApiProperty()
  dry_run: boolean;

  static of(result: BankTemplateImport): BankTemplateImportResponse {
    return {
      bank_id: result.bankId,
      config_applied: result.configApplied,
      mental_models_created: result.mentalModelsCreated,
      mental_models_updated: result.mentalModelsUpdated,
      directives_created: result.directivesCreated,
      directives_updated: result.directivesUpdated,
      operation_ids: result.operationIds,
      dry_run: result.dryRun,
    };
  }
}

/** A JSON Schema (draft 2020-12) document: the manifest's. */
export class BankTemplateSchemaResponse {
  @ApiProperty({ example: 'https://json-schema.org/draft/2020-12/schema' })
  $schema: string;

  @ApiProperty({ example: 'object' })
  type: string;

  @ApiPropertyOptional()
  title?: string;

  @ApiPropertyOptional()
  description?: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: "The manifest's fields, each a JSON Schema" })
  properties: Record<string, unknown>;

  @ApiProperty({ type: [String] })
  required: string[];
}

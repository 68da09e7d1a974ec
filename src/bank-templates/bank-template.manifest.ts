import { z } from 'zod';
import { BANK_CONFIG_DEFAULTS } from '../banks/bank-config.js';
import { MAX_MODEL_TOKENS, MIN_MODEL_TOKENS, DEFAULT_MODEL_TOKENS } from '../mental-models/mental-model.types.js';
import { MAX_ID_LENGTH, MODEL_ID } from '../mental-models/mental-models.service.js';
import { FACT_TYPES, TAGS_MATCHES } from '../recall/recall.types.js';

/**
 * Hindsight's bank template manifest (version "1"), defined once: import validates with this
 * schema and `GET /v1/bank-template-schema` serves its JSON Schema, so the two cannot disagree.
 * What JSON Schema cannot say (duplicates, cron expressions, tag groups) is checked after it, by
 * the same checks the mental-model, directive and config routes make.
 */

export const BANK_TEMPLATE_VERSION = '1';

/** Hindsight's extraction modes; PATCH …/config takes any string, a template is held to the list as Hindsight holds it. */
export const RETAIN_EXTRACTION_MODES = ['concise', 'verbose', 'custom', 'verbatim', 'chunks'] as const;

/** Postgres `integer`, the directives' priority column. */
const INT32 = { min: -2_147_483_648, max: 2_147_483_647 };

const notBlank = (field: string) => z.string().regex(/\S/, `${field} cannot be empty`);

/**
 * One property per per-bank setting this server has (BANK_CONFIG_DEFAULTS), typed as PATCH …/config
 * checks it. Hindsight's other settings are accepted only as null (its exports carry every one,
 * null when unset): a value for one would be a setting this server silently ignored.
 */
function configField(name: string, fallback: unknown): z.ZodType {
  if (name.startsWith('disposition_')) return z.int().min(1).max(5).nullable().optional();
  if (name === 'retain_extraction_mode') return z.enum(RETAIN_EXTRACTION_MODES).nullable().optional();
  if (typeof fallback === 'number') return z.int().min(1).nullable().optional();
  if (typeof fallback === 'boolean') return z.boolean().nullable().optional();
  return z.string().nullable().optional();
}

const bankConfigSchema = z
  .object(Object.fromEntries(Object.entries(BANK_CONFIG_DEFAULTS).map(([name, fallback]) => [name, configField(name, fallback)])))
  .catchall(z.null({ error: 'is not a setting this server supports; only null is accepted' }))
  .meta({ title: 'BankTemplateConfig', description: 'Per-bank config overrides; null or absent leaves a setting as it is.' });

const triggerSchema = z
  .object({
    mode: z.literal('full', { error: "mode 'delta' is not supported by this server; only 'full' refreshes" }).nullable().optional(),
    refresh_after_consolidation: z.boolean().nullable().optional(),
    refresh_cron: z.string().nullable().optional(),
    fact_types: z.array(z.enum(FACT_TYPES)).min(1, 'fact_types cannot be empty').nullable().optional(),
    tags_match: z.enum(TAGS_MATCHES).nullable().optional(),
    tag_groups: z.array(z.unknown()).nullable().optional(),
    recall_max_tokens: z.int().min(1).nullable().optional(),
    exclude_mental_models: z.boolean().nullable().optional(),
    exclude_mental_model_ids: z.array(z.string()).nullable().optional(),
    include_chunks: z
      .literal(false, { error: 'include_chunks is not supported by this server: memories carry no chunks' })
      .nullable()
      .optional(),
    recall_chunks_max_tokens: z
      .null({ error: 'recall_chunks_max_tokens is not supported by this server: memories carry no chunks' })
      .optional(),
    response_schema: z.null({ error: 'response_schema is not supported on mental models by this server' }).optional(),
    keep_trace: z.literal(false, { error: 'keep_trace is not supported by this server' }).nullable().optional(),
  })
  .meta({ title: 'MentalModelTrigger' });

const mentalModelSchema = z
  .object({
    id: z
      .string()
      .max(MAX_ID_LENGTH)
      .regex(MODEL_ID, `id must be lowercase letters, digits and hyphens (at most ${MAX_ID_LENGTH})`)
      .describe('Matches an existing model on import'),
    name: notBlank('name'),
    source_query: notBlank('source_query'),
    tags: z.array(z.string()).default([]),
    max_tokens: z.int().min(MIN_MODEL_TOKENS).max(MAX_MODEL_TOKENS).default(DEFAULT_MODEL_TOKENS),
    trigger: triggerSchema.default({}),
  })
  .meta({ title: 'BankTemplateMentalModel' });

const directiveSchema = z
  .object({
    name: notBlank('name').describe('Matches an existing directive on import'),
    content: notBlank('content'),
    priority: z.int().min(INT32.min).max(INT32.max).default(0),
    is_active: z.boolean().default(true),
    tags: z.array(z.string()).default([]),
  })
  .meta({ title: 'BankTemplateDirective' });

export const bankTemplateManifestSchema = z
  .object({
    version: z.literal(BANK_TEMPLATE_VERSION, {
      error: `version must be '${BANK_TEMPLATE_VERSION}', the only manifest version this server reads`,
    }),
    bank: bankConfigSchema.nullable().optional(),
    mental_models: z.array(mentalModelSchema).nullable().optional(),
    directives: z.array(directiveSchema).nullable().optional(),
  })
  .meta({ title: 'BankTemplateManifest', description: 'A bank template manifest for import and export.' });

export type BankTemplateManifest = z.infer<typeof bankTemplateManifestSchema>;
export type BankTemplateMentalModel = z.infer<typeof mentalModelSchema>;
export type BankTemplateDirective = z.infer<typeof directiveSchema>;
export type BankTemplateTrigger = z.infer<typeof triggerSchema>;

/** The JSON Schema of what import accepts (its input side: defaults are optional). */
export const BANK_TEMPLATE_JSON_SCHEMA: Readonly<Record<string, unknown>> = Object.freeze(
  z.toJSONSchema(bankTemplateManifestSchema, { io: 'input' }) as Record<string, unknown>,
);

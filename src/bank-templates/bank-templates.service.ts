import { Inject, Injectable } from '@nestjs/common';
import { BANK_CONFIG_DEFAULTS, normaliseConfigUpdates } from '../banks/bank-config.js';
import { ensureBank, findBank, lockBank, mergeBankConfig } from '../banks/banks.queries.js';
import { bankNotFound } from '../banks/banks.service.js';
import type { CreateDirective } from '../directives/directive.types.js';
import { insertDirective, updateDirective } from '../directives/directives.queries.js';
import { checkDirectiveDefinition } from '../directives/directives.service.js';
import { MEMORY_OPTIONS } from '../memory.constants.js';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';
import type { InputLimits, ResolvedMemoryOptions } from '../memory.options.js';
import { type MentalModelTrigger, REFRESH_MENTAL_MODEL, mentalModelTriggerWire } from '../mental-models/mental-model.types.js';
import { insertModel, updateModel } from '../mental-models/mental-models.queries.js';
import { type CheckedModelDefinition, checkModelDefinition, toModel } from '../mental-models/mental-models.service.js';
import { OperationsService } from '../operations/operations.service.js';
import { OperationsWorker } from '../operations/operations.worker.js';
import type { TagGroup } from '../recall/tag-groups.js';
import { MemoryDatabase } from '../storage/memory-database.js';
import {
  BANK_TEMPLATE_VERSION,
  type BankTemplateManifest,
  type BankTemplateMentalModel,
  type BankTemplateTrigger,
  bankTemplateManifestSchema,
} from './bank-template.manifest.js';
import { directivesByName, existingModelIds, templateDirectives, templateModels } from './bank-templates.queries.js';

/** One thing wrong with a manifest: where (`['mental_models', 1, 'id']`) and why. */
export interface BankTemplateIssue {
  path: Array<string | number>;
  message: string;
}

/** A manifest refused as a whole, every issue listed; nothing was written. */
export class BankTemplateInvalidError extends Error {
  constructor(readonly issues: BankTemplateIssue[]) {
    super(issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
    this.name = 'BankTemplateInvalidError';
  }
}

/** What an import did, or with `dryRun` would do. */
export interface BankTemplateImport {
  bankId: string;
  configApplied: boolean;
  mentalModelsCreated: string[];
  mentalModelsUpdated: string[];
  directivesCreated: string[];
  directivesUpdated: string[];
  operationIds: string[];
  dryRun: boolean;
}

/** A manifest that passed every check, normalised as the routes would store it. */
interface ImportPlan {
  config: Record<string, unknown>;
  models: Array<CheckedModelDefinition & { id: string }>;
  directives: Array<Required<CreateDirective>>;
}

/**
 * Hindsight's bank templates: a bank's config overrides, mental models and directives as one
 * manifest, exported from one bank and imported into another.
 *
 * Import is all or nothing. The whole manifest is checked first (its schema, then the checks the
 * config, mental-model and directive routes make, each issue named by its path); then config,
 * models and directives are written in one transaction, with each model's refresh queued in it,
 * so a failure leaves the bank as it was and no refresh is queued for a model that was not
 * written. The refreshes run after the commit, on the operations worker; nothing here calls the
 * LLM.
 */
@Injectable()
export class BankTemplatesService {
  constructor(
    @Inject(MemoryDatabase) private readonly database: MemoryDatabase,
    @Inject(OperationsService) private readonly operations: OperationsService,
    @Inject(OperationsWorker) private readonly worker: OperationsWorker,
    @Inject(MEMORY_OPTIONS) private readonly options: ResolvedMemoryOptions,
  ) {}

  /** The bank's overrides, every mental model and every directive (active or not); 404 for no such bank. */
  async export(bankId: string): Promise<BankTemplateManifest> {
    return this.database.transaction(async (sql) => {
      const bank = await findBank(sql, bankId);
      if (!bank) throw bankNotFound(bankId);
      const models = (await templateModels(sql, bankId)).map(toModel);
      const directives = await templateDirectives(sql, bankId);
      // Only what was set on this bank: a default exported would pin it in every bank imported into.
      const overrides = Object.keys(BANK_CONFIG_DEFAULTS)
        .filter((key) => bank.config[key] != null)
        .map((key) => [key, bank.config[key]]);
      return {
        version: BANK_TEMPLATE_VERSION,
        bank: overrides.length ? Object.fromEntries(overrides) : null,
        mental_models: models.length
          ? models.map((model) => ({
              id: model.id,
              name: model.name,
              source_query: model.sourceQuery,
              tags: model.tags,
              max_tokens: model.maxTokens,
              trigger: manifestTrigger(model.trigger),
            }))
          : null,
        directives: directives.length
          ? directives.map((directive) => ({
              name: directive.name,
              content: directive.content,
              priority: directive.priority,
              is_active: directive.is_active,
              tags: directive.tags ?? [],
            }))
          : null,
      };
    });
  }

  /**
   * Creates the bank when missing, applies the config as per-bank overrides, and creates or
   * updates mental models (matched by id) and directives (matched by name). `dryRun` checks the
   * manifest the same way and reports what would be created or updated, writing nothing.
   */
  async import(bankId: string, manifest: unknown, dryRun: boolean): Promise<BankTemplateImport> {
    const plan = this.check(manifest);
    const ids = plan.models.map((model) => model.id);
    const names = plan.directives.map((directive) => directive.name);
    const outcome = (existingIds: Set<string>, existingNames: Map<string, string>, operationIds: string[]): BankTemplateImport => ({
      bankId,
      configApplied: Object.keys(plan.config).length > 0,
      mentalModelsCreated: ids.filter((id) => !existingIds.has(id)),
      mentalModelsUpdated: ids.filter((id) => existingIds.has(id)),
      directivesCreated: names.filter((name) => !existingNames.has(name)),
      directivesUpdated: names.filter((name) => existingNames.has(name)),
      operationIds,
      dryRun,
    });

    if (dryRun) {
      return this.database.withConnection(async (sql) =>
        outcome(new Set(await existingModelIds(sql, bankId, ids)), await directivesByName(sql, bankId, names), []),
      );
    }

    const result = await this.database.transaction(async (sql) => {
      await ensureBank(sql, bankId);
      // Two imports into one bank take turns: matching directives by name must see the other's.
      await lockBank(sql, bankId);
      if (Object.keys(plan.config).length > 0) await mergeBankConfig(sql, bankId, plan.config);

      const existingIds = new Set(await existingModelIds(sql, bankId, ids));
      const operationIds: string[] = [];
      for (const model of plan.models) {
        const fields = { sourceQuery: model.sourceQuery, tags: model.tags, maxTokens: model.maxTokens, trigger: model.trigger };
        const inserted = await insertModel(sql, { bankId, id: model.id, name: model.name, ...fields });
        if (inserted === undefined) {
          // The manifest defines the model: its trigger replaces the stored one rather than merging into it.
          await updateModel(sql, bankId, model.id, { name: model.name, ...fields });
          existingIds.add(model.id);
        }
        operationIds.push(await this.operations.enqueue(sql, bankId, REFRESH_MENTAL_MODEL, { mental_model_id: model.id }));
      }

      const existingNames = await directivesByName(sql, bankId, names);
      for (const directive of plan.directives) {
        const id = existingNames.get(directive.name);
        if (id === undefined) await insertDirective(sql, { bankId, ...directive });
        else await updateDirective(sql, bankId, id, directive);
      }
      return outcome(existingIds, existingNames, operationIds);
    });
    if (result.operationIds.length > 0) this.worker.notify();
    return result;
  }

  /** Every issue of the manifest, or the plan it describes. */
  private check(raw: unknown): ImportPlan {
    const parsed = bankTemplateManifestSchema.safeParse(raw);
    if (!parsed.success) {
      throw new BankTemplateInvalidError(
        parsed.error.issues.map((issue) => ({ path: issue.path as Array<string | number>, message: issue.message })),
      );
    }
    const manifest = parsed.data;
    const issues: BankTemplateIssue[] = [];
    const checked = <T>(path: Array<string | number>, check: () => T): T | undefined => {
      try {
        return check();
      } catch (error) {
        if (!(error instanceof MemoryException) || ![MemoryErrorCode.InvalidInput, MemoryErrorCode.InvalidConfigKey].includes(error.code)) {
          throw error;
        }
        issues.push({ path: [...path, ...fieldPath(error.field)], message: error.message });
        return undefined;
      }
    };
    const limits = this.options.limits;

    const config: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(manifest.bank ?? {})) {
      // Null leaves a setting as it is, as Hindsight reads a template; PATCH …/config checks the rest.
      if (value == null) continue;
      const normalised = checked(['bank', key], () => normaliseConfigUpdates({ [key]: value }));
      if (normalised) Object.assign(config, normalised);
    }

    const models: ImportPlan['models'] = [];
    const seenIds = new Set<string>();
    (manifest.mental_models ?? []).forEach((model, index) => {
      const at = ['mental_models', index];
      if (seenIds.has(model.id)) issues.push({ path: [...at, 'id'], message: `duplicate id '${model.id}' in the manifest` });
      seenIds.add(model.id);
      if (model.source_query.length > limits.maxQueryChars) {
        issues.push({ path: [...at, 'source_query'], message: `source_query must be at most ${limits.maxQueryChars} characters long` });
      }
      issues.push(...tagIssues(model.tags, [...at, 'tags'], limits));
      const definition = checked(at, () =>
        checkModelDefinition({
          id: model.id,
          name: model.name,
          sourceQuery: model.source_query,
          tags: model.tags,
          maxTokens: model.max_tokens,
          trigger: modelTrigger(model.trigger),
        }),
      );
      if (definition) models.push({ ...definition, id: model.id });
    });

    const directives: ImportPlan['directives'] = [];
    const seenNames = new Set<string>();
    (manifest.directives ?? []).forEach((directive, index) => {
      const at = ['directives', index];
      for (const field of ['name', 'content'] as const) {
        if (directive[field].length > limits.maxQueryChars) {
          issues.push({ path: [...at, field], message: `${field} must be at most ${limits.maxQueryChars} characters long` });
        }
      }
      issues.push(...tagIssues(directive.tags, [...at, 'tags'], limits));
      const definition = checked(at, () =>
        checkDirectiveDefinition({
          name: directive.name,
          content: directive.content,
          priority: directive.priority,
          isActive: directive.is_active,
          tags: directive.tags,
        }),
      );
      if (!definition) return;
      // Names are stored trimmed, so they are matched and told apart trimmed.
      if (seenNames.has(definition.name))
        issues.push({ path: [...at, 'name'], message: `duplicate name '${definition.name}' in the manifest` });
      seenNames.add(definition.name);
      directives.push(definition);
    });

    if (issues.length > 0) throw new BankTemplateInvalidError(issues);
    return { config, models, directives };
  }
}

/** The manifest's trigger as the mental-model routes show it (MentalModelTriggerResponse). */
function manifestTrigger(trigger: MentalModelTrigger): BankTemplateTrigger {
  return mentalModelTriggerWire(trigger);
}

function modelTrigger(trigger: BankTemplateMentalModel['trigger']): Partial<MentalModelTrigger> {
  return {
    refreshAfterConsolidation: trigger.refresh_after_consolidation ?? undefined,
    refreshCron: trigger.refresh_cron ?? undefined,
    factTypes: trigger.fact_types ?? undefined,
    tagsMatch: trigger.tags_match ?? undefined,
    tagGroups: (trigger.tag_groups as TagGroup[] | null | undefined) ?? undefined,
    recallMaxTokens: trigger.recall_max_tokens ?? undefined,
    excludeMentalModels: trigger.exclude_mental_models ?? undefined,
    excludeMentalModelIds: trigger.exclude_mental_model_ids ?? undefined,
  };
}

/** The routes bound tags at the edge (`@LimitedInput('tags')`); a manifest's lists are bounded here. */
function tagIssues(tags: string[], path: Array<string | number>, limits: InputLimits): BankTemplateIssue[] {
  if (tags.length > limits.maxTags) return [{ path, message: `tags must contain at most ${limits.maxTags} tags` }];
  return tags.flatMap((tag, index) =>
    tag.length > limits.maxTagLength
      ? [{ path: [...path, index], message: `tag must be at most ${limits.maxTagLength} characters long` }]
      : [],
  );
}

/** A domain error's field (`trigger.refresh_cron`, `updates.retain_chunk_size`) below the manifest item it came from. */
function fieldPath(field: string | undefined): Array<string | number> {
  if (!field) return [];
  // The config checks name PATCH's body (`updates.<key>`); here the key is already in the path.
  if (field.startsWith('updates.')) return [];
  return field.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

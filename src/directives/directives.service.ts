import { Inject, Injectable } from '@nestjs/common';
import { ensureBank } from '../banks/banks.queries.js';
import { MemoryErrorCode, MemoryException } from '../memory.exception.js';
import { MemoryDatabase } from '../storage/memory-database.js';
import { isUuid } from '../storage/uuid.js';
import type { CreateDirective, Directive, DirectiveListFilter, DirectiveScope, UpdateDirective } from './directive.types.js';
import {
  type DirectiveRow,
  applicableDirectives,
  deleteDirective,
  insertDirective,
  listDirectives,
  selectDirective,
  updateDirective,
} from './directives.queries.js';

/** Postgres `integer`: a priority outside it would fail the insert with a 5xx. */
const MIN_PRIORITY = -2_147_483_648;
const MAX_PRIORITY = 2_147_483_647;

/**
 * Directives: rules a bank's owner writes once and every reflect and mental-model refresh of the
 * bank follows. Reflect and refreshes read them with `applicable` before their LLM call, in a
 * scope of their own, so no connection is held while the LLM answers.
 */
@Injectable()
export class DirectivesService {
  constructor(@Inject(MemoryDatabase) private readonly database: MemoryDatabase) {}

  async list(bankId: string, filter: DirectiveListFilter): Promise<Directive[]> {
    const rows = await this.database.withConnection((sql) => listDirectives(sql, bankId, { ...filter, tags: uniqueTags(filter.tags) }));
    return rows.map(toDirective);
  }

  /** The active directives a prompt in this scope must carry, highest priority first. */
  async applicable(bankId: string, scope: DirectiveScope): Promise<Directive[]> {
    const rows = await this.database.withConnection((sql) => applicableDirectives(sql, bankId, scope));
    return rows.map(toDirective);
  }

  async get(bankId: string, id: string): Promise<Directive> {
    const row = isUuid(id) ? await this.database.withConnection((sql) => selectDirective(sql, bankId, id)) : undefined;
    if (!row) throw notFound(id);
    return toDirective(row);
  }

  /** Creates the bank on first use, as retain and mental models do. */
  async create(bankId: string, request: CreateDirective): Promise<Directive> {
    const fields = checkDirectiveDefinition(request);
    const row = await this.database.transaction(async (sql) => {
      await ensureBank(sql, bankId);
      return insertDirective(sql, { bankId, ...fields });
    });
    return toDirective(row);
  }

  async update(bankId: string, id: string, patch: UpdateDirective): Promise<Directive> {
    const fields = {
      name: patch.name === undefined ? null : requireText(patch.name, 'name'),
      content: patch.content === undefined ? null : requireText(patch.content, 'content'),
      priority: patch.priority === undefined ? null : checkPriority(patch.priority),
      isActive: patch.isActive ?? null,
      tags: patch.tags === undefined ? null : uniqueTags(patch.tags),
    };
    if (!isUuid(id)) throw notFound(id);
    const row = await this.database.withConnection((sql) => updateDirective(sql, bankId, id, fields));
    if (!row) throw notFound(id);
    return toDirective(row);
  }

  async delete(bankId: string, id: string): Promise<void> {
    const affected = isUuid(id) ? await this.database.withConnection((sql) => deleteDirective(sql, bankId, id)) : 0;
    if (affected === 0) throw notFound(id);
  }
}

/**
 * The checks `create` makes, exported for bank templates, which write many directives in one
 * transaction of their own and must refuse a bad one before writing any.
 */
export function checkDirectiveDefinition(request: CreateDirective): Required<CreateDirective> {
  return {
    name: requireText(request.name, 'name'),
    content: requireText(request.content, 'content'),
    priority: checkPriority(request.priority ?? 0),
    isActive: request.isActive ?? true,
    tags: uniqueTags(request.tags ?? []),
  };
}

/** The lines a prompt carries, or nothing when no directive applies. */
export function directivesPrompt(directives: Directive[]): string {
  if (directives.length === 0) return '';
  const lines = directives.map((directive) => `- ${directive.name}: ${directive.content}`);
  return ['', '', 'Directives: rules set by the owner of this memory. Follow every one of them, the first ones first:', ...lines].join(
    '\n',
  );
}

function toDirective(row: DirectiveRow): Directive {
  return {
    id: row.id,
    bankId: row.bank_id,
    name: row.name,
    content: row.content,
    priority: row.priority,
    isActive: row.is_active,
    tags: row.tags ?? [],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function checkPriority(value: number): number {
  if (!Number.isInteger(value) || value < MIN_PRIORITY || value > MAX_PRIORITY) {
    throw new MemoryException(MemoryErrorCode.InvalidInput, 'priority must be a 32-bit integer', 'priority');
  }
  return value;
}

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new MemoryException(MemoryErrorCode.InvalidInput, `${field} cannot be empty`, field);
  }
  return value.trim();
}

function uniqueTags(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim()).filter(Boolean))];
}

/** There is no code of its own for directives: MemoryNotFound carries the 404. */
function notFound(id: string): MemoryException {
  return new MemoryException(MemoryErrorCode.MemoryNotFound, `Directive '${id}' not found`);
}

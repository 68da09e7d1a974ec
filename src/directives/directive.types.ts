import type { TagsMatch } from '../recall/recall.types.js';

export interface Directive {
  id: string;
  bankId: string;
  name: string;
  content: string;
  priority: number;
  isActive: boolean;
  tags: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface CreateDirective {
  name: string;
  content: string;
  priority?: number;
  isActive?: boolean;
  tags?: string[];
}

/** An absent field is left as it is. */
export type UpdateDirective = Partial<CreateDirective>;

export interface DirectiveListFilter {
  /** Empty: every directive, whatever its tags. */
  tags: string[];
  tagsMatch: 'any' | 'all' | 'exact';
  activeOnly: boolean;
  limit: number;
  offset: number;
}

/**
 * Which directives a prompt carries. Untagged directives are global and always apply; a tagged one
 * applies only when the request's tags match it as they would match a memory, or when every
 * directive is asked for.
 */
export interface DirectiveScope {
  tags?: string[];
  tagsMatch?: TagsMatch;
  applyAll?: boolean;
}

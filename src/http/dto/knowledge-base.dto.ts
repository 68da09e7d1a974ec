import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsDefined, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import {
  type CreateKnowledgePage,
  KNOWLEDGE_NAME_MAX_LENGTH,
  KNOWLEDGE_NODE_ID_MAX_LENGTH,
  type KnowledgeNode,
  type KnowledgePage,
  type KnowledgeSearchHit,
  type UpdateKnowledgeNode,
} from '../../knowledge-base/knowledge-base.types.js';
import type { BundleFile } from '../../knowledge-base/knowledge-base.service.js';
import { pageTimestamp, pageType, renderPage } from '../../knowledge-base/page-markdown.js';
import { MAX_MODEL_TOKENS, MIN_MODEL_TOKENS } from '../../mental-models/mental-model.types.js';
import { LimitedInput } from '../input-rules.js';
import { CoerceTags, IsNotBlank, OptionalTags, QueryInt } from './coercions.js';
import { MentalModelTriggerDto, toCreateMentalModel } from './mental-model.dto.js';

/** Hindsight's `CreateFolderRequest`. */
export class CreateKnowledgeFolderRequestDto {
  @ApiProperty()
  @IsString()
  @IsNotBlank('name cannot be empty')
  @MaxLength(KNOWLEDGE_NAME_MAX_LENGTH)
  name: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'The parent folder; the root when absent or null' })
  @IsOptional()
  @IsString()
  @MaxLength(KNOWLEDGE_NODE_ID_MAX_LENGTH)
  parent_id?: string | null;
}

/** Hindsight's `CreatePageRequest`. */
export class CreateKnowledgePageRequestDto {
  @ApiProperty()
  @IsString()
  @IsNotBlank('name cannot be empty')
  @MaxLength(KNOWLEDGE_NAME_MAX_LENGTH)
  name: string;

  @ApiProperty({ description: 'The question the page answers; its refreshes rebuild the content from it' })
  @IsString()
  @IsNotBlank('source_query cannot be empty')
  @LimitedInput('query')
  source_query: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'The parent folder; the root when absent or null' })
  @IsOptional()
  @IsString()
  @MaxLength(KNOWLEDGE_NODE_ID_MAX_LENGTH)
  parent_id?: string | null;

  @ApiPropertyOptional({ type: [String], nullable: true })
  @IsOptional()
  @CoerceTags()
  @IsArray()
  @IsString({ each: true })
  @LimitedInput('tags')
  tags?: string[] | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, default: 4096, minimum: MIN_MODEL_TOKENS, maximum: MAX_MODEL_TOKENS })
  @IsOptional()
  @IsInt()
  @Min(MIN_MODEL_TOKENS)
  @Max(MAX_MODEL_TOKENS)
  max_tokens?: number | null;

  @ApiPropertyOptional({
    type: MentalModelTriggerDto,
    nullable: true,
    description: 'Replaces the page defaults (observations only, refreshed after consolidation) whole',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => MentalModelTriggerDto)
  trigger?: MentalModelTriggerDto | null;
}

/** Hindsight's `UpdateNodeRequest`: each field applies only when present; `parent_id: null` moves to the root. */
export class UpdateKnowledgeNodeRequestDto {
  @ApiPropertyOptional({ type: String, nullable: true })
  @IsOptional()
  @IsString()
  @IsNotBlank('name cannot be empty')
  @MaxLength(KNOWLEDGE_NAME_MAX_LENGTH)
  name?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'The new parent folder; null moves the node to the root' })
  @IsOptional()
  @IsString()
  @MaxLength(KNOWLEDGE_NODE_ID_MAX_LENGTH)
  parent_id?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Pages only; queues a refresh' })
  @IsOptional()
  @IsString()
  @IsNotBlank('source_query cannot be empty')
  @LimitedInput('query')
  source_query?: string | null;

  @OptionalTags()
  tags?: string[] | null;

  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: MIN_MODEL_TOKENS, maximum: MAX_MODEL_TOKENS, description: 'Pages only' })
  @IsOptional()
  @IsInt()
  @Min(MIN_MODEL_TOKENS)
  @Max(MAX_MODEL_TOKENS)
  max_tokens?: number | null;
}

export class SearchKnowledgeBaseQuery {
  @ApiProperty({ minLength: 1, description: 'Search query' })
  @IsDefined({ message: 'q is required' })
  @IsString()
  @MinLength(1)
  @LimitedInput('query')
  q: string;

  @ApiPropertyOptional({ type: 'integer', default: 10, minimum: 1, maximum: 50, description: 'Maximum results to return' })
  @IsOptional()
  @QueryInt()
  @IsInt()
  @Min(1)
  @Max(50)
  limit?: number;
}

export function toCreateKnowledgePage(body: CreateKnowledgePageRequestDto): CreateKnowledgePage {
  // The page's model is checked as POST …/mental-models checks one: the same conversion.
  const model = toCreateMentalModel({ ...body, id: null });
  return {
    name: model.name,
    sourceQuery: model.sourceQuery,
    parentId: body.parent_id ?? null,
    tags: model.tags,
    maxTokens: model.maxTokens,
    trigger: model.trigger,
  };
}

/** `parent_id` present and null is a move to the root; every other null is absent. */
export function toUpdateKnowledgeNode(body: UpdateKnowledgeNodeRequestDto): UpdateKnowledgeNode {
  return {
    name: body.name ?? undefined,
    parentId: body.parent_id === undefined ? undefined : body.parent_id,
    sourceQuery: body.source_query ?? undefined,
    tags: body.tags ?? undefined,
    maxTokens: body.max_tokens ?? undefined,
  };
}

/** Hindsight's `KnowledgeNode`. */
export class KnowledgeNodeResponse {
  @ApiProperty()
  id: string;

  @ApiProperty({ enum: ['folder', 'page'] })
  kind: 'folder' | 'page';

  @ApiProperty()
  name: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  parent_id: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Backing mental model id (pages only)' })
  mental_model_id: string | null;

  @ApiProperty({ default: false, description: 'Client-set flag: true = system-owned, false = hand-authored' })
  managed: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, description: "Page source query (the page's `description`)" })
  description: string | null;

  @ApiProperty({ type: [String], default: [] })
  tags: string[];

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Last refresh (page) or last update (folder)' })
  timestamp: string | null;

  @ApiPropertyOptional({
    type: Boolean,
    nullable: true,
    description:
      'Pages, in the tree only: memories of the page’s scope (its fact types and tags) were written since its last refresh, ' +
      'computed as GET …/mental-models/{id} computes is_stale',
  })
  is_stale: boolean | null;

  @ApiProperty({ type: () => [KnowledgeNodeResponse], default: [] })
  children: KnowledgeNodeResponse[];

  static of(node: KnowledgeNode): KnowledgeNodeResponse {
    return {
      id: node.id,
      kind: node.kind,
      name: node.name,
      parent_id: node.parentId,
      mental_model_id: node.mentalModelId,
      managed: node.managed,
      description: node.sourceQuery,
      tags: node.tags,
      timestamp: node.timestamp ? node.timestamp.toISOString() : null,
      is_stale: node.isStale,
      children: node.children.map(KnowledgeNodeResponse.of),
    };
  }
}

/** Hindsight's `KnowledgeTreeResponse`. */
export class KnowledgeTreeResponse {
  @ApiProperty({ type: [KnowledgeNodeResponse] })
  roots: KnowledgeNodeResponse[];
}

/** Hindsight's `CreateKnowledgePageResponse`. */
export class CreateKnowledgePageResponse {
  @ApiProperty()
  page_id: string;

  @ApiProperty()
  mental_model_id: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'The refresh that writes the first content' })
  operation_id: string | null;
}

/** Hindsight's `KnowledgePageResponse`. */
export class KnowledgePageResponse {
  @ApiProperty()
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty({ description: "Page type: from a `type:<x>` tag, else 'knowledge-page'" })
  type: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'The source query that rebuilds the page' })
  description: string | null;

  @ApiProperty({ type: [String], default: [], description: 'The tags, without the `type:` ones' })
  tags: string[];

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Last refresh time (falls back to creation)' })
  timestamp: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: "The page's synthesized markdown body" })
  body: string | null;

  @ApiProperty({ description: 'The full markdown document: YAML frontmatter + markdown body' })
  markdown: string;

  static of(page: KnowledgePage): KnowledgePageResponse {
    const { type, displayTags } = pageType(page.tags);
    return {
      id: page.id,
      name: page.name,
      type,
      description: page.sourceQuery,
      tags: displayTags,
      timestamp: pageTimestamp(page),
      body: page.content,
      markdown: renderPage(page),
    };
  }
}

/** Hindsight's `KnowledgePageBundleFile`. */
export class KnowledgePageBundleFileResponse {
  @ApiProperty()
  path: string;

  @ApiProperty()
  content: string;
}

/** Hindsight's `KnowledgePageBundleResponse`. */
export class KnowledgePageBundleResponse {
  @ApiProperty({ type: [KnowledgePageBundleFileResponse] })
  files: KnowledgePageBundleFileResponse[];

  static of(files: BundleFile[]): KnowledgePageBundleResponse {
    return { files: files.map((file) => ({ path: file.path, content: file.content })) };
  }
}

/** Hindsight's `KnowledgePageSearchResult`. */
export class KnowledgePageSearchResultResponse {
  @ApiProperty()
  id: string;

  @ApiProperty()
  name: string;

  @ApiPropertyOptional({ type: String, nullable: true })
  mental_model_id: string | null;

  @ApiProperty({ description: 'The first 280 characters of the content' })
  snippet: string;

  @ApiProperty({ type: 'number', description: 'Reciprocal-rank fusion of the full-text and vector ranks' })
  score: number;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Last refresh' })
  updated_at: string | null;

  static of(hit: KnowledgeSearchHit): KnowledgePageSearchResultResponse {
    return {
      id: hit.id,
      name: hit.name,
      mental_model_id: hit.mentalModelId,
      snippet: hit.snippet,
      score: hit.score,
      updated_at: hit.updatedAt ? hit.updatedAt.toISOString() : null,
    };
  }
}

/** Hindsight's `KnowledgePageSearchResponse`. */
export class KnowledgePageSearchResponse {
  @ApiProperty({ type: [KnowledgePageSearchResultResponse] })
  results: KnowledgePageSearchResultResponse[];

  @ApiProperty({ type: 'integer' })
  total: number;
}

/** What Hindsight's delete answers (its document leaves the schema open). */
export class KnowledgeNodeDeletedResponse {
  @ApiProperty({ example: 'deleted' })
  status: string;
}

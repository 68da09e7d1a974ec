import type { KnowledgeNode, KnowledgePage } from './knowledge-base.types.js';

/**
 * A page as a markdown document (YAML frontmatter, then the body) and the bundle's index and
 * history files, written as Hindsight 0.9.1 writes them (`api/page_markdown.py`) so that an
 * exported bundle reads the same from either server. Pure: no database, no clock.
 */

export const DEFAULT_PAGE_TYPE = 'knowledge-page';
const TYPE_TAG_PREFIX = 'type:';
export const INDEX_FILENAME = 'index.md';

/** A page declares its type with a `type:<x>` tag (the first one wins); no tag of that form is shown. */
export function pageType(tags: readonly string[]): { type: string; displayTags: string[] } {
  let type = DEFAULT_PAGE_TYPE;
  const displayTags: string[] = [];
  for (const tag of tags) {
    if (tag.startsWith(TYPE_TAG_PREFIX)) {
      const suffix = tag.slice(TYPE_TAG_PREFIX.length).trim();
      if (suffix && type === DEFAULT_PAGE_TYPE) type = suffix;
      continue;
    }
    displayTags.push(tag);
  }
  return { type, displayTags };
}

/** Always double-quoted, so that a name like `true` or `2026-01-01` stays a string in YAML. */
function scalar(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '')}"`;
}

function frontmatter(fields: Array<[string, string | string[] | null]>): string {
  const lines = ['---'];
  for (const [key, value] of fields) {
    if (value === null) continue;
    if (Array.isArray(value)) {
      if (value.length === 0) continue;
      lines.push(`${key}:`, ...value.map((item) => `  - ${scalar(item)}`));
    } else {
      lines.push(`${key}: ${scalar(value)}`);
    }
  }
  lines.push('---');
  return lines.join('\n');
}

/** When the page was last refreshed, else when it was created. */
export function pageTimestamp(page: KnowledgePage): string {
  return (page.lastRefreshedAt ?? page.createdAt).toISOString();
}

export function renderPage(page: KnowledgePage): string {
  const { type, displayTags } = pageType(page.tags);
  const head = frontmatter([
    ['id', page.id],
    ['type', type],
    ['title', page.name],
    ['description', page.sourceQuery],
    ['tags', displayTags],
    ['timestamp', pageTimestamp(page)],
  ]);
  const body = (page.content ?? '').trim();
  return body ? `${head}\n\n${body}\n` : `${head}\n`;
}

export function pageFilename(pageId: string): string {
  return `${pageId}.md`;
}

export function logFilename(pageId: string): string {
  return `${pageId}.log.md`;
}

/** Nested navigation over the tree: folders as bold entries, pages as links with their query. */
export function renderIndex(roots: readonly KnowledgeNode[]): string {
  const lines = [
    frontmatter([
      ['type', 'index'],
      ['title', 'Knowledge base'],
    ]),
    '',
    '# Knowledge base',
    '',
  ];
  const walk = (nodes: readonly KnowledgeNode[], depth: number) => {
    for (const node of nodes) {
      const indent = '  '.repeat(depth);
      if (node.kind === 'folder') {
        lines.push(`${indent}- **${node.name}/**`);
        walk(node.children, depth + 1);
      } else {
        const link = `${indent}- [${node.name}](./${pageFilename(node.id)})`;
        lines.push(node.sourceQuery ? `${link} — ${node.sourceQuery}` : link);
      }
    }
  };
  walk(roots, 0);
  if (lines.length === 4) lines.push('_No knowledge pages yet._');
  return `${lines.join('\n')}\n`;
}

/** The page's content before each change, newest first; the bundle leaves it out for a page never changed. */
export function renderLog(page: KnowledgePage, history: ReadonlyArray<{ previousContent: string | null; changedAt: Date }>): string {
  const lines = [
    frontmatter([
      ['type', 'log'],
      ['title', `${page.name} — history`],
    ]),
    '',
    `# ${page.name} — history`,
    '',
  ];
  for (const entry of history) {
    const previous = (entry.previousContent ?? '').trim();
    lines.push(`## ${entry.changedAt.toISOString()}`, '', previous || '_(empty)_', '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

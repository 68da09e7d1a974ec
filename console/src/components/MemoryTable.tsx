import type { MemoryListItem } from '../wire';
import { bankHref } from './BankLayout';
import { DataTable } from './DataTable';
import { Tags } from './Tags';
import { TimeText } from './TimeText';

export function memoryHref(bankId: string, memoryId: string): string {
  return bankHref(bankId, `/memories/${encodeURIComponent(memoryId)}`);
}

interface MemoryTableProps {
  bankId: string;
  caption: string;
  items: MemoryListItem[];
  empty?: string;
  /** Observations show how many memories back them; facts their document. */
  variant?: 'facts' | 'observations';
}

/** Memories as rows: each text links to the memory's own page. */
export function MemoryTable({ bankId, caption, items, empty = 'No memories match.', variant = 'facts' }: MemoryTableProps) {
  return (
    <DataTable
      caption={caption}
      rows={items}
      rowKey={(memory) => memory.id}
      empty={empty}
      columns={[
        {
          header: 'Text',
          kind: 'text',
          cell: (memory) => (
            <>
              <a href={memoryHref(bankId, memory.id)}>{memory.text}</a>
              {memory.state === 'invalidated' && <span className="badge"> invalidated</span>}
            </>
          ),
        },
        { header: 'Type', cell: (memory) => <span className="badge">{memory.fact_type}</span> },
        variant === 'observations'
          ? { header: 'Sources', kind: 'num', cell: (memory) => memory.source_memory_ids.length }
          : {
              header: 'Document',
              cell: (memory) =>
                memory.document_id ? (
                  <a href={bankHref(bankId, `/documents/${encodeURIComponent(memory.document_id)}`)}>{memory.document_id}</a>
                ) : (
                  <span className="muted">—</span>
                ),
            },
        { header: 'Tags', cell: (memory) => <Tags tags={memory.tags} /> },
        { header: 'Entities', kind: 'text', cell: (memory) => memory.entities || <span className="muted">—</span> },
        { header: 'Mentioned', cell: (memory) => <TimeText value={memory.mentioned_at} /> },
      ]}
    />
  );
}

import { useState } from 'react';
import { bankPath } from '../api';
import { useApi } from '../useApi';
import type { MemoryListItem, Page } from '../wire';
import { Pager } from './DataTable';
import { ErrorNotice } from './ErrorNotice';
import { MemoryTable } from './MemoryTable';

const PAGE_SIZE = 25;

/**
 * The memories a document or an entity page lists under its own details: one page of the bank's
 * memory list narrowed by `filter` (`document_id` or `entity_id`), under `title`.
 */
export function LinkedMemories({ bankId, filter, title }: { bankId: string; filter: Record<string, string>; title: string }) {
  const [offset, setOffset] = useState(0);
  const memories = useApi<Page<MemoryListItem>>(bankPath(bankId, '/memories/list'), { ...filter, limit: PAGE_SIZE, offset });
  return (
    <>
      <h2>{title}</h2>
      <ErrorNotice error={memories.error} title="Could not list its memories" />
      {memories.data && (
        <>
          <MemoryTable bankId={bankId} caption={title} items={memories.data.items} />
          <Pager
            offset={offset}
            limit={PAGE_SIZE}
            count={memories.data.items.length}
            total={memories.data.total}
            onChange={setOffset}
            label="Memory pages"
          />
        </>
      )}
    </>
  );
}

import { useState } from 'react';
import { bankPath } from '../api';
import { Pager } from '../components/DataTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { MemoryTable } from '../components/MemoryTable';
import { Tags } from '../components/Tags';
import { TimeText } from '../components/TimeText';
import { useApi } from '../useApi';
import type { DocumentDetail as Document, MemoryListItem, Page } from '../wire';

const PAGE_SIZE = 25;

export default function DocumentDetail({ bankId, documentId }: { bankId: string; documentId: string }) {
  const document = useApi<Document>(bankPath(bankId, `/documents/${encodeURIComponent(documentId)}`));
  const [offset, setOffset] = useState(0);
  const memories = useApi<Page<MemoryListItem>>(bankPath(bankId, '/memories/list'), { document_id: documentId, limit: PAGE_SIZE, offset });
  const data = document.data;
  return (
    <article>
      <h1>{documentId}</h1>
      <ErrorNotice error={document.error} title="Could not read the document" />
      {document.loading && !data && <Loading />}
      {data && (
        <>
          <dl className="facts">
            <dt>Memories</dt>
            <dd>{data.memory_unit_count}</dd>
            <dt>Tags</dt>
            <dd>
              <Tags tags={data.tags} />
            </dd>
            <dt>Created</dt>
            <dd>
              <TimeText value={data.created_at} />
            </dd>
            <dt>Updated</dt>
            <dd>
              <TimeText value={data.updated_at} />
            </dd>
          </dl>
          <details className="panel">
            <summary>Original text</summary>
            <p className="document-text">{data.original_text ?? <span className="muted">Not kept.</span>}</p>
          </details>
        </>
      )}
      <h2>Memories from this document</h2>
      <ErrorNotice error={memories.error} title="Could not list its memories" />
      {memories.data && (
        <>
          <MemoryTable bankId={bankId} caption="Memories from this document" items={memories.data.items} />
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
    </article>
  );
}

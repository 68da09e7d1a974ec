import { bankPath } from '../api';
import { bankHref } from '../components/BankLayout';
import { DataTable, Pager } from '../components/DataTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { SearchFilter } from '../components/SearchFilter';
import { Loading } from '../components/Loading';
import { Tags } from '../components/Tags';
import { TimeText } from '../components/TimeText';
import { useApi } from '../useApi';
import { useFilteredPages } from '../useFilteredPages';
import type { DocumentSummary, Page } from '../wire';

const PAGE_SIZE = 25;

export function documentHref(bankId: string, documentId: string): string {
  return bankHref(bankId, `/documents/${encodeURIComponent(documentId)}`);
}

export default function Documents({ bankId }: { bankId: string }) {
  const { filter: q, setFilter: setQ, offset, setOffset } = useFilteredPages('');
  const documents = useApi<Page<DocumentSummary>>(bankPath(bankId, '/documents'), { q: q.trim(), limit: PAGE_SIZE, offset });
  const page = documents.data;
  return (
    <section>
      <h2>Documents</h2>
      <SearchFilter what="documents" label="Document ID contains" value={q} onChange={setQ} />
      <ErrorNotice error={documents.error} title="Could not list the documents" />
      {!page ? (
        documents.loading && <Loading />
      ) : (
        <>
          <DataTable
            caption="Documents"
            rows={page.items}
            rowKey={(document) => document.id}
            empty="No documents: memories retained with a document_id appear here."
            columns={[
              { header: 'Document', cell: (document) => <a href={documentHref(bankId, document.id)}>{document.id}</a> },
              { header: 'Memories', kind: 'num', cell: (document) => document.memory_unit_count },
              { header: 'Characters', kind: 'num', cell: (document) => document.text_length },
              { header: 'Tags', cell: (document) => <Tags tags={document.tags} /> },
              { header: 'Created', cell: (document) => <TimeText value={document.created_at} /> },
              { header: 'Updated', cell: (document) => <TimeText value={document.updated_at} /> },
            ]}
          />
          <Pager
            offset={offset}
            limit={PAGE_SIZE}
            count={page.items.length}
            total={page.total}
            onChange={setOffset}
            label="Document pages"
          />
        </>
      )}
    </section>
  );
}

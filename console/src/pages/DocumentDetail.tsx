import { bankPath } from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { LinkedMemories } from '../components/LinkedMemories';
import { Tags } from '../components/Tags';
import { TimeText } from '../components/TimeText';
import { useApi } from '../useApi';
import type { DocumentDetail as Document } from '../wire';

export default function DocumentDetail({ bankId, documentId }: { bankId: string; documentId: string }) {
  const document = useApi<Document>(bankPath(bankId, `/documents/${encodeURIComponent(documentId)}`));
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
      <LinkedMemories bankId={bankId} filter={{ document_id: documentId }} title="Memories from this document" />
    </article>
  );
}

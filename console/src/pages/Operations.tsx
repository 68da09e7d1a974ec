import { useEffect, useId, useState } from 'react';
import { apiFetch, bankPath } from '../api';
import { ErrorAlert } from '../components/play/Notice';
import { WebhookDeliveries } from '../components/play/WebhookDeliveries';
import { errorText, formatDateTime } from '../components/play/format';
import '../components/play/play.css';
import { useLoad } from '../components/play/useLoad';
import { useFilteredPages } from '../useFilteredPages';
import { OPERATION_STATUSES, type OperationStatus, type OperationWire, type OperationsListWire } from '../components/play/wire';

const PAGE_SIZE = 20;
/** While an operation is pending or processing the table refreshes itself at this pace. */
const POLL_MS = 3000;

type Action = 'retry' | 'cancel';

export default function Operations({ bankId }: { bankId: string }) {
  const ids = useId();
  const { filter: status, setFilter: setStatus, offset, setOffset } = useFilteredPages<OperationStatus | ''>('');
  const [notice, setNotice] = useState('');
  const [actionError, setActionError] = useState<unknown>();
  const [acting, setActing] = useState<string>();

  const operations = useLoad(`${bankId}\n${status}\n${offset}`, (signal) =>
    apiFetch<OperationsListWire>(bankPath(bankId, '/operations'), {
      query: { status: status || undefined, limit: PAGE_SIZE, offset },
      signal,
    }),
  );
  const page = operations.data;
  const { reload } = operations;

  const unfinished = page?.operations.some((operation) => operation.status === 'pending' || operation.status === 'processing') ?? false;
  useEffect(() => {
    if (!unfinished) return;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [unfinished, reload]);

  async function act(operation: OperationWire, action: Action) {
    if (acting) return;
    setActing(operation.id);
    setActionError(undefined);
    setNotice('');
    const path = bankPath(bankId, `/operations/${encodeURIComponent(operation.id)}`);
    try {
      if (action === 'retry') await apiFetch(`${path}/retry`, { method: 'POST' });
      else await apiFetch(path, { method: 'DELETE' });
      setNotice(`${operation.task_type} operation ${action === 'retry' ? 'queued for retry' : 'cancelled'}.`);
      reload();
    } catch (caught) {
      setActionError(new Error(`${action === 'retry' ? 'Retry' : 'Cancel'} failed: ${errorText(caught)}`));
      reload();
    } finally {
      setActing(undefined);
    }
  }

  return (
    <div className="play-page">
      <h1>Operations</h1>
      <p className="muted">
        Background work of <strong>{bankId}</strong> (async retains, consolidation, exports), newest first.
      </p>
      <div className="filters">
        <div className="field">
          <label htmlFor={`${ids}-status`}>Status</label>
          <select id={`${ids}-status`} value={status} onChange={(event) => setStatus(event.target.value as OperationStatus | '')}>
            <option value="">all</option>
            {OPERATION_STATUSES.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        </div>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>

      <p role="status" className="play-status-line">
        {notice}
      </p>
      <ErrorAlert error={actionError} />
      <ErrorAlert error={operations.error} title="Could not load the operations" />
      {operations.loading && !page && <p role="status">Loading operations…</p>}

      {page && (
        <section className="panel">
          <h2 id={`${ids}-list`} className="visually-hidden">
            Operation list
          </h2>
          {page.operations.length === 0 ? (
            <p>{status ? `No ${status} operations.` : 'No operations yet.'}</p>
          ) : (
            <div className="table-scroll" role="region" aria-labelledby={`${ids}-list`} tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Kind</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="num">
                      Items
                    </th>
                    <th scope="col" className="num">
                      <abbr title="Attempts after the first; the operations list reports no other count">Retries</abbr>
                    </th>
                    <th scope="col">Created</th>
                    <th scope="col">Updated</th>
                    <th scope="col">Error</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {page.operations.map((operation) => (
                    <tr key={operation.id}>
                      <td>
                        {operation.task_type}
                        <div className="muted play-id" title={operation.id}>
                          {operation.id.slice(0, 8)}
                        </div>
                      </td>
                      <td>
                        <span className={`play-status play-status-${operation.status}`}>{operation.status}</span>
                        {operation.next_retry_at && <div className="muted">next retry {formatDateTime(operation.next_retry_at)}</div>}
                      </td>
                      <td className="num">{operation.items_count}</td>
                      <td className="num">{operation.retry_count ?? 0}</td>
                      <td>{formatDateTime(operation.created_at)}</td>
                      <td>{formatDateTime(operation.updated_at)}</td>
                      <td className="play-error-cell">{operation.error_message ?? ''}</td>
                      <td>
                        {(operation.status === 'failed' || operation.status === 'cancelled') && (
                          <button type="button" aria-disabled={acting === operation.id} onClick={() => void act(operation, 'retry')}>
                            Retry
                          </button>
                        )}
                        {operation.status === 'pending' && (
                          <button type="button" aria-disabled={acting === operation.id} onClick={() => void act(operation, 'cancel')}>
                            Cancel
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <div className="pager">
            <button type="button" aria-disabled={offset === 0} onClick={() => offset > 0 && setOffset(Math.max(offset - PAGE_SIZE, 0))}>
              Previous
            </button>
            <span>
              {page.total === 0 ? '0' : `${offset + 1}–${Math.min(offset + page.operations.length, page.total)}`} of {page.total}
            </span>
            <button
              type="button"
              aria-disabled={offset + PAGE_SIZE >= page.total}
              onClick={() => offset + PAGE_SIZE < page.total && setOffset(offset + PAGE_SIZE)}
            >
              Next
            </button>
          </div>
        </section>
      )}

      <WebhookDeliveries bankId={bankId} />
    </div>
  );
}

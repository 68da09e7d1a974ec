import { useId } from 'react';
import { bankPath } from '../api';
import { Pager } from '../components/DataTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { MemoryTable } from '../components/MemoryTable';
import { RetainForm } from '../components/RetainForm';
import { useApi } from '../useApi';
import { useFilteredPages } from '../useFilteredPages';
import { MEMORY_TYPES, type MemoryListItem, type Page } from '../wire';

const PAGE_SIZE = 25;

interface Filters {
  q: string;
  type: string;
  tag: string;
  document: string;
  state: string;
}

const NO_FILTERS: Filters = { q: '', type: '', tag: '', document: '', state: '' };

export default function Memories({ bankId }: { bankId: string }) {
  const id = useId();
  const { filter: filters, setFilter: setFilters, offset, setOffset } = useFilteredPages<Filters>(NO_FILTERS);
  const memories = useApi<Page<MemoryListItem>>(bankPath(bankId, '/memories/list'), {
    q: filters.q.trim(),
    type: filters.type,
    tags: filters.tag.trim(),
    document_id: filters.document.trim(),
    state: filters.state,
    limit: PAGE_SIZE,
    offset,
  });

  function filter(name: keyof Filters, value: string) {
    setFilters((previous) => ({ ...previous, [name]: value }));
  }

  const page = memories.data;
  return (
    <section>
      <RetainForm bankId={bankId} onRetained={memories.reload} />
      <h2>Memories</h2>
      <form className="filters" role="search" aria-label="Filter memories" onSubmit={(event) => event.preventDefault()}>
        <div className="field">
          <label htmlFor={`${id}-q`}>Text</label>
          <input id={`${id}-q`} type="search" value={filters.q} onChange={(event) => filter('q', event.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-type`}>Type</label>
          <select id={`${id}-type`} value={filters.type} onChange={(event) => filter('type', event.target.value)}>
            <option value="">any</option>
            {MEMORY_TYPES.map((type) => (
              <option key={type} value={type}>
                {type}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-tag`}>Tag</label>
          <input id={`${id}-tag`} value={filters.tag} onChange={(event) => filter('tag', event.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-document`}>Document</label>
          <input id={`${id}-document`} value={filters.document} onChange={(event) => filter('document', event.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-state`}>State</label>
          <select id={`${id}-state`} value={filters.state} onChange={(event) => filter('state', event.target.value)}>
            {/* The list route shows valid memories unless asked for the invalidated ones. */}
            <option value="">valid</option>
            <option value="invalidated">invalidated</option>
          </select>
        </div>
        <button type="button" className="secondary" onClick={() => setFilters(NO_FILTERS)}>
          Clear filters
        </button>
      </form>
      <ErrorNotice error={memories.error} title="Could not list the memories" />
      {!page ? (
        memories.loading && <Loading />
      ) : (
        <>
          <MemoryTable bankId={bankId} caption="Memories" items={page.items} />
          <Pager offset={offset} limit={PAGE_SIZE} count={page.items.length} total={page.total} onChange={setOffset} label="Memory pages" />
        </>
      )}
    </section>
  );
}

import { bankPath } from '../api';
import { Pager } from '../components/DataTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { SearchFilter } from '../components/SearchFilter';
import { Loading } from '../components/Loading';
import { MemoryTable } from '../components/MemoryTable';
import { useApi } from '../useApi';
import { useFilteredPages } from '../useFilteredPages';
import type { MemoryListItem, Page } from '../wire';

const PAGE_SIZE = 25;

/** Observations are memories of their own type: what consolidation concluded from the facts. */
export default function Observations({ bankId }: { bankId: string }) {
  const { filter: q, setFilter: setQ, offset, setOffset } = useFilteredPages('');
  const observations = useApi<Page<MemoryListItem>>(bankPath(bankId, '/memories/list'), {
    type: 'observation',
    q: q.trim(),
    limit: PAGE_SIZE,
    offset,
  });
  const page = observations.data;
  return (
    <section>
      <h2>Observations</h2>
      <p className="muted">What consolidation concluded from the bank&apos;s facts; open one to see the memories it rests on.</p>
      <SearchFilter what="observations" label="Text" value={q} onChange={setQ} />
      <ErrorNotice error={observations.error} title="Could not list the observations" />
      {!page ? (
        observations.loading && <Loading />
      ) : (
        <>
          <MemoryTable
            bankId={bankId}
            caption="Observations"
            items={page.items}
            variant="observations"
            empty="No observations yet: consolidation builds them from retained facts."
          />
          <Pager
            offset={offset}
            limit={PAGE_SIZE}
            count={page.items.length}
            total={page.total}
            onChange={setOffset}
            label="Observation pages"
          />
        </>
      )}
    </section>
  );
}

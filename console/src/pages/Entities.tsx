import { useState } from 'react';
import { bankPath } from '../api';
import { bankHref } from '../components/BankLayout';
import { DataTable, Pager } from '../components/DataTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { TimeText } from '../components/TimeText';
import { useApi } from '../useApi';
import type { EntitySummary, Page } from '../wire';

const PAGE_SIZE = 50;

export function entityHref(bankId: string, entityId: string): string {
  return bankHref(bankId, `/entities/${encodeURIComponent(entityId)}`);
}

export default function Entities({ bankId }: { bankId: string }) {
  const [offset, setOffset] = useState(0);
  const entities = useApi<Page<EntitySummary>>(bankPath(bankId, '/entities'), { limit: PAGE_SIZE, offset });
  const page = entities.data;
  return (
    <section>
      <h2>Entities</h2>
      <p className="muted">People, places and things the memories mention, most mentioned first.</p>
      <ErrorNotice error={entities.error} title="Could not list the entities" />
      {!page ? (
        entities.loading && <Loading />
      ) : (
        <>
          <DataTable
            caption="Entities"
            rows={page.items}
            rowKey={(entity) => entity.id}
            empty="No entities yet: retain memories that name someone or something."
            columns={[
              { header: 'Name', cell: (entity) => <a href={entityHref(bankId, entity.id)}>{entity.canonical_name}</a> },
              { header: 'Mentions', kind: 'num', cell: (entity) => entity.mention_count },
              { header: 'First seen', cell: (entity) => <TimeText value={entity.first_seen} /> },
              { header: 'Last seen', cell: (entity) => <TimeText value={entity.last_seen} /> },
            ]}
          />
          <Pager offset={offset} limit={PAGE_SIZE} count={page.items.length} total={page.total} onChange={setOffset} label="Entity pages" />
        </>
      )}
    </section>
  );
}

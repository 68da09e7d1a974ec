import { useState } from 'react';
import { bankPath } from '../api';
import { Pager } from '../components/DataTable';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { MemoryTable } from '../components/MemoryTable';
import { TimeText } from '../components/TimeText';
import { useApi } from '../useApi';
import type { EntityDetail as Entity, MemoryListItem, Page } from '../wire';

const PAGE_SIZE = 25;

export default function EntityDetail({ bankId, entityId }: { bankId: string; entityId: string }) {
  const entity = useApi<Entity>(bankPath(bankId, `/entities/${encodeURIComponent(entityId)}`));
  const [offset, setOffset] = useState(0);
  const memories = useApi<Page<MemoryListItem>>(bankPath(bankId, '/memories/list'), { entity_id: entityId, limit: PAGE_SIZE, offset });
  const data = entity.data?.id === entityId ? entity.data : undefined;
  return (
    <article>
      {data ? <h1>{data.canonical_name}</h1> : <h1>Entity</h1>}
      <ErrorNotice error={entity.error} title="Could not read the entity" />
      {entity.loading && !data && <Loading />}
      {data && (
        <>
          <dl className="facts">
            <dt>Mentions</dt>
            <dd>{data.mention_count}</dd>
            <dt>First seen</dt>
            <dd>
              <TimeText value={data.first_seen} />
            </dd>
            <dt>Last seen</dt>
            <dd>
              <TimeText value={data.last_seen} />
            </dd>
          </dl>
          <h2>What the bank has concluded</h2>
          {data.observations.length === 0 ? (
            <p className="muted">No observations about {data.canonical_name} yet.</p>
          ) : (
            <ul className="source-list">
              {data.observations.map((observation, index) => (
                <li key={index}>{observation.text}</li>
              ))}
            </ul>
          )}
        </>
      )}
      <h2>Memories that mention it</h2>
      <ErrorNotice error={memories.error} title="Could not list its memories" />
      {memories.data && (
        <>
          <MemoryTable bankId={bankId} caption="Memories that mention it" items={memories.data.items} />
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

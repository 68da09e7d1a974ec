import { bankPath } from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { LinkedMemories } from '../components/LinkedMemories';
import { TimeText } from '../components/TimeText';
import { useApi } from '../useApi';
import type { EntityDetail as Entity } from '../wire';

export default function EntityDetail({ bankId, entityId }: { bankId: string; entityId: string }) {
  const entity = useApi<Entity>(bankPath(bankId, `/entities/${encodeURIComponent(entityId)}`));
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
      <LinkedMemories bankId={bankId} filter={{ entity_id: entityId }} title="Memories that mention it" />
    </article>
  );
}

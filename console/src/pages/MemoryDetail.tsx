import { type ReactNode, useEffect, useState } from 'react';
import { ApiError, apiFetch, bankPath } from '../api';
import { bankHref } from '../components/BankLayout';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/Loading';
import { memoryHref } from '../components/MemoryTable';
import { Tags } from '../components/Tags';
import { TimeText } from '../components/TimeText';
import { useApi } from '../useApi';
import type { Chunk, MemoryDetail as Memory, ObservationChange } from '../wire';

/** An observation may rest on many memories; the page reads the first ones and says how many more. */
const SOURCES_SHOWN = 30;

type SourceResult = { id: string; memory?: Memory; missing?: boolean };

function useSourceMemories(bankId: string, ids: string[]): SourceResult[] | undefined {
  const idsKey = JSON.stringify(ids.slice(0, SOURCES_SHOWN));
  const [state, setState] = useState<{ key: string; results: SourceResult[] }>();
  useEffect(() => {
    const wanted = JSON.parse(idsKey) as string[];
    if (wanted.length === 0) return;
    const controller = new AbortController();
    Promise.all(
      wanted.map((id) =>
        apiFetch<Memory>(bankPath(bankId, `/memories/${encodeURIComponent(id)}`), { signal: controller.signal }).then(
          (memory): SourceResult => ({ id, memory }),
          (error: unknown): SourceResult => {
            if (error instanceof ApiError && error.status === 404) return { id, missing: true };
            throw error;
          },
        ),
      ),
    ).then(
      (results) => setState({ key: idsKey, results }),
      () => undefined,
    );
    return () => controller.abort();
  }, [bankId, idsKey]);
  if (ids.length === 0) return [];
  return state?.key === idsKey ? state.results : undefined;
}

function ObservationSources({ bankId, memory }: { bankId: string; memory: Memory }) {
  const ids = memory.source_memory_ids ?? [];
  const sources = useSourceMemories(bankId, ids);
  if (ids.length === 0) return <p className="muted">This observation lists no source memories.</p>;
  if (!sources) return <Loading label="Loading its sources…" />;
  return (
    <>
      <p className="muted">
        Built from {ids.length} {ids.length === 1 ? 'memory' : 'memories'}
        {ids.length > SOURCES_SHOWN && ` (the first ${SOURCES_SHOWN} shown)`}:
      </p>
      <ul className="source-list">
        {sources.map(({ id, memory: source, missing }) => (
          <li key={id}>
            {missing || !source ? (
              <span className="muted">{id} (deleted)</span>
            ) : (
              <>
                <a href={memoryHref(bankId, id)}>{source.text}</a> <span className="badge">{source.type}</span>
                {source.document_id && (
                  <span className="muted">
                    {' '}
                    from <a href={bankHref(bankId, `/documents/${encodeURIComponent(source.document_id)}`)}>{source.document_id}</a>
                  </span>
                )}
              </>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}

function FactSource({ bankId, memory }: { bankId: string; memory: Memory }) {
  const chunk = useApi<Chunk>(memory.chunk_id ? `/v1/default/chunks/${encodeURIComponent(memory.chunk_id)}` : null);
  if (!memory.document_id && !memory.chunk_id) {
    return <p className="muted">Retained without a document: the memory is its own source.</p>;
  }
  return (
    <>
      {memory.document_id && (
        <p>
          Document <a href={bankHref(bankId, `/documents/${encodeURIComponent(memory.document_id)}`)}>{memory.document_id}</a>
          {chunk.data && `, chunk ${chunk.data.chunk_index + 1}`}
        </p>
      )}
      <ErrorNotice error={chunk.error} title="Could not read the chunk" />
      {chunk.loading && <Loading label="Loading the chunk…" />}
      {chunk.data && (
        <figure className="chunk">
          <figcaption className="muted">The text it was extracted from</figcaption>
          <blockquote>{chunk.data.chunk_text}</blockquote>
        </figure>
      )}
    </>
  );
}

interface HistoryEvent {
  at: string;
  key: string;
  content: ReactNode;
}

function historyOf(bankId: string, memory: Memory, changes: ObservationChange[]): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  if (memory.mentioned_at) events.push({ at: memory.mentioned_at, key: 'mentioned', content: <>First mentioned.</> });
  changes.forEach((change, index) => {
    const added = change.source_facts.filter((fact) => fact.is_new);
    events.push({
      at: change.changed_at,
      key: `change-${index}`,
      content: (
        <>
          Updated by consolidation{added.length > 0 && ` with ${added.length} new ${added.length === 1 ? 'source' : 'sources'}`}. Before:
          <blockquote>{change.previous_text}</blockquote>
          {added.length > 0 && (
            <ul className="source-list">
              {added.map((fact) => (
                <li key={fact.id}>
                  {fact.text === null ? (
                    <span className="muted">{fact.id} (deleted)</span>
                  ) : (
                    <a href={memoryHref(bankId, fact.id)}>{fact.text}</a>
                  )}
                </li>
              ))}
            </ul>
          )}
        </>
      ),
    });
  });
  if (memory.edited_at) events.push({ at: memory.edited_at, key: 'edited', content: <>Edited through the API.</> });
  if (memory.invalidated_at) {
    events.push({
      at: memory.invalidated_at,
      key: 'invalidated',
      content: <>Invalidated{memory.invalidation_reason ? `: ${memory.invalidation_reason}` : '.'}</>,
    });
  }
  if (memory.superseded_by) {
    events.push({
      at: memory.superseded_at ?? memory.invalidated_at ?? '',
      key: 'superseded',
      content: (
        <>
          Superseded by <a href={memoryHref(bankId, memory.superseded_by)}>a newer memory</a>.
        </>
      ),
    });
  }
  return events.sort((a, b) => a.at.localeCompare(b.at));
}

function History({ bankId, memory }: { bankId: string; memory: Memory }) {
  const isObservation = memory.type === 'observation';
  const changes = useApi<ObservationChange[]>(
    isObservation ? bankPath(bankId, `/memories/${encodeURIComponent(memory.id)}/history`) : null,
  );
  if (isObservation && !changes.data) {
    return changes.error ? (
      <ErrorNotice error={changes.error} title="Could not read the history" />
    ) : (
      <Loading label="Loading its history…" />
    );
  }
  const events = historyOf(bankId, memory, changes.data ?? []);
  return (
    <>
      {memory.superseded_by && (
        <p className="error-notice">
          This memory was superseded <TimeText value={memory.superseded_at} empty="" /> by{' '}
          <a href={memoryHref(bankId, memory.superseded_by)}>a newer memory</a>.
        </p>
      )}
      {memory.state === 'invalidated' && !memory.invalidated_at && (
        // The read route leaves the invalidation's stamps out; the state alone says it happened.
        <p className="error-notice">
          Invalidated{memory.invalidation_reason ? `: ${memory.invalidation_reason}` : '; it no longer takes part in recall.'}
        </p>
      )}
      {events.length === 0 ? (
        <p className="muted">No changes since it was stored.</p>
      ) : (
        <ol className="timeline">
          {events.map((event) => (
            <li key={event.key}>
              <TimeText value={event.at} /> — {event.content}
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

export default function MemoryDetail({ bankId, memoryId }: { bankId: string; memoryId: string }) {
  const memory = useApi<Memory>(bankPath(bankId, `/memories/${encodeURIComponent(memoryId)}`));
  const data = memory.data?.id === memoryId ? memory.data : undefined;
  return (
    <article>
      <h1>Memory</h1>
      <ErrorNotice error={memory.error} title="Could not read the memory" />
      {!data ? (
        memory.loading && <Loading />
      ) : (
        <>
          <p className="memory-text">{data.text}</p>
          <dl className="facts">
            <dt>Type</dt>
            <dd>
              <span className="badge">{data.type}</span>
            </dd>
            <dt>State</dt>
            <dd>{data.state}</dd>
            {data.context && (
              <>
                <dt>Context</dt>
                <dd>{data.context}</dd>
              </>
            )}
            <dt>Occurred</dt>
            <dd>
              <TimeText value={data.occurred_start} />
              {data.occurred_end && data.occurred_end !== data.occurred_start && (
                <>
                  {' – '}
                  <TimeText value={data.occurred_end} />
                </>
              )}
            </dd>
            <dt>Mentioned</dt>
            <dd>
              <TimeText value={data.mentioned_at} />
            </dd>
            <dt>Tags</dt>
            <dd>
              <Tags tags={data.tags} />
            </dd>
            <dt>Entities</dt>
            <dd>{data.entities.length ? data.entities.join(', ') : <span className="muted">—</span>}</dd>
            {Object.keys(data.metadata ?? {}).length > 0 && (
              <>
                <dt>Metadata</dt>
                <dd>
                  <code>{JSON.stringify(data.metadata)}</code>
                </dd>
              </>
            )}
            <dt>ID</dt>
            <dd>
              <code>{data.id}</code>
            </dd>
          </dl>
          <section aria-labelledby="memory-sources">
            <h2 id="memory-sources">Sources</h2>
            {data.type === 'observation' ? (
              <ObservationSources bankId={bankId} memory={data} />
            ) : (
              <FactSource bankId={bankId} memory={data} />
            )}
          </section>
          <section aria-labelledby="memory-history">
            <h2 id="memory-history">History</h2>
            <History bankId={bankId} memory={data} />
          </section>
        </>
      )}
    </article>
  );
}

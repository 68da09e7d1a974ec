import { useCallback, useId, useMemo, useState } from 'react';
import { apiFetch, bankPath } from '../api';
import { ForceGraph, type GraphEdge, type GraphNode } from '../components/play/ForceGraph';
import { ErrorAlert } from '../components/play/Notice';
import '../components/play/play.css';
import { useLoad } from '../components/play/useLoad';
import { type EntityGraphWire, type EntityListWire, bankHref } from '../components/play/wire';

const NODE_CAPS = [25, 50, 100, 200] as const;
/** Strongest co-mentions first: a bank whose top entities share more pairs than this shows the strongest. */
const EDGE_LIMIT = 5000;

interface GraphData {
  nodes: GraphNode[];
  edges: GraphEdge[];
  totalEntities: number;
  edgesCapped: boolean;
}

/**
 * The nodes are the bank's most mentioned entities (the entity list is ordered by mentions), so
 * an entity no memory names together with another still shows; the edges are the co-mention
 * pairs among them.
 */
function joinGraph(bankId: string, entities: EntityListWire, graph: EntityGraphWire): GraphData {
  const shown = new Set(entities.items.map((entity) => entity.id));
  return {
    nodes: entities.items.map((entity) => ({
      id: entity.id,
      label: entity.canonical_name,
      weight: entity.mention_count,
      href: bankHref(bankId, `/entities/${encodeURIComponent(entity.id)}`),
    })),
    edges: graph.edges
      .filter((edge) => shown.has(edge.data.source) && shown.has(edge.data.target))
      .map((edge) => ({ source: edge.data.source, target: edge.data.target, weight: edge.data.weight })),
    totalEntities: entities.total,
    edgesCapped: graph.total_edges >= graph.limit,
  };
}

export default function EntityGraph({ bankId }: { bankId: string }) {
  const ids = useId();
  const [cap, setCap] = useState<number>(50);
  // The pairs do not depend on the cap: a new cap reads only the entity list again.
  const pairs = useLoad(bankId, (signal) =>
    apiFetch<EntityGraphWire>(bankPath(bankId, '/entities/graph'), { query: { limit: EDGE_LIMIT }, signal }),
  );
  const entities = useLoad(`${bankId}\n${cap}`, (signal) =>
    apiFetch<EntityListWire>(bankPath(bankId, '/entities'), { query: { limit: cap }, signal }),
  );
  const data = useMemo(
    () => (entities.data && pairs.data ? joinGraph(bankId, entities.data, pairs.data) : undefined),
    [bankId, entities.data, pairs.data],
  );
  const loading = entities.loading || pairs.loading;
  const error = entities.error ?? pairs.error;
  const { reload: reloadEntities } = entities;
  const { reload: reloadPairs } = pairs;
  const reload = useCallback(() => {
    reloadEntities();
    reloadPairs();
  }, [reloadEntities, reloadPairs]);

  const linkCount = useMemo(() => {
    const count = new Map<string, number>();
    for (const edge of data?.edges ?? []) {
      count.set(edge.source, (count.get(edge.source) ?? 0) + 1);
      count.set(edge.target, (count.get(edge.target) ?? 0) + 1);
    }
    return count;
  }, [data]);

  return (
    <div className="play-page">
      <h1>Entity graph</h1>
      <p className="muted">
        Entities of <strong>{bankId}</strong>, linked when a memory names both; thicker lines are pairs named together more often.
      </p>
      <div className="filters">
        <div className="field">
          <label htmlFor={`${ids}-cap`}>Nodes</label>
          <select id={`${ids}-cap`} value={cap} onChange={(event) => setCap(Number(event.target.value))}>
            {NODE_CAPS.map((option) => (
              <option key={option} value={option}>
                top {option} by mentions
              </option>
            ))}
          </select>
        </div>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>

      <ErrorAlert error={error} title="Could not load the graph" />
      {loading && !data && <p role="status">Loading the graph…</p>}

      {data && (
        <>
          <p role="status">
            Showing {data.nodes.length} of {data.totalEntities} entities (the most mentioned) and {data.edges.length} co-mention links
            {data.edgesCapped && `; only the ${EDGE_LIMIT} strongest pairs of the bank were read`}.
          </p>
          {data.nodes.length === 0 ? (
            <p>This bank has no entities yet: retain memories that name people, places or things.</p>
          ) : (
            <>
              <ForceGraph
                nodes={data.nodes}
                edges={data.edges}
                label={`Co-mention graph of ${data.nodes.length} entities and ${data.edges.length} links; the same entities are listed below`}
              />
              <section className="panel">
                <h2 id={`${ids}-nodes`}>Entities in the graph</h2>
                <div className="table-scroll" role="region" aria-labelledby={`${ids}-nodes`} tabIndex={0}>
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Entity</th>
                        <th scope="col" className="num">
                          Mentions
                        </th>
                        <th scope="col" className="num">
                          Linked entities shown
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.nodes.map((node) => (
                        <tr key={node.id}>
                          <td>
                            <a href={node.href}>{node.label}</a>
                          </td>
                          <td className="num">{node.weight}</td>
                          <td className="num">{linkCount.get(node.id) ?? 0}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </section>
            </>
          )}
        </>
      )}
    </div>
  );
}

import { forceCenter, forceCollide, forceLink, forceManyBody, forceSimulation, forceX, forceY, type SimulationNodeDatum } from 'd3-force';
import { useMemo } from 'react';

export interface GraphNode {
  id: string;
  label: string;
  weight: number;
  href: string;
}

export interface GraphEdge {
  source: string;
  target: string;
  weight: number;
}

interface PlacedNode extends SimulationNodeDatum {
  id: string;
  radius: number;
}

const WIDTH = 800;
const HEIGHT = 560;
const MARGIN = 24;

/**
 * The layout runs to rest before the first paint (a few hundred ticks of d3-force over at most a
 * few hundred nodes): a graph that settles while one looks at it is pretty, but a moving target
 * under the pointer is harder to click, and a still picture is what a screenshot can compare.
 */
function layout(nodes: GraphNode[], edges: GraphEdge[]) {
  const heaviest = Math.max(1, ...nodes.map((node) => node.weight));
  const placed: PlacedNode[] = nodes.map((node) => ({ id: node.id, radius: 5 + 13 * Math.sqrt(node.weight / heaviest) }));
  const links = edges.map((edge) => ({ source: edge.source, target: edge.target, weight: edge.weight }));
  const heaviestLink = Math.max(1, ...edges.map((edge) => edge.weight));
  forceSimulation(placed)
    .force(
      'link',
      forceLink<PlacedNode, (typeof links)[number]>(links)
        .id((node) => node.id)
        .distance(70)
        .strength((link) => 0.2 + 0.6 * (link.weight / heaviestLink)),
    )
    .force('charge', forceManyBody().strength(-160))
    .force(
      'collide',
      forceCollide<PlacedNode>((node) => node.radius + 6),
    )
    // Weak pulls to the middle keep entities that nothing links to from drifting off the picture.
    .force('x', forceX(0).strength(0.06))
    .force('y', forceY(0).strength(0.08))
    .force('center', forceCenter(0, 0))
    .stop()
    .tick(300);

  const xs = placed.map((node) => node.x ?? 0);
  const ys = placed.map((node) => node.y ?? 0);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const scale = Math.min((WIDTH - 2 * MARGIN) / Math.max(maxX - minX, 1), (HEIGHT - 2 * MARGIN) / Math.max(maxY - minY, 1), 2.5);
  const position = new Map(
    placed.map((node) => [
      node.id,
      {
        x: WIDTH / 2 + ((node.x ?? 0) - (minX + maxX) / 2) * scale,
        y: HEIGHT / 2 + ((node.y ?? 0) - (minY + maxY) / 2) * scale,
        radius: node.radius,
      },
    ]),
  );
  return { position, heaviestLink };
}

/**
 * The drawing is one image to assistive technology (its links are out of the tab order too): the
 * page lists the same nodes as links, which keyboard and screen-reader users follow instead.
 */
export function ForceGraph({ nodes, edges, label }: { nodes: GraphNode[]; edges: GraphEdge[]; label: string }) {
  const { position, heaviestLink } = useMemo(() => layout(nodes, edges), [nodes, edges]);
  return (
    <svg className="play-graph" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={label} preserveAspectRatio="xMidYMid meet">
      <g className="play-graph-edges">
        {edges.map((edge) => {
          const from = position.get(edge.source);
          const to = position.get(edge.target);
          if (!from || !to) return null;
          return (
            <line
              key={`${edge.source}-${edge.target}`}
              x1={from.x}
              y1={from.y}
              x2={to.x}
              y2={to.y}
              strokeWidth={1 + 3 * (edge.weight / heaviestLink)}
            />
          );
        })}
      </g>
      <g className="play-graph-nodes">
        {nodes.map((node) => {
          const at = position.get(node.id)!;
          return (
            <a key={node.id} href={node.href} tabIndex={-1} data-entity-id={node.id}>
              <title>{`${node.label}: ${node.weight} mentions`}</title>
              <circle cx={at.x} cy={at.y} r={at.radius} />
              <text x={at.x} y={at.y + at.radius + 12} textAnchor="middle">
                {node.label}
              </text>
            </a>
          );
        })}
      </g>
    </svg>
  );
}

import { forceCenter, forceCollide, forceLink, forceManyBody, forceSimulation, forceX, forceY, type SimulationNodeDatum } from 'd3-force';
import { useEffect, useMemo, useRef, useState } from 'react';

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

// Room for the largest node and the label under it, and for a long label at the sides.
const MARGIN = 40;
/** The drawing's width until its box has been measured. */
const DEFAULT_WIDTH = 800;
/** A narrower box shows this width scaled down rather than crowding the nodes into it. */
const MIN_WIDTH = 320;
/** Only the most mentioned are labelled in the drawing (the others on hover): more labels overlap into noise. */
const LABELLED = 60;

/**
 * The layout runs to rest before the first paint (a few hundred ticks of d3-force over at most a
 * few hundred nodes): a graph that settles while one looks at it is pretty, but a moving target
 * under the pointer is harder to click, and a still picture is what a screenshot can compare.
 */
function simulate(nodes: GraphNode[], edges: GraphEdge[]): PlacedNode[] {
  const heaviest = Math.max(1, ...nodes.map((node) => node.weight));
  // Smaller circles when there are many, so a crowded graph keeps room between them.
  const largest = nodes.length > 100 ? 10 : 18;
  const placed: PlacedNode[] = nodes.map((node) => ({ id: node.id, radius: 4 + (largest - 4) * Math.sqrt(node.weight / heaviest) }));
  const links = edges.map((edge) => ({ source: edge.source, target: edge.target, weight: edge.weight }));
  const heaviestLink = Math.max(1, ...edges.map((edge) => edge.weight));
  // Many-body repulsion is most of the cost: on a large graph fewer, bigger steps and a coarser
  // Barnes–Hut approximation keep the layout near 150 ms on a slow machine, with the same shape.
  const ticks = nodes.length > 60 ? 150 : 300;
  forceSimulation(placed)
    .alphaDecay(1 - Math.pow(0.001, 1 / ticks))
    .force(
      'link',
      forceLink<PlacedNode, (typeof links)[number]>(links)
        .id((node) => node.id)
        .distance(70)
        .strength((link) => 0.2 + 0.6 * (link.weight / heaviestLink)),
    )
    .force('charge', forceManyBody().strength(-160).theta(1.2).distanceMax(350))
    .force(
      'collide',
      forceCollide<PlacedNode>((node) => node.radius + 6),
    )
    // Weak pulls to the middle keep entities that nothing links to from drifting off the picture.
    .force('x', forceX(0).strength(0.06))
    .force('y', forceY(0).strength(0.08))
    .force('center', forceCenter(0, 0))
    .stop()
    .tick(ticks);
  return placed;
}

/** Fits the layout into a drawing as wide as its box: one unit a CSS pixel, so labels keep their size on a phone. */
function fit(placed: PlacedNode[], width: number) {
  const many = placed.length > 100;
  const xs = placed.map((node) => node.x ?? 0);
  const ys = placed.map((node) => node.y ?? 0);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const [spanX, spanY] = [Math.max(maxX - minX, 1), Math.max(maxY - minY, 1)];
  // As wide as the box allows (a small graph is not blown up past 2.5×), then as tall as that
  // makes the layout, within what a screen shows at once.
  const tallest = width < 600 ? width * 1.4 : many ? 900 : 640;
  let scale = Math.min((width - 2 * MARGIN) / spanX, 2.5);
  if (spanY * scale + 2 * MARGIN > tallest) scale = (tallest - 2 * MARGIN) / spanY;
  const height = Math.round(Math.max(spanY * scale + 2 * MARGIN, 240));
  const position = new Map(
    placed.map((node) => [
      node.id,
      {
        x: width / 2 + ((node.x ?? 0) - (minX + maxX) / 2) * scale,
        y: height / 2 + ((node.y ?? 0) - (minY + maxY) / 2) * scale,
        radius: node.radius,
      },
    ]),
  );
  return { position, height };
}

function useWidth() {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(DEFAULT_WIDTH);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => setWidth(Math.max(Math.round(entry.contentRect.width), MIN_WIDTH)));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

/**
 * The drawing is one image to assistive technology, and its nodes open on a pointer's click only:
 * the page lists the same nodes as links, which keyboard and screen-reader users follow instead
 * (links inside an image would be controls nested in a non-interactive role).
 *
 * `nodes` come most important first: the first ones are the ones labelled.
 */
export function ForceGraph({ nodes, edges, label }: { nodes: GraphNode[]; edges: GraphEdge[]; label: string }) {
  const placed = useMemo(() => simulate(nodes, edges), [nodes, edges]);
  const { ref, width } = useWidth();
  const { position, height } = useMemo(() => fit(placed, width), [placed, width]);
  const heaviestLink = Math.max(1, ...edges.map((edge) => edge.weight));
  return (
    <div ref={ref} className="play-graph-box">
      <svg className="play-graph" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={label}>
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
          {nodes.map((node, index) => {
            const at = position.get(node.id);
            if (!at) return null;
            return (
              <g key={node.id} className="play-graph-node" data-entity-id={node.id} onClick={() => (window.location.hash = node.href)}>
                <title>{`${node.label}: ${node.weight} mentions`}</title>
                <circle cx={at.x} cy={at.y} r={at.radius} />
                {index < LABELLED && (
                  <text x={at.x} y={at.y + at.radius + 12} textAnchor="middle">
                    {node.label}
                  </text>
                )}
              </g>
            );
          })}
        </g>
      </svg>
    </div>
  );
}

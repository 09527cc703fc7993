// The dependency graph as text: Graphviz DOT, Mermaid or JSON. Nodes are pages coloured by state, edges run
// from a page's predecessor to the page, and each book is a cluster (DOT) or subgraph (Mermaid). Pure: the
// `graph` command gathers the input from a plan.
import type { State } from '../plan/types.js';
import { STATES } from '../plan/types.js';
import { unreachable } from '../errors.js';
import { LOOK } from './palette.js';

export const GRAPH_FORMATS = ['dot', 'mermaid', 'json'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export interface GraphNode {
  key: string;
  state: State;
  /** The book: the wildcard values but the page, joined by `:`. */
  chain: string;
  /** Output path, relative to the project root. */
  output: string;
}

export interface GraphEdge {
  from: string;
  to: string;
}

export interface GraphModel {
  engine: string;
  /** False for engines that send no context (local): the edges are book order, not dependencies. */
  dependent: boolean;
  /** In chain order; pages of one book are adjacent. */
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** The JSON contract: `{engine, dependent, nodes: [{key, state, chain, output}], edges: [{from, to}]}`. */
export function renderGraph(g: GraphModel, format: GraphFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify({ engine: g.engine, dependent: g.dependent, nodes: g.nodes, edges: g.edges })}\n`;
    case 'dot':
      return renderDot(g);
    case 'mermaid':
      return renderMermaid(g);
    default:
      return unreachable(format, 'graph format');
  }
}

/** Consecutive nodes of one book (nodes come in chain order). */
function books(nodes: readonly GraphNode[]): { id: string; nodes: GraphNode[] }[] {
  const out: { id: string; nodes: GraphNode[] }[] = [];
  for (const n of nodes) {
    const last = out.at(-1);
    if (last && last.id === n.chain) last.nodes.push(n);
    else out.push({ id: n.chain, nodes: [n] });
  }
  return out;
}

const dotString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;

function renderDot(g: GraphModel): string {
  const lines = [
    'digraph ocrmake {',
    `  graph [rankdir=LR, fontname="Helvetica", fontsize=11, labelloc=t, label=${dotString(`ocrmake: ${g.nodes.length} pages (${g.engine} engine)`)}];`,
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, penwidth=1.2];',
    `  edge [color="#6b7280", arrowsize=0.7${g.dependent ? '' : ', style=dashed'}];`,
  ];
  if (!g.dependent) lines.push(`  // the ${g.engine} engine sends no context: pages do not depend on their predecessor; edges show book order`);
  for (const [i, book] of books(g.nodes).entries()) {
    lines.push(`  subgraph cluster_${i} {`, `    label=${dotString(book.id)};`, '    style="rounded"; color="#c7ccd4"; fontcolor="#374151";');
    for (const n of book.nodes) {
      const look = LOOK[n.state];
      // The state is in the label as well, so the colour is not the only cue.
      const style = look.mark === 'outline' ? 'rounded,filled,dashed' : look.mark === 'hatch' ? 'rounded,filled,diagonals' : 'rounded,filled';
      lines.push(`    ${dotString(n.key)} [label=${dotString(`${n.key}\n${n.state}`)}, fillcolor="${look.fill}", color="${look.stroke}", fontcolor="${look.text}", style="${style}"];`);
    }
    lines.push('  }');
  }
  for (const e of g.edges) lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Mermaid ids must be plain words; class names too (`missing-input` becomes `missing_input`). */
const mermaidClass = (s: State) => s.replace(/-/g, '_');
const mermaidLabel = (s: string) => `"${s.replace(/"/g, '#quot;')}"`;

function renderMermaid(g: GraphModel): string {
  const id = new Map(g.nodes.map((n, i) => [n.key, `p${i}`]));
  const lines = ['flowchart LR'];
  for (const s of STATES) {
    const look = LOOK[s];
    const dash = look.mark === 'outline' ? ',stroke-dasharray:4 2' : '';
    lines.push(`  classDef ${mermaidClass(s)} fill:${look.fill},stroke:${look.stroke},color:${look.text}${dash};`);
  }
  for (const [i, book] of books(g.nodes).entries()) {
    lines.push(`  subgraph b${i}[${mermaidLabel(book.id)}]`);
    for (const n of book.nodes) lines.push(`    ${id.get(n.key)}[${mermaidLabel(`${n.key} · ${n.state}`)}]`);
    lines.push('  end');
  }
  const arrow = g.dependent ? '-->' : '-.->';
  for (const e of g.edges) lines.push(`  ${id.get(e.from)} ${arrow} ${id.get(e.to)}`);
  for (const s of STATES) {
    const members = g.nodes.filter((n) => n.state === s).map((n) => id.get(n.key));
    if (members.length > 0) lines.push(`  class ${members.join(',')} ${mermaidClass(s)};`);
  }
  return `${lines.join('\n')}\n`;
}

// `ocrmake graph` through the real CLI on the sample project, with states made in-process by the fake
// engine (a dead page with blocked successors, a deleted output): JSON parsed, DOT and Mermaid checked with
// small parsers of their own, and DOT laid out by Graphviz when it is installed.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runBuild } from '../src/execute/build.js';
import { STATES } from '../src/plan/types.js';
import { LOOK } from '../src/report/palette.js';
import { fakeEngine } from './util/fake-engine.js';
import { makeProject, runCli } from './util/rig.js';

const AL = 'Alabama:Howard College:1849';
const CA = 'California:College of California:1860';
const VA = 'Virginia:Hampden-Sydney College:1851';
const ENGINE = ['--engine', 'gemini-batch'];

interface GraphJson {
  engine: string;
  dependent: boolean;
  nodes: { key: string; state: string; chain: string; output: string }[];
  edges: { from: string; to: string }[];
}

let dir = '';
let json: GraphJson;

before(async () => {
  dir = makeProject();
  const b = await runBuild({
    root: dir, cwd: dir, selectors: [], dryRun: false, force: false, engine: 'gemini-batch', emit: () => {},
    createEngine: () => fakeEngine({ fail: (r) => (r.key === `${AL}:2` ? 'json-error' : null) }),
  });
  assert.equal(b.exitCode, 1, 'Alabama page 2 ends dead');
  fs.rmSync(path.join(dir, 'dataset/output_results/California/College of California/1860/4.json'));
  const r = await runCli(dir, ['graph', '--format', 'json', ...ENGINE]);
  assert.equal(r.code, 0, r.stderr);
  json = JSON.parse(r.stdout);
});

const EXPECTED_EDGES = [
  [`${AL}:1`, `${AL}:2`], [`${AL}:2`, `${AL}:3`], [`${AL}:3`, `${AL}:4`],
  [`${CA}:3`, `${CA}:4`], [`${CA}:4`, `${CA}:5`],
  [`${VA}:1`, `${VA}:2`], [`${VA}:2`, `${VA}:3`], [`${VA}:3`, `${VA}:4`],
].map(([from, to]) => `${from} -> ${to}`).sort();

const edgeSet = (edges: { from: string; to: string }[]) => edges.map((e) => `${e.from} -> ${e.to}`).sort();

test('graph --format json: every page a node with its state, book and output; an edge per predecessor link, none across a gap', () => {
  assert.equal(json.engine, 'gemini-batch');
  assert.equal(json.dependent, true);
  assert.equal(json.nodes.length, 12);
  assert.equal(new Set(json.nodes.map((n) => n.key)).size, 12);
  const state = Object.fromEntries(json.nodes.map((n) => [n.key, n.state]));
  assert.equal(state[`${AL}:1`], 'fresh');
  assert.equal(state[`${AL}:2`], 'dead');
  assert.equal(state[`${AL}:3`], 'blocked');
  assert.equal(state[`${AL}:4`], 'blocked');
  assert.equal(state[`${CA}:4`], 'stale');
  assert.equal(state[`${CA}:5`], 'waiting');
  assert.equal(state[`${CA}:12`], 'fresh');
  const ca12 = json.nodes.find((n) => n.key === `${CA}:12`)!;
  assert.equal(ca12.chain, CA);
  assert.equal(ca12.output, 'dataset/output_results/California/College of California/1860/12.json');
  assert.deepEqual(edgeSet(json.edges), EXPECTED_EDGES);
  assert.ok(!json.edges.some((e) => e.to === `${CA}:12`), 'page 12 follows a gap (6–11 absent): no predecessor');
});

/** DOT statements, checked line by line: the renderer writes one statement per line. */
function parseDot(text: string) {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && inString) i++;
    else if (c === '"') inString = !inString;
    else if (!inString && c === '{') depth++;
    else if (!inString && c === '}') assert.ok(--depth >= 0, 'a closing brace without an opening one');
  }
  assert.equal(depth, 0, 'braces balance');
  assert.equal(inString, false, 'strings are closed');
  const STR = '"((?:[^"\\\\]|\\\\.)*)"';
  const node = new RegExp(`^\\s*${STR} \\[(.*)\\];$`);
  const edge = new RegExp(`^\\s*${STR} -> ${STR};$`);
  const nodes = new Map<string, Record<string, string>>();
  const edges: { from: string; to: string }[] = [];
  let clusters = 0;
  for (const l of lines) {
    let m;
    if ((m = edge.exec(l))) edges.push({ from: m[1]!, to: m[2]! });
    else if ((m = node.exec(l))) {
      assert.ok(!nodes.has(m[1]!), `one node statement for ${m[1]}`);
      const attrs = Object.fromEntries([...m[2]!.matchAll(new RegExp(`(\\w+)=(?:${STR}|([^,\\s]+))`, 'g'))].map((a) => [a[1]!, a[2] ?? a[3]!]));
      nodes.set(m[1]!, attrs);
    } else if (/^\s*subgraph cluster_\d+ \{$/.test(l)) clusters++;
  }
  return { first: lines[0]!, last: lines.at(-1)!, nodes, edges, clusters };
}

test('graph --format dot: a digraph with one node statement per page filled by state, one edge per link, a cluster per book', async () => {
  const r = await runCli(dir, ['graph', ...ENGINE]);
  assert.equal(r.code, 0, r.stderr);
  const dot = parseDot(r.stdout);
  assert.match(dot.first, /^digraph \w+ \{$/);
  assert.equal(dot.last, '}');
  assert.equal(dot.clusters, 3);
  assert.deepEqual([...dot.nodes.keys()].sort(), json.nodes.map((n) => n.key).sort());
  for (const n of json.nodes) {
    const attrs = dot.nodes.get(n.key)!;
    assert.equal(attrs['fillcolor'], LOOK[n.state as keyof typeof LOOK].fill, `${n.key} is filled with the colour of ${n.state}`);
    assert.ok(attrs['label']!.includes(n.state), 'the state is in the label too');
  }
  assert.deepEqual(edgeSet(dot.edges), EXPECTED_EDGES);
});

const HAS_DOT = !spawnSync('dot', ['-V']).error;

test('graph --format dot is laid out by Graphviz', { skip: HAS_DOT ? false : 'Graphviz is not installed (Debian: apt-get install graphviz)' }, async () => {
  const r = await runCli(dir, ['graph', ...ENGINE]);
  const svg = spawnSync('dot', ['-Tsvg'], { input: r.stdout, encoding: 'utf8' });
  assert.equal(svg.status, 0, svg.stderr);
  assert.match(svg.stdout, /<svg[\s>]/);
  assert.equal((svg.stdout.match(/class="node"/g) ?? []).length, 12, 'Graphviz lays out 12 nodes');
  assert.equal((svg.stdout.match(/class="edge"/g) ?? []).length, 8);
});

test('graph --format mermaid: a flowchart with a classDef per state, a subgraph per book, nodes, edges and classes', async () => {
  const r = await runCli(dir, ['graph', '--format', 'mermaid', ...ENGINE]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^(flowchart|graph) (LR|TD|TB)$/);
  const classDefs = lines.flatMap((l) => /^\s*classDef (\w+) fill:(#[0-9A-Fa-f]{6}),/.exec(l)?.slice(1, 3) ?? []);
  const defined = new Map<string, string>();
  for (let i = 0; i < classDefs.length; i += 2) defined.set(classDefs[i]!, classDefs[i + 1]!);
  for (const s of STATES) assert.equal(defined.get(s.replace(/-/g, '_')), LOOK[s].fill, `classDef for ${s}`);
  assert.equal(lines.filter((l) => /^\s*subgraph \w+\[".*"\]$/.test(l)).length, 3);
  assert.equal(lines.filter((l) => /^\s*end$/.test(l)).length, 3);
  const ids = new Map<string, string>();
  for (const l of lines) {
    const m = /^\s*(p\d+)\["(.*) · ([\w-]+)"\]$/.exec(l);
    if (m) ids.set(m[1]!, m[2]!);
  }
  assert.deepEqual([...ids.values()].sort(), json.nodes.map((n) => n.key).sort());
  const edges = lines.flatMap((l) => {
    const m = /^\s*(p\d+) --> (p\d+)$/.exec(l);
    return m ? [{ from: ids.get(m[1]!)!, to: ids.get(m[2]!)! }] : [];
  });
  assert.deepEqual(edgeSet(edges), EXPECTED_EDGES);
  const classOf = new Map<string, string>();
  for (const l of lines) {
    const m = /^\s*class ([\w,]+) (\w+);$/.exec(l);
    if (!m) continue;
    for (const id of m[1]!.split(',')) {
      assert.ok(!classOf.has(id), `${id} has one class`);
      classOf.set(id, m[2]!);
    }
  }
  for (const [id, key] of ids) assert.equal(classOf.get(id), json.nodes.find((n) => n.key === key)!.state.replace(/-/g, '_'));
});

test('graph --out writes the file (nothing on stdout); selectors limit the graph to their pages', async () => {
  const out = await runCli(dir, ['graph', '--format', 'json', '--out', 'graph/pages.json', ...ENGINE]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, '');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'graph/pages.json'), 'utf8')), json);
  const ca = await runCli(dir, ['graph', '--format', 'json', 'state=California', ...ENGINE]);
  assert.equal(ca.code, 0, ca.stderr);
  const g = JSON.parse(ca.stdout) as GraphJson;
  assert.deepEqual(g.nodes.map((n) => n.key), [`${CA}:3`, `${CA}:4`, `${CA}:5`, `${CA}:12`]);
  assert.deepEqual(edgeSet(g.edges), [`${CA}:3 -> ${CA}:4`, `${CA}:4 -> ${CA}:5`]);
});

test('graph with the local engine: the edges are book order, marked as no dependency (dashed in DOT)', async () => {
  const r = await runCli(dir, ['graph', '--format', 'json', '--engine', 'local']);
  assert.equal(r.code, 0, r.stderr);
  const g = JSON.parse(r.stdout) as GraphJson;
  assert.equal(g.dependent, false);
  assert.deepEqual(edgeSet(g.edges), EXPECTED_EDGES);
  const dot = await runCli(dir, ['graph', '--engine', 'local']);
  assert.match(dot.stdout, /edge \[[^\]]*style=dashed/);
});

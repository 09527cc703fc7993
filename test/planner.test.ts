// Pure planner tests on plain objects: no files, no clock, no engine (STYLE §2, §13).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../src/plan/planner.js';
import type { AttemptInfo, PlanInput, TargetInput } from '../src/plan/types.js';
import type { Components } from '../src/cache/records.js';
import { asFingerprint, asHash, asKey, type TargetKey } from '../src/types.js';

const comp = (over: Partial<Components> = {}): Components => ({
  image: asHash('img'), prompt: asHash('prompt'), context: null, config: asHash('cfg'), schema: asHash('schema'), template: asHash('tpl'), ...over,
});

/** A target that is fresh unless told otherwise. */
function target(key: string, predecessor: string | null, over: Partial<TargetInput> = {}): TargetInput {
  const components = comp();
  return {
    key: asKey(key),
    predecessor: predecessor === null ? null : asKey(predecessor),
    inputProblem: null,
    outputHash: asHash(`out-${key}`),
    current: { fingerprint: asFingerprint(`fp-${key}`), components },
    currentProblem: null,
    record: { fingerprint: asFingerprint(`fp-${key}`), outputHash: asHash(`out-${key}`), components },
    ...over,
  };
}

function input(targets: TargetInput[], over: Partial<PlanInput> = {}): PlanInput {
  const chains: TargetKey[][] = [];
  for (const t of targets) {
    if (t.predecessor === null) chains.push([t.key]);
    else chains.at(-1)!.push(t.key);
  }
  return {
    chains,
    targets: new Map(targets.map((t) => [t.key, t])),
    inflight: new Map(),
    attempts: new Map(),
    forced: new Set(),
    maxAttempts: 3,
    chainDependent: true,
    ...over,
  };
}

const states = (p: ReturnType<typeof plan>) => Object.fromEntries([...p.targets].map(([k, v]) => [k, v.state]));

test('a chain with every output recorded and unchanged is fresh and has an empty frontier', () => {
  const p = plan(input([target('b:1', null), target('b:2', 'b:1'), target('b:3', 'b:2')]));
  assert.deepEqual(states(p), { 'b:1': 'fresh', 'b:2': 'fresh', 'b:3': 'fresh' });
  assert.deepEqual(p.frontier, []);
});

test('a stale page makes its successors wait: their request is not known yet', () => {
  const changed = target('b:1', null, { current: { fingerprint: asFingerprint('fp-new'), components: comp({ image: asHash('img2') }) } });
  const p = plan(input([changed, target('b:2', 'b:1'), target('b:3', 'b:2')]));
  assert.deepEqual(states(p), { 'b:1': 'stale', 'b:2': 'waiting', 'b:3': 'waiting' });
  assert.deepEqual(p.targets.get(asKey('b:1'))!.reasons, [{ code: 'image-changed', recorded: 'img', current: 'img2' }]);
  assert.equal(p.targets.get(asKey('b:2'))!.detail, 'b:1 is stale');
  assert.deepEqual(p.frontier, ['b:1']);
});

test('without chain dependency (local engine) a stale page does not hold its successors back', () => {
  const changed = target('b:1', null, { outputHash: null });
  const p = plan(input([changed, target('b:2', 'b:1', { outputHash: null })], { chainDependent: false }));
  assert.deepEqual(states(p), { 'b:1': 'stale', 'b:2': 'stale' });
  assert.deepEqual(p.targets.get(asKey('b:1'))!.reasons, [{ code: 'output-missing' }]);
});

test('a context change is context-changed, a template change inside the context is prompt-changed', () => {
  const ctx = target('b:2', 'b:1', {
    current: { fingerprint: asFingerprint('fp-x'), components: comp({ context: asHash('c2'), prompt: asHash('p2') }) },
  });
  const tpl = target('c:2', 'c:1', {
    current: { fingerprint: asFingerprint('fp-y'), components: comp({ template: asHash('tpl2'), prompt: asHash('p3') }) },
  });
  const p = plan(input([target('b:1', null), ctx, target('c:1', null), tpl]));
  assert.deepEqual(p.targets.get(asKey('b:2'))!.reasons.map((r) => r.code), ['context-changed']);
  assert.deepEqual(p.targets.get(asKey('c:2'))!.reasons.map((r) => r.code), ['prompt-changed']);
});

test('an edited output is kept, counts as done, and lets its successor plan on its content', () => {
  const edited = target('b:1', null, { outputHash: asHash('by-hand') });
  const succ = target('b:2', 'b:1', { current: { fingerprint: asFingerprint('fp-after-edit'), components: comp({ context: asHash('ctx-edit') }) } });
  const p = plan(input([edited, succ]));
  assert.equal(p.targets.get(asKey('b:1'))!.state, 'edited');
  assert.equal(p.targets.get(asKey('b:2'))!.state, 'stale');
  assert.deepEqual(p.targets.get(asKey('b:2'))!.reasons.map((r) => r.code), ['context-changed']);
});

test('forcing a page makes it stale even when fresh or edited', () => {
  const p = plan(input([target('b:1', null, { outputHash: asHash('by-hand') }), target('b:2', 'b:1')], { forced: new Set([asKey('b:1')]) }));
  assert.equal(p.targets.get(asKey('b:1'))!.state, 'stale');
  assert.deepEqual(p.targets.get(asKey('b:1'))!.reasons, [{ code: 'forced' }]);
  assert.equal(p.targets.get(asKey('b:2'))!.state, 'waiting');
});

test('failed below maxAttempts stays on the frontier; at maxAttempts it is dead and blocks its successors', () => {
  const failing = target('b:1', null, { outputHash: null, record: null });
  const attempt = (count: number): Map<TargetKey, AttemptInfo> =>
    new Map([[asKey('b:1'), { fingerprint: asFingerprint('fp-b:1'), count, lastClass: 'json-error', lastMessage: 'bad JSON' }]]);
  const failed = plan(input([failing, target('b:2', 'b:1'), target('b:3', 'b:2')], { attempts: attempt(2) }));
  assert.deepEqual(states(failed), { 'b:1': 'failed', 'b:2': 'waiting', 'b:3': 'waiting' });
  assert.deepEqual(failed.frontier, ['b:1']);

  const dead = plan(input([failing, target('b:2', 'b:1'), target('b:3', 'b:2')], { attempts: attempt(3) }));
  assert.deepEqual(states(dead), { 'b:1': 'dead', 'b:2': 'blocked', 'b:3': 'blocked' });
  assert.equal(dead.targets.get(asKey('b:3'))!.blockedBy, 'b:1', 'the root of the block is named, not the direct predecessor');
  assert.match(dead.targets.get(asKey('b:1'))!.detail!, /3 failed attempts; last: json-error: bad JSON/);
  assert.deepEqual(dead.frontier, []);
});

test('a dead page gets a new chance when its fingerprint changes', () => {
  const attempts = new Map([[asKey('b:1'), { fingerprint: asFingerprint('fp-old'), count: 3, lastClass: 'schema-error' as const, lastMessage: 'x' }]]);
  const p = plan(input([target('b:1', null, { outputHash: null, record: null })], { attempts }));
  assert.equal(p.targets.get(asKey('b:1'))!.state, 'stale');
  assert.deepEqual(p.targets.get(asKey('b:1'))!.reasons, [{ code: 'new' }]);
});

test('a missing input is missing-input and blocks the rest of its chain; an input error on the current request does too', () => {
  const p = plan(input([target('b:1', null), target('b:2', 'b:1', { inputProblem: 'no image for this page' }), target('b:3', 'b:2')]));
  assert.deepEqual(states(p), { 'b:1': 'fresh', 'b:2': 'missing-input', 'b:3': 'blocked' });
  assert.equal(p.targets.get(asKey('b:3'))!.blockedBy, 'b:2');
  const attempts = new Map([[asKey('b:1'), { fingerprint: asFingerprint('fp-b:1'), count: 1, lastClass: 'input-error' as const, lastMessage: 'not an image' }]]);
  const q = plan(input([target('b:1', null, { outputHash: null }), target('b:2', 'b:1')], { attempts }));
  assert.deepEqual(states(q), { 'b:1': 'missing-input', 'b:2': 'blocked' });
});

test('an unreadable predecessor output blocks the page with the reason', () => {
  const p = plan(input([target('b:1', null, { outputHash: asHash('edited') }), target('b:2', 'b:1', { current: null, currentProblem: 'not valid JSON' })]));
  assert.equal(p.targets.get(asKey('b:2'))!.state, 'blocked');
  assert.equal(p.targets.get(asKey('b:2'))!.detail, 'not valid JSON');
});

test('in flight with the current fingerprint is inflight; with an older one it is stale again', () => {
  const t = target('b:1', null, { outputHash: null });
  assert.equal(plan(input([t], { inflight: new Map([[asKey('b:1'), asFingerprint('fp-b:1')]]) })).targets.get(asKey('b:1'))!.state, 'inflight');
  assert.equal(plan(input([t], { inflight: new Map([[asKey('b:1'), asFingerprint('fp-old')]]) })).targets.get(asKey('b:1'))!.state, 'stale');
});

test('the frontier is ordered longest remaining chain first, then by key', () => {
  const stale = (key: string, pred: string | null) => target(key, pred, { outputHash: null, record: null });
  const targets = [
    stale('a:1', null), stale('a:2', 'a:1'),
    stale('b:1', null), stale('b:2', 'b:1'), stale('b:3', 'b:2'), stale('b:4', 'b:3'),
    stale('c:1', null),
    target('d:1', null), stale('d:2', 'd:1'), stale('d:3', 'd:2'), stale('d:4', 'd:3'),
  ];
  const p = plan(input(targets));
  // b:1 heads 4 pages, d:2 heads 3, a:1 heads 2, c:1 heads 1.
  assert.deepEqual(p.frontier, ['b:1', 'd:2', 'a:1', 'c:1']);
  const flat = plan(input(targets, { chainDependent: false }));
  assert.deepEqual(flat.frontier.slice(0, 3), ['a:1', 'a:2', 'b:1'], 'without chains every page is its own chain: key order');
});

test('a page whose own request changed is stale even while its predecessor rebuilds, but only buildable after it', () => {
  const tplChanged = (key: string, pred: string | null) =>
    target(key, pred, { current: { fingerprint: asFingerprint(`fp2-${key}`), components: comp({ template: asHash('tpl2'), prompt: asHash(`p2-${key}`) }) } });
  const p = plan(input([tplChanged('b:1', null), tplChanged('b:2', 'b:1'), target('b:3', 'b:2')]));
  assert.deepEqual(states(p), { 'b:1': 'stale', 'b:2': 'stale', 'b:3': 'waiting' });
  assert.deepEqual(p.targets.get(asKey('b:2'))!.reasons.map((r) => r.code), ['prompt-changed']);
  assert.equal(p.targets.get(asKey('b:2'))!.buildable, false);
  assert.deepEqual(p.frontier, ['b:1']);
});

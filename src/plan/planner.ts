// The planner: a pure function from a snapshot to a plan (STYLE §2). No file system, no clock, no network.
// Reasons are recorded here, where each verdict is made; explain only formats them (STYLE §3).
import type { Components } from '../cache/records.js';
import type { TargetKey } from '../types.js';
import type { AttemptInfo, Plan, PlanInput, Reason, TargetInput, TargetPlan } from './types.js';

export function plan(input: PlanInput): Plan {
  const targets = new Map<TargetKey, TargetPlan>();
  const frontier: { key: TargetKey; remaining: number }[] = [];
  for (const chain of input.chains) {
    chain.forEach((key, index) => {
      const t = input.targets.get(key);
      if (!t) throw new Error(`planner: no input for ${key}`);
      const pred = input.chainDependent && t.predecessor ? targets.get(t.predecessor) ?? null : null;
      const p = planTarget(t, pred, input);
      targets.set(key, p);
      if (p.buildable) frontier.push({ key, remaining: input.chainDependent ? chain.length - index : 1 });
    });
  }
  frontier.sort((a, b) => b.remaining - a.remaining || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { targets, frontier: frontier.map((f) => f.key) };
}

function planTarget(t: TargetInput, pred: TargetPlan | null, input: PlanInput): TargetPlan {
  const out = (state: TargetPlan['state'], extra: Partial<TargetPlan> = {}): TargetPlan => ({ key: t.key, state, reasons: [], blockedBy: null, detail: null, buildable: false, ...extra });
  const attempt = t.current ? currentAttempt(input.attempts.get(t.key), t) : null;
  const forced = input.forced.has(t.key);

  if (t.inputProblem) return out('missing-input', { detail: t.inputProblem });
  if (attempt?.lastClass === 'input-error') return out('missing-input', { detail: attempt.lastMessage });
  // The output differs from what ocrmake wrote (or ocrmake never wrote it): a person's work. Never overwritten.
  if (t.outputHash !== null && !forced && t.outputHash !== t.record?.outputHash) return out('edited');
  if (pred && (pred.state === 'dead' || pred.state === 'missing-input' || pred.state === 'blocked')) {
    return out('blocked', { blockedBy: pred.blockedBy ?? pred.key, detail: `${pred.key} is ${pred.state}` });
  }
  if (pred && pred.state !== 'fresh' && pred.state !== 'edited') {
    // The predecessor will produce a new output, so this page's context, and with it its request, is not
    // known yet. If its own inputs changed it is stale whatever the context; otherwise it waits, and may
    // turn fresh with no call when the predecessor's context comes out the same (cutoff).
    const reasons = staleReasons(t, forced).filter((r) => r.code !== 'context-changed');
    return reasons.length > 0 ? out('stale', { reasons, detail: `builds after ${pred.key}` }) : out('waiting', { detail: `${pred.key} is ${pred.state}` });
  }
  if (!t.current && t.awaits) {
    // Draft mode: the context comes from the predecessor's draft, which the build makes first.
    return out('waiting', { detail: `waits for the draft of ${t.awaits}` });
  }
  if (!t.current) {
    // Inputs exist but the request cannot be formed: the predecessor's output cannot give a context.
    return t.predecessor ? out('blocked', { blockedBy: t.predecessor, detail: t.currentProblem }) : out('missing-input', { detail: t.currentProblem });
  }
  if (!forced && t.outputHash !== null && t.record && t.current.fingerprint === t.record.fingerprint) return out('fresh');
  if (input.inflight.get(t.key) === t.current.fingerprint) return out('inflight');
  if (attempt && attempt.count >= input.maxAttempts) {
    return out('dead', { detail: `${attempt.count} failed attempts; last: ${attempt.lastClass}: ${attempt.lastMessage}` });
  }
  const reasons = staleReasons(t, forced);
  if (attempt && attempt.count > 0) return out('failed', { reasons, buildable: true, detail: `${attempt.count} failed attempt(s); last: ${attempt.lastClass}: ${attempt.lastMessage}` });
  return out('stale', { reasons, buildable: true });
}

function currentAttempt(a: AttemptInfo | undefined, t: TargetInput): AttemptInfo | null {
  return a && t.current && a.fingerprint === t.current.fingerprint ? a : null;
}

function staleReasons(t: TargetInput, forced: boolean): Reason[] {
  const reasons: Reason[] = [];
  if (forced) reasons.push({ code: 'forced' });
  if (!t.record) {
    if (!forced) reasons.push({ code: 'new' });
    return reasons;
  }
  if (t.outputHash === null) reasons.push({ code: 'output-missing' });
  if (t.current && t.current.fingerprint !== t.record.fingerprint) reasons.push(...changes(t.record.components, t.current.components));
  return reasons;
}

/** Names what changed between the recorded request and the current one. */
export function changes(recorded: Components, current: Components): Reason[] {
  const reasons: Reason[] = [];
  const diff = <C extends 'image-changed' | 'prompt-changed' | 'context-changed' | 'config-changed' | 'schema-changed' | 'prepare-changed'>(code: C, k: keyof Components) => {
    // Records written before a component existed have none: null, as a component that does not apply.
    const was = recorded[k] ?? null, now = current[k] ?? null;
    if (was !== now) reasons.push({ code, recorded: was, current: now } as Reason);
  };
  diff('image-changed', 'image');
  diff('prepare-changed', 'prepare');
  diff('config-changed', 'config');
  diff('schema-changed', 'schema');
  diff('context-changed', 'context');
  // The rendered prompt also changes when only the context does; name the prompt only when the template
  // changed, or when it changed on its own (e.g. a wildcard value the template prints).
  if (recorded.prompt !== current.prompt && (recorded.template !== current.template || recorded.context === current.context)) {
    reasons.push({ code: 'prompt-changed', recorded: recorded.prompt, current: current.prompt });
  }
  if (reasons.length === 0) reasons.push({ code: 'config-changed', recorded: recorded.config, current: current.config });
  return reasons;
}

// Adopting existing outputs (DESIGN §7): a collection built by an older pipeline, or outputs kept while
// the cache was deleted, become fresh without a single request. Each selected output that is valid for the
// rule's schema is stored in the result store under the page's current fingerprint, byte for byte, and
// recorded with origin `adopted`.
//
// With the Gemini engines page n's request embeds page n-1's context, so its fingerprint is only known once
// page n-1's output is settled: pages are taken in chain order and each is recomputed after its
// predecessor was adopted (what Fingerprinter.recomputeFrom does, one step at a time).
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from '../graph/page.js';
import type { ContentHash, TargetKey } from '../types.js';
import { sha256 } from '../util/hash.js';
import type { Project } from './project.js';
import { inflightOf } from './project.js';
import { recordOutput } from './outputs.js';

export type AdoptVerdict =
  | { kind: 'adopted'; key: TargetKey; output: string }
  | { kind: 'fresh'; key: TargetKey }
  | { kind: 'no-output'; key: TargetKey }
  /** The output exists but is not adoptable: invalid JSON or schema, no request, or in flight. */
  | { kind: 'skipped'; key: TargetKey; output: string; reason: 'invalid-json' | 'schema' | 'no-request' | 'inflight'; message: string };

export interface AdoptResult {
  verdicts: AdoptVerdict[];
  adopted: number;
  fresh: number;
  noOutput: number;
  skipped: Extract<AdoptVerdict, { kind: 'skipped' }>[];
}

/**
 * Adopts the outputs of `keys` (in chain order). With `dryRun`, nothing is written, but the verdicts are
 * those a real run would reach: an adopted page's output is already on disk, so its successors' requests
 * come out the same either way.
 */
export function adoptOutputs(p: Project, keys: ReadonlySet<TargetKey>, o: { dryRun: boolean }): AdoptResult {
  const verdicts: AdoptVerdict[] = [];
  const inflight = inflightOf(p);
  for (const chain of p.index.chains) {
    for (const page of chain.pages) {
      if (!keys.has(page.key)) continue;
      // The output is read once: its hash goes to the stat cache (computeOne finds it there instead of
      // reading the file again), its bytes to adoptOne.
      const output = readOutput(p, page.output);
      // The predecessor may just have been adopted: this page's request is computed from where it stands now.
      p.fingerprints.computeOne(page);
      const v = adoptOne(p, page, output, inflight.has(page.key), o.dryRun);
      verdicts.push(v);
      // Adopted: the page's input takes its new record as it is (computeOne's answer, without its stats).
      if (v.kind === 'adopted' && !o.dryRun && !p.fingerprints.wroteOutput(page.key)) p.fingerprints.computeOne(page);
    }
  }
  const skipped = verdicts.filter((v): v is Extract<AdoptVerdict, { kind: 'skipped' }> => v.kind === 'skipped');
  return {
    verdicts,
    adopted: verdicts.filter((v) => v.kind === 'adopted').length,
    fresh: verdicts.filter((v) => v.kind === 'fresh').length,
    noOutput: verdicts.filter((v) => v.kind === 'no-output').length,
    skipped,
  };
}

type OutputRead = { bytes: Buffer; hash: ContentHash } | { error: NodeJS.ErrnoException };

/** A page's output file: its bytes and hash (kept in the stat cache with the stat of the same open file), or why not. */
function readOutput(p: Project, rel: string): OutputRead {
  let fd: number;
  try {
    fd = fs.openSync(path.join(p.config.root, rel), 'r');
  } catch (err) {
    return { error: err as NodeJS.ErrnoException };
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    const bytes = fs.readFileSync(fd);
    const hash = sha256(bytes);
    if (st.isFile()) p.hashes.wrote(rel, hash, st);
    return { bytes, hash };
  } catch (err) {
    return { error: err as NodeJS.ErrnoException };
  } finally {
    fs.closeSync(fd);
  }
}

function adoptOne(p: Project, page: Page, output: OutputRead, inflight: boolean, dryRun: boolean): AdoptVerdict {
  const key = page.key;
  const input = p.fingerprints.inputs.get(key);
  const skip = (reason: Extract<AdoptVerdict, { kind: 'skipped' }>['reason'], message: string): AdoptVerdict => ({ kind: 'skipped', key, output: page.output, reason, message });
  if ('error' in output) {
    if (output.error.code === 'ENOENT') return { kind: 'no-output', key };
    return skip('invalid-json', `cannot be read: ${output.error.message}`);
  }
  const { bytes, hash } = output;
  const record = input?.record ?? null;
  if (input?.current && record && record.outputHash === hash && record.fingerprint === input.current.fingerprint) return { kind: 'fresh', key };
  if (!input?.current) {
    const why =
      input?.inputProblem ??
      input?.currentProblem ??
      `its predecessor ${input?.predecessor ?? ''} has no output yet, so its context is unknown: build or adopt that page first, then adopt this one`;
    return skip('no-request', `its request is not known: ${why}`);
  }
  if (inflight) return skip('inflight', 'it is in a batch still running; build first, then adopt what remains');
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return skip('invalid-json', `is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = p.config.rule.schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return skip('schema', `does not match the rule's schema (${p.config.rule.name}): ${issues}`);
  }
  if (dryRun) return { kind: 'adopted', key, output: page.output };
  const fp = input.current.fingerprint;
  // The stored object must be these exact bytes, so that a restore gives back what was adopted (and the
  // output hash matches). A different object under the same fingerprint is replaced (write does that):
  // adopting says this output is the answer to this request.
  p.objects.write(fp, bytes);
  recordOutput(p, key, hash, { origin: 'adopted' });
  return { kind: 'adopted', key, output: page.output };
}

// The no-op proof (`.ocrcache/noop-proof`): what a build that found nothing to do stood on, so that the next
// build can prove nothing changed with a stat per file, as ninja does, instead of loading every record of
// the cache (DESIGN §16: cost follows the change). It is written after a build that built, restored, sent
// and probed nothing and found every page fresh or edited, and holds:
//   - the basis key: everything every page's request shares (fingerprint/basis.ts), from the loaded config;
//   - the pages: a hash of each page's key, paths, wildcard values and predecessor, as discovery found them;
//   - each page's image and output as the stat cache knew them (size, mtime in ns, inode) when their hashes
//     were last taken, none of them racy (hashed two seconds or more after their mtime, as the stat cache asks);
//   - the local engine's model files and the multi-page sources' counts, with their stat and what they gave;
//   - the cache's identity: the snapshot's size, mtime and inode, and the journal's bytes. Every command that
//     changes the cache (a build, retry, adopt, gc, clean) changes one of them, so the proof lapses by itself;
//   - the plan and summary events of that build, which a proven no-op repeats (with its own duration).
// A build that can use it (no selectors, --force, --dry-run, --max-cost or deadline) loads the config,
// discovers the pages and stats every file; anything that differs in any way, or any error, and the build
// takes the full path, which says exactly what changed. The file is written atomically and checked by hash: a
// torn or foreign one is ignored. A build that takes the full path deletes it first, so only the last build's
// own proof is ever read.
import fs from 'node:fs';
import path from 'node:path';
import type { EngineName } from '../config/define.js';
import type { ResolvedConfig } from '../config/resolved.js';
import { STATE_FILE } from '../cache/durable.js';
import { JOURNAL_FILE } from '../cache/journal.js';
import type { BuildEvent as Event, Summary } from '../events.js';
import { basisKey, requestBasis, templateHashOf } from '../fingerprint/basis.js';
import { FINGERPRINT_VERSION } from '../fingerprint/request.js';
import { RACY_NS } from '../fingerprint/hash-cache.js';
import { follows } from '../graph/chains.js';
import type { PageCount } from '../graph/discover.js';
import type { Page } from '../graph/page.js';
import type { ContentHash } from '../types.js';
import { createHash } from 'node:crypto';
import { sha256 } from '../util/hash.js';
import { writeFileAtomic } from '../util/fs.js';
import { VERSION } from '../version.js';
import type { Project } from './project.js';

export const PROOF_FILE = 'noop-proof';
// Version 2 hashes the pages differently (pagesHash): a version 1 proof is not read, its build takes the full path.
const MAGIC = Buffer.from('ocrmake no-op proof 2\n');
/** Per page: image size, mtime (ns), inode, then the output's. A page without an image has -1s. */
const SLOTS = 6;
/** A journal longer than this is not read to compare (a clean close leaves a header of a few dozen bytes). */
const JOURNAL_MAX = 64 * 1024;

/** A file's identity as the stat cache records it, in decimal (JSON has no 64-bit integers). */
interface FileId {
  size: string;
  mtimeNs: string;
  ino: string;
}

export interface ProofHeader {
  ocrmake: string;
  fingerprintVersion: number;
  engine: EngineName;
  basis: ContentHash;
  pages: number;
  pagesHash: string;
  bodyHash: string;
  /** The snapshot's identity and the journal's content hash (null: the file did not exist). */
  state: { snapshot: FileId | null; journal: string | null };
  /** Files hashed for the basis (the local engine's model files found in a folder). */
  models: { path: string; id: FileId; hash: ContentHash }[];
  /** Multi-page sources discovery counted (relative paths) and the count. */
  sources: { path: string; id: FileId; count: PageCount }[];
  plan: Extract<Event, { event: 'plan' }>;
  summary: Summary;
}

export interface Proof {
  header: ProofHeader;
  body: BigInt64Array;
}

/** Thrown inside a check when something differs: the build takes the full path. */
export class Unproven extends Error {}

/**
 * What the pages are: one hash over every page's identity, in discovery order, and whether it follows the
 * page before it (its predecessor's key is that page's, already hashed). It covers every output, so pages
 * with this hash have distinct outputs when the proof's pages had (proofOf writes no proof otherwise).
 */
export function pagesHash(pages: readonly Page[], chain: 'consecutive' | 'previous-existing'): string {
  const h = createHash('sha256');
  // A thousand pages per update: one call per page shows in profiles at a million pages. Numbers and
  // nulls go in as they are: join writes them (a null as ''), without a string per field first.
  let chunk: (string | number | null)[] = [];
  let prev: Page | null = null;
  for (const pg of pages) {
    // The predecessor as buildChains links it, without building the chain index's maps.
    const linked = prev !== null && follows(prev, pg, chain) ? 1 : 0;
    prev = pg;
    chunk.push(pg.key, pg.chainId, pg.pageNumber, pg.image, pg.sourcePage, pg.imageProblem, pg.allowListFile, pg.output, linked, JSON.stringify(pg.vars));
    if (chunk.length >= 10_000) {
      h.update(`${chunk.join('\0')}\0`);
      chunk = [];
    }
  }
  h.update(`${chunk.join('\0')}\0`);
  return h.digest('hex');
}

/**
 * What a build said, as far as the proof needs it: its plan and summary, and whether it said anything a
 * no-op does not (a built page, a batch…). Not the events themselves: a big build says a million of them.
 */
export class Said {
  plan: Extract<Event, { event: 'plan' }> | null = null;
  summary: Extract<Event, { event: 'summary' }> | null = null;
  more = false;

  see(e: Event): void {
    if (e.event === 'plan') this.plan = e;
    else if (e.event === 'summary') this.summary = e;
    else if (e.event !== 'notice' && e.event !== 'warning' && e.event !== 'start') this.more = true;
  }
}

/**
 * The proof of a build that did nothing, or null when it cannot be one (something was done, a page is not
 * fresh or edited, a file's hash is racy, a context policy other than exact). Taken before the cache
 * closes: the stat cache's rows are the ones the plan stood on. The cache's identity is added by write().
 */
export function proofOf(p: Project, said: Said): Omit<Proof, 'header'> & { header: Omit<ProofHeader, 'state' | 'bodyHash'> } | null {
  const { plan, summary } = said;
  if (!plan || !summary || said.more) return null;
  const s = summary;
  if (s.built + s.restored + s.cutoff + s.failed + s.requests + s.batches + s.uploads + (s.decoded ?? 0) + (s.probed ?? 0) + s.tokensIn + s.tokensOut !== 0 || (s.costUsd ?? 0) !== 0) return null;
  if (s.fresh + s.edited !== s.targets || s.targets !== p.pages.length || 'tail' in s || 'context' in s || s.dryRun) return null;
  if (p.fingerprints.contextMode !== 'exact' || p.fingerprints.recovered.length > 0) return null;
  // A proven no-op does not look for shared outputs (discover's separateOutputs): the pages must have none.
  if (new Set(p.pages.map((pg) => pg.output)).size !== p.pages.length) return null;
  const id = (rel: string): FileId | null => {
    const row = p.store.fileHashes.get(rel);
    if (!row || row.hashedAtNs - row.mtimeNs < RACY_NS) return null;
    return { size: String(row.size), mtimeNs: String(row.mtimeNs), ino: String(row.ino) };
  };
  const body = new BigInt64Array(p.pages.length * SLOTS).fill(-1n);
  for (let i = 0; i < p.pages.length; i++) {
    const pg = p.pages[i]!;
    for (const [slot, rel] of [[0, pg.image], [3, pg.output]] as const) {
      if (rel === null) continue;
      const row = p.store.fileHashes.get(rel);
      if (!row || row.hashedAtNs - row.mtimeNs < RACY_NS) return null;
      body[i * SLOTS + slot] = BigInt(row.size);
      body[i * SLOTS + slot + 1] = row.mtimeNs;
      body[i * SLOTS + slot + 2] = BigInt.asIntN(64, row.ino);
    }
  }
  const models: ProofHeader['models'] = [];
  let racy = false;
  const basis = requestBasis(p.config, p.engine, (abs) => {
    const h = p.hashes.hash(abs);
    const fid = id(abs);
    if (h.kind !== 'ok' || !fid) racy = true;
    else models.push({ path: abs, id: fid, hash: h.hash });
    return h.kind === 'ok' ? h.hash : null;
  });
  const sources: ProofHeader['sources'] = [];
  for (const [rel, count] of p.counted) {
    const fid = id(rel);
    if (!fid) return null;
    sources.push({ path: rel, id: fid, count });
  }
  if (racy) return null;
  const { event: _event, ...rest } = summary;
  return {
    header: {
      ocrmake: VERSION,
      fingerprintVersion: FINGERPRINT_VERSION,
      engine: p.engine,
      basis: basisKey(p.config, p.engine, basis, templateHashOf(p.config, p.engine, basis)),
      pages: p.pages.length,
      pagesHash: pagesHash(p.pages, p.config.chain),
      models,
      sources,
      plan,
      summary: rest,
    },
    body,
  };
}

/** Writes the proof with the cache's identity as it is now (after the cache closed). */
export function writeProof(cacheDir: string, proof: NonNullable<ReturnType<typeof proofOf>>): void {
  try {
    write(cacheDir, proof);
  } catch {
    // The proof only saves the next build time: without it (a full disk), that build takes the full path.
  }
}

function write(cacheDir: string, proof: NonNullable<ReturnType<typeof proofOf>>): void {
  const state = stateIdentity(cacheDir);
  if (!state) return;
  const bodyBytes = Buffer.from(proof.body.buffer, proof.body.byteOffset, proof.body.byteLength);
  const header: ProofHeader = { ...proof.header, state, bodyHash: sha256(bodyBytes) };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  writeFileAtomic(path.join(cacheDir, PROOF_FILE), Buffer.concat([MAGIC, len, json, bodyBytes]), path.join(cacheDir, 'tmp'));
}

/** Deletes the proof (a build taking the full path: only a no-op's own proof may stand). */
export function dropProof(cacheDir: string): void {
  fs.rmSync(path.join(cacheDir, PROOF_FILE), { force: true });
}

/** The proof in `cacheDir`, or null when there is none or it is not whole and ours. */
export function readProof(cacheDir: string): Proof | null {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path.join(cacheDir, PROOF_FILE));
  } catch {
    return null;
  }
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const len = bytes.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4 + len;
  if (start > bytes.length) return null;
  let header: ProofHeader;
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length + 4, start).toString('utf8')) as ProofHeader;
  } catch {
    return null;
  }
  const bodyBytes = bytes.subarray(start);
  if (header.ocrmake !== VERSION || header.fingerprintVersion !== FINGERPRINT_VERSION) return null;
  if (bodyBytes.length !== header.pages * SLOTS * 8 || sha256(bodyBytes) !== header.bodyHash) return null;
  // Copied: the slice of a pooled Buffer need not be 8-byte aligned.
  const body = new BigInt64Array(header.pages * SLOTS);
  Buffer.from(body.buffer).set(bodyBytes);
  return { header, body };
}

/** The snapshot's identity and the journal's hash now, or null when the journal is too long to compare. */
export function stateIdentity(cacheDir: string): ProofHeader['state'] | null {
  const snap = fs.statSync(path.join(cacheDir, STATE_FILE), { bigint: true, throwIfNoEntry: false });
  let journal: string | null = null;
  try {
    const bytes = fs.readFileSync(path.join(cacheDir, JOURNAL_FILE));
    if (bytes.length > JOURNAL_MAX) return null;
    journal = sha256(bytes);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return null;
  }
  return { snapshot: snap ? { size: String(snap.size), mtimeNs: String(snap.mtimeNs), ino: String(snap.ino) } : null, journal };
}

/** Whether the file at `abs` has this identity now. */
export function sameFile(abs: string, id: FileId): boolean {
  const st = fs.statSync(abs, { bigint: true, throwIfNoEntry: false });
  return !!st && st.isFile() && String(st.size) === id.size && String(st.mtimeNs) === id.mtimeNs && String(st.ino) === id.ino;
}

/** The basis key of the loaded config, with model files hashed only through the proof's record of them. */
export function provenBasis(config: ResolvedConfig, engine: EngineName, proof: Proof): ContentHash {
  const models = new Map(proof.header.models.map((m) => [m.path, m]));
  const basis = requestBasis(config, engine, (abs) => {
    const m = models.get(abs);
    if (!m || !sameFile(abs, m.id)) throw new Unproven(`model file ${abs} changed`);
    return m.hash;
  });
  return basisKey(config, engine, basis, templateHashOf(config, engine, basis));
}

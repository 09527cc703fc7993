// `ocrmake watch` (DESIGN §10): keeps every page up to date as files change.
//
//            change                 quiet for debounceMs
//   watching ───────▶ debouncing ──────────────────────▶ building ──── done, nothing queued ───▶ watching
//                      ▲  │ change: restart the timer       │  change: queue one follow-up (and let
//                      │  ▼                                 │  the running build re-plan touched pages)
//                      └──────── done, follow-up queued ◀───┘
//
// A build is never cancelled by a change: batches in flight finish, and a result whose request changed in
// the meantime goes to the result store only. ocrmake's own writes never start a build: `.ocrcache/` is not
// watched, folder events ask for nothing, and an output event whose bytes equal what the open project takes
// that output to be is its own write.
import { joinKey } from '../graph/keys.js';
import fs from 'node:fs';
import path from 'node:path';
import type { FSWatcher } from 'chokidar';
import { acquireLock, type Lock } from '../cache/lock.js';
import type { EngineName } from '../config/define.js';
import { OCRFILE } from '../config/load.js';
import { ExitSignal } from '../errors.js';
import type { Emit } from '../events.js';
import { buildProject, type BuildLoop } from '../execute/build.js';
import { CACHE_DIR, openProject, type Project } from '../execute/project.js';
import type { Pattern } from '../graph/pattern.js';
import type { TargetKey } from '../types.js';
import { relPath } from '../util/fs.js';
import { sha256 } from '../util/hash.js';

export interface WatchOptions {
  root: string;
  engine?: 'auto' | EngineName;
  pollSeconds?: number;
  debounceMs: number;
  emit: Emit;
  signal: AbortSignal;
}

/** What one file event asks for. */
type Ask = 'nothing' | 'reload' | 'rediscover' | { touched: TargetKey };

type Phase = { kind: 'watching' } | { kind: 'debouncing'; timer: NodeJS.Timeout } | { kind: 'building'; followUp: boolean };

/** What the changes since the last build ask for. */
interface Pending {
  /** The ocrfile, a rule or a prompt changed: load the config again. */
  reload: boolean;
  /** Pages appeared or disappeared: discover again. */
  rediscover: boolean;
  /** Pages whose image or output changed. */
  touched: Set<TargetKey>;
}

export class Watcher {
  readonly #o: WatchOptions;
  #phase: Phase = { kind: 'watching' };
  #pending: Pending = { reload: true, rediscover: true, touched: new Set() };
  #project: Project | null = null;
  #loop: BuildLoop | null = null;
  #chokidar: FSWatcher | null = null;
  /**
   * The collection's folders, watched by a chokidar of their own so that its 'ready' (the first scan of
   * every folder below them done) says when a change there can no longer be missed: "watching for changes"
   * is printed only then. A change made before would be lost.
   */
  #data: FSWatcher | null = null;
  #dataReady: Promise<void> = Promise.resolve();
  #watch: typeof import('chokidar').watch | null = null;
  #watched = new Set<string>();
  #lock: Lock | null = null;
  #builds = 0;
  /** Build cycles begun, successful or not: every load after the first is a reload worth announcing. */
  #cycles = 0;
  /** Files the last configuration that loaded was made of: while the ocrfile is broken, only these ask for a retry. */
  #configFiles = new Set<string>();
  #done: (() => void) | null = null;
  /** A bug (not a config or usage problem) in a build started by the debounce timer: ends the watch. */
  #fatal: unknown = null;

  constructor(o: WatchOptions) {
    this.#o = o;
  }

  /** Runs until the signal aborts; returns the number of builds run. */
  async run(): Promise<number> {
    this.#lock = acquireLock(path.join(this.#o.root, CACHE_DIR), 'watch');
    const finished = new Promise<void>((resolve) => (this.#done = resolve));
    this.#o.signal.addEventListener('abort', () => this.#stop(), { once: true });
    try {
      this.#watch = (await import('chokidar')).watch;
      this.#chokidar = this.#watcher([]);
      // The config's own files are watched from the start, so that a broken ocrfile can be fixed in place.
      for (const f of ['ocrfile.ts', 'rules', 'prompts'].map((f) => path.join(this.#o.root, f)).filter((f) => fs.existsSync(f))) {
        this.#chokidar.add(f);
        this.#watched.add(f);
      }
      await this.#build(); // the first build brings everything up to date
      if (!this.#o.signal.aborted) await finished;
      if (this.#fatal) throw this.#fatal;
    } finally {
      await this.#chokidar?.close();
      await this.#data?.close();
      if (this.#project) {
        this.#project.objects.close();
        this.#project.store.save();
        this.#project.store.close();
      }
      this.#lock.release();
    }
    return this.#builds;
  }

  #stop(): void {
    if (this.#phase.kind === 'debouncing') clearTimeout(this.#phase.timer);
    // A running build sees the same signal, saves the cache and returns; the batches it had in flight
    // stay in the journal for the next build or watch.
    if (this.#phase.kind !== 'building') this.#done?.();
  }

  #watcher(paths: string[]): FSWatcher {
    const w = this.#watch!(paths, {
      ignoreInitial: true,
      // Never our own cache, temp files or the usual noise.
      ignored: (p) => /(^|[/\\])(\.ocrcache|node_modules|\.git)([/\\]|$)/.test(p) || /\.tmp-\d+-\d+$/.test(p),
      awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 25 },
    });
    w.on('all', (event, file) => this.#onFile(event, file));
    w.on('error', (err) => this.#o.emit({ event: 'warning', message: `file watcher: ${(err as Error).message}` }));
    return w;
  }

  /** Watches the folders the patterns live in, the prompt and rule folders, and the config's files. */
  #watchPaths(p: Project): void {
    const c = p.config;
    const dirs = [c.image, c.target, ...(c.allowList ? [c.allowList] : [])].map((pat) => path.join(c.root, staticPrefix(pat)));
    fs.mkdirSync(path.join(c.root, staticPrefix(c.target)), { recursive: true });
    const paths = new Set([...dirs, path.join(c.root, 'prompts'), path.join(c.root, 'rules'), ...c.imports, ...(c.rule.promptPath ? [c.rule.promptPath] : [])].filter((f) => fs.existsSync(f)));
    const add = [...paths].filter((f) => !this.#watched.has(f));
    if (add.length > 0 && !this.#data) {
      const data = (this.#data = this.#watcher(add));
      this.#dataReady = new Promise((resolve) => data.once('ready', () => resolve()));
    } else if (add.length > 0) this.#data?.add(add);
    for (const f of add) this.#watched.add(f);
    this.#o.emit({ event: 'watch', state: 'watching', message: `watching ${this.#watched.size} paths for changes (Ctrl-C to stop)` });
  }

  #onFile(event: string, abs: string): void {
    const rel = relPath(this.#o.root, abs);
    const ask = this.#classify(event, abs, rel, this.#project);
    if (ask === 'nothing') return;
    this.#o.emit({ event: 'changed', file: rel, during: this.#phase.kind === 'building' ? 'building' : 'waiting' });
    if (ask === 'reload') this.#pending.reload = true;
    else if (ask === 'rediscover') this.#pending.rediscover = true;
    else this.#pending.touched.add(ask.touched);
    switch (this.#phase.kind) {
      case 'watching':
      case 'debouncing':
        this.#debounce();
        return;
      case 'building':
        // Let the running build re-plan the page whose content changed (just this one: the others were
        // handed over when they changed); anything else waits for the follow-up.
        if (this.#loop && typeof ask === 'object' && !this.#pending.reload && !this.#pending.rediscover) {
          this.#loop.invalidate([ask.touched]);
        }
        this.#phase.followUp = true;
        return;
      default:
        return unreachablePhase(this.#phase);
    }
  }

  /** What a file event asks for; 'nothing' for ocrmake's own writes and files no page is made from. */
  #classify(event: string, abs: string, rel: string, p: Project | null): Ask {
    // A folder by itself asks for nothing: chokidar reports the files that appear in it or vanish with it.
    // (The build creates the output folders: counting those would make every first build start another.)
    if (event === 'addDir' || event === 'unlinkDir') return 'nothing';
    // While the configuration is broken only a change to it can help; anything else is seen by the reload
    // that follows the fix, so it is not worth another round of the same error.
    if (this.#isConfigFile(abs, rel)) return 'reload';
    if (!p) return 'nothing';
    const c = p.config;
    const asPage = (pat: Pattern | null) => (pat ? pat.match(rel) : null);
    const targetVars = asPage(c.target);
    if (targetVars) {
      const key = keyOf(p, targetVars);
      if (!key) return 'nothing';
      // Our own write (or no change at all): the file holds what the project already takes the output to be.
      // Not the recorded hash: an edited output put back as ocrmake wrote it equals the record, yet its
      // successors were planned with the edited content and must be planned again.
      const known = p.fingerprints.inputs.get(key)?.outputHash ?? null;
      if (event !== 'unlink' && known) {
        try {
          if (sha256(fs.readFileSync(abs)) === known) return 'nothing';
        } catch {
          // Gone again: treat as a change.
        }
      }
      return { touched: key };
    }
    const sourceVars = asPage(c.image) ?? asPage(c.allowList);
    if (sourceVars) {
      const key = keyOf(p, sourceVars);
      return event === 'change' && key && p.index.byKey.get(key)?.image === rel ? { touched: key } : 'rediscover';
    }
    return 'nothing';
  }

  /** The ocrfile, a rule, a prompt, or a file the last configuration that loaded imported. */
  #isConfigFile(abs: string, rel: string): boolean {
    return this.#configFiles.has(abs) || rel === OCRFILE || rel.startsWith('prompts/') || rel.startsWith('rules/');
  }

  #debounce(): void {
    if (this.#phase.kind === 'debouncing') clearTimeout(this.#phase.timer);
    if (this.#o.signal.aborted) return;
    const timer = setTimeout(() => {
      this.#build().catch((err: unknown) => {
        this.#fatal = err;
        this.#phase = { kind: 'watching' };
        this.#done?.();
      });
    }, this.#o.debounceMs);
    this.#phase = { kind: 'debouncing', timer };
  }

  async #build(): Promise<void> {
    const pending = this.#pending;
    this.#pending = { reload: false, rediscover: false, touched: new Set() };
    this.#phase = { kind: 'building', followUp: false };
    const emit = this.#o.emit;
    let broken = false;
    try {
      if (!this.#project || pending.reload || pending.rediscover) {
        if (pending.reload && this.#cycles > 0) emit({ event: 'watch', state: 'building', message: 'configuration changed: reloading the ocrfile, rules and prompts' });
        // The old project stays in place while the new one opens: file events arriving meanwhile (the last
        // build's own writes, reported late) are still told apart from real changes by its view of the outputs.
        const old = this.#project;
        old?.store.save();
        let next: Project | null = null;
        try {
          next = await openProject({ root: this.#o.root, ...(this.#o.engine ? { engine: this.#o.engine } : {}), emit });
        } finally {
          old?.objects.close();
          old?.store.close();
          this.#project = next;
        }
        this.#configFiles = new Set([next.config.file, ...next.config.imports, ...(next.config.rule.promptPath ? [next.config.rule.promptPath] : [])]);
        this.#watchPaths(next);
      } else {
        for (const key of pending.touched) {
          const page = this.#project.index.byKey.get(key);
          if (!page) continue;
          if (this.#project.fingerprints.chainDependent) this.#project.fingerprints.recomputeFrom(key);
          else this.#project.fingerprints.computeOne(page);
        }
      }
      this.#builds++;
      await buildProject(
        this.#project,
        { root: this.#o.root, cwd: this.#o.root, selectors: [], dryRun: false, force: false, emit, signal: this.#o.signal, ...(this.#o.pollSeconds ? { pollSeconds: this.#o.pollSeconds } : {}) },
        Date.now(),
        (loop) => (this.#loop = loop),
      );
    } catch (err) {
      if (!(err instanceof ExitSignal)) throw err;
      // A broken ocrfile (or prompt) must not end the watch: say what is wrong and wait for the fix.
      if (err.message && !this.#o.signal.aborted) emit({ event: 'warning', message: `${err.message}\n  Watching for a fix…` });
      broken = true;
      if (this.#project === null) this.#pending.reload = true;
    } finally {
      this.#loop = null;
      this.#cycles++;
    }
    const followUp = this.#phase.kind === 'building' && this.#phase.followUp;
    if (this.#o.signal.aborted) {
      this.#phase = { kind: 'watching' };
      this.#done?.();
    } else if (followUp) {
      this.#debounce();
    } else {
      this.#phase = { kind: 'watching' };
      // Not before the first scan of the collection's folders is done: a change made earlier could be missed.
      await this.#dataReady;
      if (!broken && this.#phase.kind === 'watching') emit({ event: 'watch', state: 'watching', message: 'up to date; watching for changes' });
    }
  }
}

function keyOf(p: Project, vars: Record<string, string>): TargetKey | null {
  const order = vars[p.config.order];
  if (order === undefined || !/^\d+$/.test(order)) return null;
  const key = joinKey(p.config.keyWildcards.map((w) => (w === p.config.order ? String(Number(order)) : vars[w]!))) as TargetKey;
  return p.index.byKey.has(key) ? key : null;
}

/** The folder part of a pattern before its first wildcard (`dataset/raw_image_dataset`). */
function staticPrefix(p: Pattern): string {
  const cut = p.source.indexOf('{');
  const head = cut < 0 ? p.source : p.source.slice(0, cut);
  return head.includes('/') ? head.slice(0, head.lastIndexOf('/')) : '.';
}

function unreachablePhase(x: never): never {
  throw new Error(`unexpected watch phase ${JSON.stringify(x)}`);
}

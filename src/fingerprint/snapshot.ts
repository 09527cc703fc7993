// Walks every chain in page order and computes, per target, what the planner needs: the hashes of its
// image and output, the request it would send now (fingerprint and components), and its record.
//
// Fast path: a target's `inputKey` hashes everything its request is derived from (config, schema,
// template, image, wildcard values, and the predecessor's output hash). When it equals the recorded one,
// the recorded fingerprint is reused and neither the previous output is read nor the prompt rendered, so a
// no-op build costs a stat per file.
//
// Context policies (DESIGN §15): in `exact` and `speculative` mode a page's context is its predecessor's final
// output; in `draft` mode it is the predecessor's draft: the result of the predecessor's request made without
// context (`first-pass`) or of its local OCR (`local`), found in the result store by that request's
// fingerprint. A page whose predecessor's draft is not made yet `awaits` it. In speculative mode the request
// stays exact; speculativeRequest() forms the early guess, with the draft's context, that the loop may send.
import fs from 'node:fs';
import path from 'node:path';
import type { EngineName } from '../config/define.js';
import type { ResolvedConfig } from '../config/resolved.js';
import type { ChainIndex } from '../graph/chains.js';
import type { Page } from '../graph/page.js';
import type { Components } from '../cache/records.js';
import type { ResultStore } from '../cache/objects.js';
import type { StateStore } from '../cache/state.js';
import type { TargetInput } from '../plan/types.js';
import type { ContentHash, Fingerprint, TargetKey } from '../types.js';
import { canonicalJson, EMPTY_HASH, sha256 } from '../util/hash.js';
import type { HashCache } from './hash-cache.js';
import { compilePrompt, FINGERPRINT_VERSION, fingerprintOf, imageIdentity, sourceKind, type PromptRenderer } from './request.js';
import type { LocalOcrSetup } from './local-ocr.js';
import { requestBasis, usesTemplate, type RequestBasis } from './basis.js';
import type { ContextMode, DraftSource } from '../config/resolved.js';

/** Everything an engine needs to execute one target's request. */
export interface Request {
  key: TargetKey;
  page: Page;
  fingerprint: Fingerprint;
  components: Components;
  inputKey: string;
  /** Absolute path of the image file (the whole source, for a page inside a multi-page source). */
  imagePath: string;
  /** The image's identity (the fingerprint's image component). */
  imageHash: ContentHash;
  /** The file's content hash, and the page inside it (null: the file is the page). */
  sourceHash: ContentHash;
  sourcePage: number | null;
  /** Rendered prompt and the context it embeds (null for the local engine). */
  prompt: string | null;
  previousContext: string | null;
}

export interface Snapshot {
  readonly inputs: Map<TargetKey, TargetInput & { inputKey: string | null }>;
}

export class Fingerprinter {
  readonly #config: ResolvedConfig;
  readonly #engine: EngineName;
  readonly #store: StateStore;
  readonly #hashes: HashCache;
  readonly #objects: ResultStore;
  readonly #index: ChainIndex;
  readonly #basis: RequestBasis;
  #configKept = false;
  #prompt: { render: PromptRenderer; templateHash: ContentHash } | null = null;
  readonly inputs = new Map<TargetKey, TargetInput & { inputKey: string | null }>();
  /**
   * The length of each page's current prompt and context, kept when the prompt was rendered to find the
   * request (the estimate needs only lengths: rendering every prompt again, and holding 100,000 of them,
   * cost the dry run most of its time and memory). A page whose request came from its record has none.
   */
  readonly #promptSizes = new Map<TargetKey, { prompt: number; context: number | null }>();
  /** Targets recorded as fresh because their output equals the stored result of their request (a crash between write and save). */
  readonly recovered: TargetKey[] = [];
  /** Local drafts are requests of the local engine: their fingerprints come from a local fingerprinter. */
  #localDrafts: Fingerprinter | null = null;
  /** Each page's draft request fingerprint, computed with the page (null: the page has no image). */
  readonly #draftFps = new Map<TargetKey, Fingerprint | null>();
  /** Drafts that failed for good: their successors' requests cannot be formed (draft mode). */
  readonly #draftProblems = new Map<TargetKey, string>();
  /**
   * The output this process wrote last, with its hash: the successor's request, formed right after, takes
   * its context from these bytes instead of reading the file back (used only while its hash is the one
   * the successor's input key holds, so an edit made since is never hidden).
   */
  #lastWritten: { output: string; hash: ContentHash; bytes: Buffer } | null = null;

  constructor(config: ResolvedConfig, engine: EngineName, store: StateStore, hashes: HashCache, objects: ResultStore, index: ChainIndex) {
    this.#config = config;
    this.#engine = engine;
    this.#store = store;
    this.#hashes = hashes;
    this.#objects = objects;
    this.#index = index;
    this.#basis = requestBasis(config, engine, (abs) => {
      const h = hashes.hash(abs);
      return h.kind === 'ok' ? h.hash : null;
    });
  }

  /** The local engine's model files and settings (null for the Gemini engines). */
  get localOcr(): LocalOcrSetup | null {
    return this.#basis.localOcr;
  }

  /** The context policy in force (exact when the rule passes no context, or the engine sends none). */
  get contextMode(): ContextMode {
    return this.#basis.mode;
  }

  /** Whether the loop makes drafts: draft and speculative modes. */
  get drafts(): DraftSource | null {
    return this.#basis.mode === 'exact' ? null : this.#basis.draftSource;
  }

  /** The canonical form of the current request config (the config component's hash is of this). */
  get configJson(): string {
    return this.#basis.configJson;
  }

  /** Keeps this run's config in the cache (once), so explain can later name what changed in it. */
  keepConfig(): void {
    if (this.#configKept) return;
    this.#store.rememberConfig(this.#basis.configHash, this.#basis.configJson);
    this.#configKept = true;
  }

  /** True when a page's request depends on its predecessor's final output (exact and speculative modes). */
  get chainDependent(): boolean {
    return this.#basis.usesContext && this.#basis.mode !== 'draft';
  }

  #template(): { render: PromptRenderer; templateHash: ContentHash } {
    this.#prompt ??= compilePrompt(this.#config);
    return this.#prompt;
  }

  computeAll(): void {
    for (const chain of this.#index.chains) for (const page of chain.pages) this.computeOne(page);
  }

  /** Recomputes a chain from `key` on (after an output of it changed). */
  recomputeFrom(key: TargetKey): void {
    const page = this.#index.byKey.get(key);
    if (!page) return;
    this.computeOne(page);
    this.recomputeAfter(key);
  }

  /**
   * Recomputes the pages after `key` (whose output changed). A page's request depends on its predecessor
   * only through that page's output hash, so the walk stops after a page whose output hash came out as it
   * was: the pages after it see the same inputs. Without the stop, every result in a 300-page chain would
   * recompute the rest of the chain: quadratic in the chain's length.
   */
  recomputeAfter(key: TargetKey): void {
    let k = this.#index.successor.get(key);
    while (k) {
      const page = this.#index.byKey.get(k);
      if (!page) return;
      const before = this.inputs.get(k);
      const after = this.computeOne(page);
      if (before && before.outputHash === after.outputHash) return;
      k = this.#index.successor.get(k);
    }
  }

  /**
   * This process just wrote `key`'s output for its current request and recorded it: its input takes the
   * record as it is, without a stat, a read of the output and a hash of its request again (computeOne's
   * work, which is the same answer). False when the record is not of the current request (then compute).
   */
  wroteOutput(key: TargetKey): boolean {
    const input = this.inputs.get(key);
    const rec = this.#store.targets.get(key);
    if (!input?.current || !rec || rec.fingerprint !== input.current.fingerprint) return false;
    this.inputs.set(key, { ...input, outputHash: rec.outputHash, record: { fingerprint: rec.fingerprint, outputHash: rec.outputHash, components: rec.components } });
    return true;
  }

  computeOne(page: Page): TargetInput {
    const key = page.key;
    const predecessor = this.#index.predecessor.get(key) ?? null;
    const recordRow = this.#store.targets.get(key) ?? null;
    let inputProblem = page.imageProblem;
    let imageHash: ContentHash | null = null;
    if (!inputProblem && page.image) {
      const h = this.#hashes.hash(page.image);
      if (h.kind === 'ok') imageHash = imageIdentity(h.hash, page.sourcePage);
      else inputProblem = h.kind === 'missing' ? `image ${page.image} disappeared` : `image ${page.image} cannot be read: ${h.message}`;
    }
    const out = this.#hashes.hash(page.output);
    let outputHash = out.kind === 'ok' ? out.hash : null;
    let current: TargetInput['current'] = null;
    let currentProblem: string | null = null;
    let inputKey: string | null = null;
    let awaits: TargetKey | null = null;
    if (this.#basis.mode !== 'exact') this.#draftFps.set(key, imageHash ? this.#draftFingerprint(page, imageHash) : null);
    this.#promptSizes.delete(key); // set again below if the prompt is rendered
    if (imageHash) {
      const r = this.#request(page, predecessor, imageHash, recordRow?.inputKey ?? null, recordRow ? { fingerprint: recordRow.fingerprint, components: recordRow.components } : null);
      if ('problem' in r) currentProblem = r.problem;
      else if (r.state === 'known') {
        current = { fingerprint: r.fingerprint, components: r.components };
        inputKey = r.inputKey;
      } else if (r.awaits) awaits = r.awaits;
    }
    let record = recordRow ? { fingerprint: recordRow.fingerprint, outputHash: recordRow.outputHash, components: recordRow.components } : null;
    if (current && outputHash && outputHash !== record?.outputHash && this.#matchesStored(current.fingerprint, outputHash)) {
      // Written by a run that died before saving the cache: the output is exactly the stored result.
      this.keepConfig();
      this.#store.setTarget({
        key, output: page.output, fingerprint: current.fingerprint, components: current.components, inputKey, outputHash,
        engine: this.#engine, model: this.#engine === 'local' ? null : this.#config.rule.model, modelVersion: null, promptFile: this.#engine === 'local' ? null : this.#config.rule.promptFile,
        origin: 'recovered', builtAt: new Date().toISOString(), batch: null, tokensIn: null, tokensOut: null, contextSource: null,
      });
      record = { fingerprint: current.fingerprint, outputHash, components: current.components };
      this.recovered.push(key);
    }
    if (out.kind === 'error' || outputHash === EMPTY_HASH) outputHash = null;
    const input = { key, predecessor, inputProblem, outputHash, current, currentProblem, record, inputKey, awaits };
    this.inputs.set(key, input);
    return input;
  }

  /** The length of `key`'s current prompt and context when this run rendered it (null: not rendered, or no request). */
  promptSize(key: TargetKey): { prompt: number; context: number | null } | null {
    return this.inputs.get(key)?.current ? this.#promptSizes.get(key) ?? null : null;
  }

  /** A page's image identity, from the stat cache (for requests of pages whose own request is not known). */
  #imageOf(page: Page): ContentHash | null {
    if (!page.image) return null;
    const h = this.#hashes.hash(page.image);
    return h.kind === 'ok' ? imageIdentity(h.hash, page.sourcePage) : null;
  }

  #matchesStored(fp: Fingerprint, outputHash: ContentHash): boolean {
    const bytes = this.#objects.read(fp);
    return bytes !== null && sha256(bytes) === outputHash;
  }

  #inputKey(page: Page, imageHash: ContentHash, predOutput: ContentHash | null, predDraft: Fingerprint | null = null): string {
    const templateHash = usesTemplate(this.#engine, this.#basis) ? this.#template().templateHash : null;
    return sha256(canonicalJson({ v: FINGERPRINT_VERSION, config: this.#basis.configHash, schema: this.#config.rule.schemaHash, template: templateHash, contextFn: this.#basis.contextFnHash, image: imageHash, prepare: this.#prepareOf(page), vars: page.vars, pred: predOutput, predDraft: predDraft ?? undefined }));
  }

  #prepareOf(page: Page): ContentHash {
    return this.#basis.prepareHash[sourceKind(page.image ?? '')];
  }

  #request(
    page: Page,
    predecessor: TargetKey | null,
    imageHash: ContentHash,
    recordedInputKey: string | null,
    recorded: { fingerprint: Fingerprint; components: Components } | null,
  ): { problem: string } | { state: 'unknown'; awaits?: TargetKey } | { state: 'known'; fingerprint: Fingerprint; components: Components; inputKey: string } {
    let predOutput: ContentHash | null = null;
    let predDraft: Fingerprint | null = null;
    if (this.#basis.usesContext && predecessor && this.#basis.mode === 'draft') {
      predDraft = this.#draftFps.get(predecessor) ?? null;
      if (predDraft === null) {
        const pred = this.inputs.get(predecessor);
        return { problem: `${predecessor} has no image to make a draft from${pred?.inputProblem ? ` (${pred.inputProblem})` : ''}` };
      }
      const failed = this.#draftProblems.get(predecessor);
      if (failed !== undefined && !this.#objects.has(predDraft)) return { problem: `the draft of ${predecessor} failed: ${failed}` };
      if (!this.#objects.has(predDraft)) return { state: 'unknown', awaits: predecessor };
    } else if (this.#basis.usesContext && predecessor) {
      predOutput = this.inputs.get(predecessor)?.outputHash ?? null;
      if (predOutput === null) return { state: 'unknown' };
    }
    const inputKey = this.#inputKey(page, imageHash, predOutput, predDraft);
    if (recorded && recordedInputKey === inputKey) return { state: 'known', ...recorded, inputKey };
    const built = this.#build(page, predecessor, imageHash);
    if ('problem' in built) return built;
    this.#promptSizes.set(page.key, { prompt: built.prompt?.length ?? 0, context: built.previousContext?.length ?? null });
    return { state: 'known', fingerprint: built.fingerprint, components: built.components, inputKey };
  }

  #build(
    page: Page,
    predecessor: TargetKey | null,
    imageHash: ContentHash,
    source: 'policy' | 'none' | 'draft' = 'policy',
  ): { problem: string } | { fingerprint: Fingerprint; components: Components; prompt: string | null; previousContext: string | null } {
    const schema = this.#config.rule.schemaHash;
    if (this.#engine === 'local') {
      // The local "request" is the image plus what rule.fromLocalOcr is told about the page (its wildcard
      // values and number): two pages with identical images still get their own page number and book.
      const components: Components = { image: imageHash, prompt: sha256(canonicalJson({ page: page.vars })), context: null, config: this.#basis.configHash, schema, template: null, prepare: this.#prepareOf(page) };
      return { fingerprint: fingerprintOf(components), components, prompt: null, previousContext: null };
    }
    let previousContext: string | null = null;
    const from = source === 'policy' ? (this.#basis.mode === 'draft' ? 'draft' : 'final') : source;
    if (this.#basis.usesContext && predecessor && from !== 'none') {
      const pred = this.#index.byKey.get(predecessor)!;
      const ctx = from === 'draft' ? this.#contextFromDraft(pred) : this.#contextFrom(pred);
      if (typeof ctx !== 'string') return ctx;
      previousContext = ctx;
    }
    const { render, templateHash } = this.#template();
    const prompt = render(page.vars, previousContext);
    const components: Components = {
      image: imageHash,
      prompt: sha256(prompt),
      context: previousContext === null ? null : sha256(previousContext),
      config: this.#basis.configHash,
      schema,
      template: templateHash,
      prepare: this.#prepareOf(page),
    };
    return { fingerprint: fingerprintOf(components), components, prompt, previousContext };
  }

  /** `output` (a path relative to the root) was just written with `bytes` of hash `hash`. */
  noteWritten(output: string, hash: ContentHash, bytes: Buffer): void {
    this.#lastWritten = { output, hash, bytes };
  }

  #contextFrom(pred: Page): string | { problem: string } {
    let value: unknown;
    try {
      const w = this.#lastWritten;
      const known = w !== null && w.output === pred.output && w.hash === this.inputs.get(pred.key)?.outputHash;
      value = JSON.parse(known ? w.bytes.toString('utf8') : fs.readFileSync(path.join(this.#config.root, pred.output), 'utf8'));
    } catch (err) {
      return { problem: `the previous page's output ${pred.output} is not valid JSON (${(err as Error).message}); fix it or delete it to rebuild it` };
    }
    try {
      return String(this.#config.rule.context!(value));
    } catch (err) {
      return { problem: `rule.context() failed on ${pred.output}: ${(err as Error).message}; fix that output or the rule's context function` };
    }
  }

  /** The context the rule makes of a draft (its result in the result store), or why there is none. */
  #contextFromDraft(pred: Page): string | { problem: string } {
    const fp = this.#draftFps.get(pred.key) ?? null;
    const bytes = fp ? this.#objects.read(fp) : null;
    if (!bytes) return { problem: `the draft of ${pred.key} is not in the result store` };
    try {
      return String(this.#config.rule.context!(JSON.parse(bytes.toString('utf8'))));
    } catch (err) {
      return { problem: `rule.context() failed on the draft of ${pred.key}: ${(err as Error).message}` };
    }
  }

  /** The fingerprint of a page's draft: its request without context, or its local OCR request. */
  #draftFingerprint(page: Page, imageHash: ContentHash): Fingerprint | null {
    const built = this.#basis.draftSource === 'local' ? this.#local().#build(page, null, imageHash) : this.#build(page, null, imageHash, 'none');
    return 'problem' in built ? null : built.fingerprint;
  }

  #local(): Fingerprinter {
    this.#localDrafts ??= new Fingerprinter(this.#config, 'local', this.#store, this.#hashes, this.#objects, this.#index);
    return this.#localDrafts;
  }

  /** The local engine's setup for local drafts (context.draft: 'local'). */
  localDraftSetup(): LocalOcrSetup | null {
    return this.#local().localOcr;
  }

  /** The draft of `key` failed for good: in draft mode its successor is blocked by it. */
  draftFailed(key: TargetKey, message: string): void {
    this.#draftProblems.set(key, message);
  }

  /** The draft fingerprint of `key` (null: none can be made, or drafts are off). */
  draftOf(key: TargetKey): Fingerprint | null {
    return this.#draftFps.get(key) ?? null;
  }

  /**
   * The request that makes `key`'s draft: its own request without context (first-pass: sent by the build's
   * engine), or its local OCR request (local: sent to the offline engine).
   */
  draftRequest(key: TargetKey): Request {
    const page = this.#index.byKey.get(key);
    const fp = this.#draftFps.get(key);
    if (!page?.image || !fp) throw new Error(`no draft can be formed for ${key}`);
    if (this.#basis.draftSource === 'local') {
      return this.#local().requestWith(key, 'none');
    }
    return this.requestWith(key, 'none');
  }

  /**
   * Speculative mode: the request `key` would make if its predecessor's final output gave the context its
   * draft gives (null when the draft is not made yet). Sent early, its result waits in the result store:
   * when the predecessor is final and the context came out the same, the page's exact request is this one.
   */
  speculativeRequest(key: TargetKey): Request | null {
    const pred = this.#index.predecessor.get(key);
    const fp = pred ? this.#draftFps.get(pred) : null;
    if (!pred || !fp || !this.#objects.has(fp)) return null;
    try {
      return this.requestWith(key, 'draft');
    } catch {
      return null;
    }
  }

  /** The full request for a target whose fingerprint is known (re-derived: prompts are not kept in memory). */
  request(key: TargetKey): Request {
    return this.requestWith(key, 'policy');
  }

  /** A request of `key` with its context from where `source` says (`policy`: the current request). */
  requestWith(key: TargetKey, source: 'policy' | 'none' | 'draft'): Request {
    const input = this.inputs.get(key);
    const page = this.#index.byKey.get(key);
    const image = input?.current?.components.image ?? (page?.image ? this.#imageOf(page) : null);
    if (!page?.image || !image || (source === 'policy' && !input?.current)) throw new Error(`no request can be formed for ${key}`);
    const built = this.#build(page, this.#index.predecessor.get(key) ?? null, image, source);
    if ('problem' in built) throw new Error(built.problem);
    if (source === 'policy' && built.fingerprint !== input!.current!.fingerprint) throw new Error(`fingerprint of ${key} changed while building its request`);
    // Stat-cached. A file gone since planning keeps the identity as a stand-in: preparing it reports the loss.
    const file = this.#hashes.hash(page.image);
    return {
      key,
      page,
      fingerprint: built.fingerprint,
      components: built.components,
      inputKey: input?.inputKey ?? '',
      imagePath: path.join(this.#config.root, page.image),
      imageHash: image,
      sourceHash: file.kind === 'ok' ? file.hash : image,
      sourcePage: page.sourcePage,
      prompt: built.prompt,
      previousContext: built.previousContext,
    };
  }
}

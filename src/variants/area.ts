// The variant area (DESIGN §17): `.ocrcache/variants/<name>/` holds a variant's own state.sqlite (its
// targets, batches and attempts), its outputs under `outputs/` (the target pattern, re-rooted), and
// `variant.json` (its settings and the pages last tried). Results go to the project's result store, which
// is addressed by request fingerprint: that is what makes adopting a variant's settings free.
import fs from 'node:fs';
import path from 'node:path';
import type { EngineName } from '../config/define.js';
import { loadConfig } from '../config/load.js';
import type { ResolvedConfig, ResolvedVariant } from '../config/resolved.js';
import { VARIANT_NAME } from '../config/schema.js';
import { usageError } from '../errors.js';
import type { Emit } from '../events.js';
import { CACHE_DIR, openProject, type Project } from '../execute/project.js';
import { parsePattern } from '../graph/pattern.js';
import { relPath, writeFileAtomic } from '../util/fs.js';
import { STATE_FILE, StateStore } from '../cache/state.js';
import type { Fingerprint } from '../types.js';

export const VARIANTS = 'variants';
/** The name that stands for the real outputs in `compare` and `eval --variant`. */
export const CURRENT = 'current';

export const variantDir = (root: string, name: string): string => path.join(root, CACHE_DIR, VARIANTS, name);

/** What variant.json holds. */
export interface VariantRecord {
  name: string;
  settings: Record<string, unknown>;
  /** Keys of the pages the last `try` built (its sample, or every selected page). */
  pages: string[];
  triedAt: string;
}

/** The project's config as the variant sees it: its rule and context policy, outputs in its area. */
export function variantConfig(config: ResolvedConfig, v: ResolvedVariant): ResolvedConfig {
  const area = relPath(config.root, path.join(variantDir(config.root, v.name), 'outputs'));
  const target = parsePattern(`${area}/${config.target.source}`);
  if (!target.ok) throw new Error(`variant target pattern: ${target.message}`);
  return Object.freeze({ ...config, rule: v.rule, context: v.context, target: target.pattern });
}

/**
 * Every fingerprint a variant area's state records: `gc` keeps their results, so that adopting a variant's
 * settings stays free however long ago it was tried. (Delete `.ocrcache/variants/<name>` to let them go.)
 */
export async function variantFingerprints(root: string): Promise<Set<Fingerprint>> {
  const out = new Set<Fingerprint>();
  const dir = path.join(root, CACHE_DIR, VARIANTS);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, STATE_FILE)));
  } catch {
    return out;
  }
  for (const name of names) {
    const { store } = await StateStore.open(path.join(dir, name));
    try {
      for (const r of store.targets.values()) out.add(r.fingerprint);
    } finally {
      store.close();
    }
  }
  return out;
}

/** The variants recorded in areas (those tried with --prompt/--model flags live only there). */
export function recordedVariants(root: string): Map<string, VariantRecord> {
  const out = new Map<string, VariantRecord>();
  const dir = path.join(root, CACHE_DIR, VARIANTS);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    try {
      const record = JSON.parse(fs.readFileSync(path.join(dir, name, 'variant.json'), 'utf8')) as VariantRecord;
      if (record.name === name && VARIANT_NAME.test(name)) out.set(name, record);
    } catch {
      // An area without a readable record (a try stopped before its end): the ocrfile must define it.
    }
  }
  return out;
}

export function writeVariantRecord(root: string, record: VariantRecord): void {
  const file = path.join(variantDir(root, record.name), 'variant.json');
  writeFileAtomic(file, Buffer.from(`${JSON.stringify(record, null, 2)}\n`), path.join(root, CACHE_DIR, 'tmp'));
}

/**
 * The config with the variant `name` known: the ocrfile's own, else its settings from command-line flags
 * (`settings`), else those recorded in its area by an earlier `try` with flags. Only that one record is read:
 * a stale record of another variant (its prompt file since deleted) must not stop this command.
 */
export async function loadWithVariant(root: string, name: string, settings?: Record<string, unknown>): Promise<ResolvedConfig> {
  const recorded = settings ?? recordedVariants(root).get(name)?.settings;
  return loadConfig(root, undefined, recorded && name !== CURRENT ? { variants: { [name]: recorded } } : {});
}

/** A variant by name, or a usage error listing the variants there are (the ocrfile's, then recorded ones). */
export function variantOf(config: ResolvedConfig, name: string): ResolvedVariant {
  const v = config.variants.get(name);
  if (v) return v;
  const known = [...new Set([...config.variants.keys(), ...recordedVariants(config.root).keys()])];
  throw usageError([{
    reason: 'config-invalid',
    file: relPath(config.root, config.file),
    at: `variants.${name}`,
    message: `no variant "${name}"${known.length > 0 ? ` (variants: ${known.join(', ')})` : ''}`,
    hint: `Define it under variants: { ${name}: { prompt, model, generationConfig, context } } in the ocrfile, or give its settings to try (--prompt, --model, --generation-config, --context).`,
  }]);
}

/** Opens the variant's build: its config, its own state, the project's result store. */
export function openVariant(config: ResolvedConfig, v: ResolvedVariant, o: { engine?: 'auto' | EngineName; emit: Emit }): Promise<Project> {
  return openProject({
    root: config.root,
    emit: o.emit,
    ...(o.engine ? { engine: o.engine } : {}),
    variant: { config: variantConfig(config, v), stateDir: variantDir(config.root, v.name) },
  });
}

/** Opens the real project or a variant's (`current` is the real one), with every variant known. */
export async function openNamed(root: string, name: string, o: { engine?: 'auto' | EngineName; emit: Emit }): Promise<{ project: Project; variant: ResolvedVariant | null }> {
  const config = await loadWithVariant(root, name);
  if (name === CURRENT) return { project: await openProject({ root, emit: o.emit, ...(o.engine ? { engine: o.engine } : {}), variant: { config, stateDir: path.join(root, CACHE_DIR) } }), variant: null };
  const v = variantOf(config, name);
  return { project: await openVariant(config, v, o), variant: v };
}

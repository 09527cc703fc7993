// What ocrmake knows of Gemini models without asking the API: generation (which decides the image-token
// rule and the thinking controls), lifecycle (deprecation, shutdown, routing to another model) and the
// thinking levels each accepts. The API stays the authority on whether a model exists (the build asks
// models.get before sending anything); this table only lets ocrmake warn early, estimate, and validate.
//
// Checked on CATALOGUE_AS_OF against the sources named in README "Models and prices". Google changes these;
// a model missing here still works: its generation is read from its name, and every level is allowed.

export const CATALOGUE_AS_OF = '2026-11-29';

/** The model a rule gets when it names none: see README "Models and prices" for why. */
export const DEFAULT_MODEL = 'gemini-3.8-flash';

export const THINKING_LEVELS = ['minimal', 'low', 'medium', 'high'] as const;
export type ThinkingLevel = (typeof THINKING_LEVELS)[number];

export const MEDIA_RESOLUTIONS = ['low', 'medium', 'high', 'ultra-high'] as const;
export type MediaResolution = (typeof MEDIA_RESOLUTIONS)[number];

export interface ModelInfo {
  readonly id: string;
  /** Major generation: 2 (image tiles, thinking budgets), 3 and 4 (media-resolution budgets, thinking levels). */
  readonly generation: number;
  readonly preview: boolean;
  /**
   * From this date (UTC) the model no longer answers as itself: with `routedTo` Google answers its requests
   * with that model (at that model's prices); without, requests fail (404).
   */
  readonly shutdown?: string;
  readonly routedTo?: string;
  /** Google's recommended replacement, named in warnings. */
  readonly replacement?: string;
  /** thinkingLevel values the model accepts (Gemini 3+); absent: unknown, all are allowed. */
  readonly levels?: readonly ThinkingLevel[];
  /** thinkingBudget range (Gemini 2.5 and, as a legacy control, Gemini 3); absent: not accepted. */
  readonly budget?: { readonly min: number; readonly max: number; readonly canDisable: boolean };
}

const ALL_LEVELS = THINKING_LEVELS;
const NO_MINIMAL = ['low', 'medium', 'high'] as const;

const MODELS: readonly ModelInfo[] = [
  { id: 'gemini-4-carbon', generation: 4, preview: false, levels: NO_MINIMAL },
  { id: 'gemini-4-argon', generation: 4, preview: false, levels: NO_MINIMAL },
  { id: 'gemini-3.8-flash', generation: 3, preview: false, levels: NO_MINIMAL },
  { id: 'gemini-3.7-flash', generation: 3, preview: false, levels: NO_MINIMAL, shutdown: '2026-10-08', routedTo: 'gemini-3.8-flash', replacement: 'gemini-3.8-flash' },
  { id: 'gemini-3.6-flash', generation: 3, preview: false, levels: ALL_LEVELS },
  { id: 'gemini-3.5-flash', generation: 3, preview: false, levels: ALL_LEVELS, shutdown: '2026-10-08', routedTo: 'gemini-3.6-flash', replacement: 'gemini-3.8-flash' },
  { id: 'gemini-3.5-flash-lite', generation: 3, preview: false, levels: ALL_LEVELS },
  { id: 'gemini-3.1-flash-lite', generation: 3, preview: false, shutdown: '2027-05-07', replacement: 'gemini-3.5-flash-lite' },
  { id: 'gemini-3.1-pro-preview', generation: 3, preview: true, levels: NO_MINIMAL },
  { id: 'gemini-3-flash-preview', generation: 3, preview: true, levels: ALL_LEVELS },
  { id: 'gemini-3-pro-preview', generation: 3, preview: true, shutdown: '2026-03-09', replacement: 'gemini-3.1-pro-preview' },
  { id: 'gemini-2.5-pro', generation: 2, preview: false, budget: { min: 128, max: 32_768, canDisable: false }, shutdown: '2026-12-01', routedTo: 'gemini-3.8-flash', replacement: 'gemini-3.8-flash' },
  { id: 'gemini-2.5-flash', generation: 2, preview: false, budget: { min: 0, max: 24_576, canDisable: true }, shutdown: '2026-12-01', routedTo: 'gemini-3.5-flash-lite', replacement: 'gemini-3.5-flash-lite' },
  { id: 'gemini-2.5-flash-lite', generation: 2, preview: false, budget: { min: 512, max: 24_576, canDisable: true } },
  { id: 'gemini-2.0-flash', generation: 2, preview: false, shutdown: '2026-06-01', replacement: 'gemini-3.6-flash' },
  { id: 'gemini-2.0-flash-lite', generation: 2, preview: false, shutdown: '2026-06-01', replacement: 'gemini-3.1-flash-lite' },
];

const BY_ID = new Map(MODELS.map((m) => [m.id, m]));

/** `models/gemini-3.8-flash` → `gemini-3.8-flash`. */
export const bareModel = (model: string): string => model.replace(/^(models|tunedModels)\//, '');

/** The catalogue entry, or null for a model ocrmake does not know (tuned, newer, or a typo). */
export function modelInfo(model: string): ModelInfo | null {
  return BY_ID.get(bareModel(model)) ?? null;
}

/** The generation, from the catalogue or else the name (`gemini-5-…` → 5); 3 when the name says nothing. */
export function generationOf(model: string): number {
  const known = modelInfo(model);
  if (known) return known.generation;
  const m = /^gemini-(\d+)(?:[.-]|$)/.exec(bareModel(model));
  return m ? Number(m[1]) : 3;
}

export type Lifecycle =
  | { kind: 'current' }
  /** Shuts down on `on` (in the future); then routed to `routedTo`, or gone. */
  | { kind: 'deprecated'; on: string; routedTo: string | null; replacement: string | null }
  /** Since `since`, Google answers this model's requests with `to`. */
  | { kind: 'routed'; since: string; to: string }
  | { kind: 'shut-down'; since: string; replacement: string | null };

/** Where a model stands on `today` (YYYY-MM-DD, UTC) according to the catalogue. */
export function lifecycle(model: string, today: string): Lifecycle {
  const m = modelInfo(model);
  if (!m?.shutdown) return { kind: 'current' };
  if (today < m.shutdown) return { kind: 'deprecated', on: m.shutdown, routedTo: m.routedTo ?? null, replacement: m.replacement ?? null };
  if (m.routedTo) return { kind: 'routed', since: m.shutdown, to: m.routedTo };
  return { kind: 'shut-down', since: m.shutdown, replacement: m.replacement ?? null };
}

/** The model whose prices apply to requests for `model` sent on `today`: itself, or the one it is routed to. */
export function billedModel(model: string, today: string): string {
  const l = lifecycle(model, today);
  return l.kind === 'routed' ? l.to : bareModel(model);
}

/**
 * Whether an answer's `modelVersion` names the requested model: the same id, or the id with a version
 * suffix (`-001`, `-09-2026`, `-preview-05-14`). `gemini-3.5-flash` answered by `gemini-3.5-flash-lite` is
 * another model.
 */
export function sameModel(requested: string, answered: string): boolean {
  const r = bareModel(requested), a = bareModel(answered);
  if (a === r) return true;
  if (!a.startsWith(`${r}-`)) return false;
  return /^(\d{2,3}|\d{2}-\d{2,4}|preview(-\d{2}-\d{2,4})?|exp(-\d{4,})?|latest)$/.test(a.slice(r.length + 1));
}

/** Today's date in UTC as YYYY-MM-DD (what the catalogue and the price table compare with). */
export function todayUtc(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

// The rule's Gemini options — model, mediaResolution, thinking — turned into what is sent, and checked
// against what the model accepts (cost/models.ts). Both spellings are accepted: the rule's own options
// (`mediaResolution: 'low'`, `thinking: { level: 'low' }`) and the API's fields inside generationConfig
// (`mediaResolution: 'MEDIA_RESOLUTION_LOW'`, `thinkingConfig: { thinkingLevel: 'low' }`); not both.
import { closest } from '../util/names.js';
import { generationOf, MEDIA_RESOLUTIONS, modelInfo, THINKING_LEVELS, type MediaResolution, type ThinkingLevel } from '../cost/models.js';

export interface ModelOptionsInput {
  model: string;
  mediaResolution?: MediaResolution | undefined;
  thinking?: { level?: ThinkingLevel | undefined; budget?: number | undefined } | undefined;
  generationConfig: Readonly<Record<string, unknown>>;
}

export interface ModelOptions {
  /** The generationConfig as sent (thinkingConfig and a request-wide mediaResolution merged in). */
  generationConfig: Readonly<Record<string, unknown>>;
  /** The effective media resolution (either spelling), null when unset. */
  mediaResolution: MediaResolution | null;
  /** Set when the resolution must go on the image part (ultra-high): the level enum to put there. */
  partMediaResolution: string | null;
  /** v1alpha when a per-part media resolution is sent (documented there only), else v1beta. */
  apiVersion: 'v1beta' | 'v1alpha';
}

export interface OptionProblem {
  /** Config path below `rule`, e.g. `thinking.level`. */
  at: string;
  message: string;
  hint: string;
}

const ENUM: Readonly<Record<MediaResolution, string>> = {
  low: 'MEDIA_RESOLUTION_LOW',
  medium: 'MEDIA_RESOLUTION_MEDIUM',
  high: 'MEDIA_RESOLUTION_HIGH',
  'ultra-high': 'MEDIA_RESOLUTION_ULTRA_HIGH',
};

/** `MEDIA_RESOLUTION_LOW`, `media_resolution_low` or `low` → `low`; null for anything else. */
function mediaFromApi(value: unknown): MediaResolution | null {
  if (typeof value !== 'string') return null;
  const v = value.toLowerCase().replace(/^media_resolution_/, '').replace(/_/g, '-');
  return (MEDIA_RESOLUTIONS as readonly string[]).includes(v) ? (v as MediaResolution) : null;
}

export function modelOptions(input: ModelOptionsInput, problems: OptionProblem[]): ModelOptions {
  const { model } = input;
  const generation = generationOf(model);
  const info = modelInfo(model);
  checkKeys(input.generationConfig, problems);
  const config: Record<string, unknown> = { ...input.generationConfig };

  // Media resolution.
  let media: MediaResolution | null = input.mediaResolution ?? null;
  if ('mediaResolution' in config) {
    const raw = config['mediaResolution'];
    const parsed = mediaFromApi(raw);
    if (input.mediaResolution !== undefined) {
      problems.push({ at: 'generationConfig.mediaResolution', message: 'mediaResolution is set twice (rule.mediaResolution and generationConfig.mediaResolution)', hint: 'Keep one: rule.mediaResolution: \'low\' | \'medium\' | \'high\' | \'ultra-high\'.' });
    } else if (parsed === null || parsed === 'ultra-high') {
      problems.push({
        at: 'generationConfig.mediaResolution',
        message: `"${String(raw)}" is not a request-wide media resolution`,
        hint: 'Use MEDIA_RESOLUTION_LOW, _MEDIUM or _HIGH (ultra-high is per image part only: set rule.mediaResolution: \'ultra-high\').',
      });
    } else media = parsed;
    delete config['mediaResolution'];
  }
  let partMediaResolution: string | null = null;
  if (media === 'ultra-high') {
    if (generation < 3) problems.push({ at: 'mediaResolution', message: `'ultra-high' is a per-image-part setting of Gemini 3 and later; ${model} does not have it`, hint: 'Use low, medium or high, or a Gemini 3 model.' });
    partMediaResolution = ENUM['ultra-high'];
  } else if (media) {
    config['mediaResolution'] = ENUM[media];
  }

  // Thinking.
  const raw = config['thinkingConfig'];
  let level = input.thinking?.level;
  let budget = input.thinking?.budget;
  if (raw !== undefined) {
    const tc = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    if (input.thinking) {
      problems.push({ at: 'generationConfig.thinkingConfig', message: 'thinking is set twice (rule.thinking and generationConfig.thinkingConfig)', hint: 'Keep one: rule.thinking: { level } or { budget }.' });
    } else {
      if (tc['thinkingLevel'] !== undefined) {
        const l = String(tc['thinkingLevel']).toLowerCase();
        if ((THINKING_LEVELS as readonly string[]).includes(l)) level = l as ThinkingLevel;
        else problems.push({ at: 'generationConfig.thinkingConfig.thinkingLevel', message: `"${String(tc['thinkingLevel'])}" is not a thinking level`, hint: `Use one of ${THINKING_LEVELS.join(', ')}.` });
      }
      if (tc['thinkingBudget'] !== undefined) budget = typeof tc['thinkingBudget'] === 'number' ? tc['thinkingBudget'] : Number.NaN;
    }
  }
  const fromRule = input.thinking !== undefined;
  const levelAt = fromRule ? 'thinking.level' : 'generationConfig.thinkingConfig.thinkingLevel';
  const budgetAt = fromRule ? 'thinking.budget' : 'generationConfig.thinkingConfig.thinkingBudget';
  if (level !== undefined && budget !== undefined) {
    problems.push({ at: fromRule ? 'thinking' : 'generationConfig.thinkingConfig', message: 'both a thinking level and a thinking budget are set; the API answers HTTP 400 to both', hint: 'Keep level (Gemini 3 and later) or budget (Gemini 2.5).' });
  } else if (level !== undefined) {
    if (generation < 3) {
      problems.push({ at: levelAt, message: `${model} has no thinking levels (they are Gemini 3 and later)`, hint: budgetHint(model) });
    } else if (info?.levels && !info.levels.includes(level)) {
      problems.push({ at: levelAt, message: `${model} does not accept thinking level "${level}" (the API answers HTTP 400)`, hint: `Use one of: ${info.levels.join(', ')}.` });
    }
  } else if (budget !== undefined) {
    const where = budgetAt;
    const range = info?.budget;
    if (!Number.isInteger(budget)) problems.push({ at: where, message: `the thinking budget must be a whole number of tokens (got ${String(budget)})`, hint: budgetHint(model) });
    else if (generation >= 4) problems.push({ at: where, message: `${model} takes no thinking budget`, hint: `Use thinking.level (${(info?.levels ?? THINKING_LEVELS).join(', ')}).` });
    else if (range && budget !== -1 && !(budget === 0 && range.canDisable) && (budget < range.min || budget > range.max)) {
      problems.push({ at: where, message: `${model} accepts a thinking budget of ${range.canDisable ? '0 (off), ' : ''}${range.min.toLocaleString('en-US')}–${range.max.toLocaleString('en-US')} or -1 (dynamic); got ${budget}`, hint: budgetHint(model) });
    }
  }
  delete config['thinkingConfig'];
  if (level !== undefined || budget !== undefined) {
    config['thinkingConfig'] = { ...(typeof raw === 'object' && raw !== null ? raw : {}), ...(level !== undefined ? { thinkingLevel: level } : {}), ...(budget !== undefined ? { thinkingBudget: budget } : {}) };
  }
  return { generationConfig: Object.freeze(config), mediaResolution: media, partMediaResolution, apiVersion: partMediaResolution ? 'v1alpha' : 'v1beta' };
}

function budgetHint(model: string): string {
  const r = modelInfo(model)?.budget;
  if (!r) return 'Gemini 2.5 models take thinking.budget (tokens; -1 lets the model decide); Gemini 3 and later take thinking.level.';
  return `Set thinking.budget to ${r.canDisable ? '0 (off), ' : ''}${r.min.toLocaleString('en-US')}–${r.max.toLocaleString('en-US')}, or -1 to let the model decide.`;
}

/**
 * The fields of the API's GenerationConfig (camelCase, as the SDK and the REST API spell them). Anything
 * else is refused: the interactive SDK drops a key it does not know while the batch file sends it verbatim
 * (and the API answers 400), so a typo or a snake_case key from a YAML config would behave differently per
 * engine. The response format is ocrmake's: it comes from rule.schema.
 */
const GENERATION_CONFIG_KEYS = [
  'temperature', 'topP', 'topK', 'candidateCount', 'maxOutputTokens', 'stopSequences', 'seed', 'presencePenalty', 'frequencyPenalty',
  'responseLogprobs', 'logprobs', 'responseModalities', 'mediaResolution', 'thinkingConfig', 'speechConfig', 'audioTimestamp',
  'routingConfig', 'modelSelectionConfig', 'enableAffectiveDialog', 'enableEnhancedCivicAnswers', 'audioTranscriptionConfig', 'translationConfig',
] as const;
const SET_BY_OCRMAKE = ['responseMimeType', 'responseJsonSchema', 'responseSchema', 'responseFormat'];

function checkKeys(generationConfig: Readonly<Record<string, unknown>>, problems: OptionProblem[]): void {
  const known: readonly string[] = GENERATION_CONFIG_KEYS;
  for (const key of Object.keys(generationConfig)) {
    if (known.includes(key)) continue;
    const at = `generationConfig.${key}`;
    const camel = key.replace(/[_-]+([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
    if (SET_BY_OCRMAKE.includes(key) || SET_BY_OCRMAKE.includes(camel)) {
      problems.push({ at, message: `${key} is set by ocrmake (JSON replies that follow rule.schema)`, hint: `Remove ${key}; the reply format comes from the rule's schema.` });
    } else if (camel !== key && known.includes(camel)) {
      problems.push({ at, message: `unknown generation config key "${key}"`, hint: `The API spells it "${camel}" (camelCase): rename it.` });
    } else {
      const near = closest(camel, known);
      problems.push({ at, message: `unknown generation config key "${key}"`, hint: near ? `Did you mean "${near}"?` : `Keys the API knows: ${known.join(', ')}.` });
    }
  }
}

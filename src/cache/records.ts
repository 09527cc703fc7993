import type { ContentHash, Fingerprint, TargetKey } from '../types.js';

/** Hashes of the parts of a request, kept beside the fingerprint so explain can name what changed. */
export interface Components {
  image: ContentHash | null;
  /** The rendered prompt (null for the local engine, which sends none). */
  prompt: ContentHash | null;
  /** The previous page's context (null when the page has none). */
  context: ContentHash | null;
  /** Engine, model, generation config, rule name and version (and the local mapper). */
  config: ContentHash;
  schema: ContentHash;
  /** The template file, to tell a template edit from a context change. */
  template: ContentHash | null;
  /**
   * How the image is prepared for the engine (config/images.ts settings that apply to this source). Absent
   * in records written before images were prepared.
   */
  prepare?: ContentHash | null;
}

/** The previous-page context an output was built with: the predecessor's final output, its draft, or a speculative guess later verified equal. */
export interface ContextSource {
  kind: 'final' | 'draft' | 'speculative';
  /** The predecessor's key. */
  of: string;
  /** Its output hash (final, speculative) or its draft request's fingerprint (draft). */
  hash: string | null;
}

export type Origin = 'built' | 'restored' | 'recovered' | 'adopted';

export interface TargetRecord {
  key: TargetKey;
  output: string;
  fingerprint: Fingerprint;
  components: Components;
  inputKey: string | null;
  outputHash: ContentHash;
  engine: string;
  /** The model asked for (null for the local engine). */
  model: string | null;
  /** The model that answered (the reply's modelVersion), when the engine said. */
  modelVersion: string | null;
  /** Which context the output was built with (null: none, or recorded by an older ocrmake). */
  contextSource: ContextSource | null;
  promptFile: string | null;
  origin: Origin;
  builtAt: string;
  batch: string | null;
  tokensIn: number | null;
  tokensOut: number | null;
}

/** What a header read of a source file found: its format and page count. */
export interface SourceRow {
  hash: string;
  format: string;
  pages: number;
  /** `problem`: why the file could not be read (pages is 0 then). */
  info: { problem?: string };
}

export interface FileHashRow {
  path: string;
  size: number;
  mtimeNs: bigint;
  ino: bigint;
  hash: ContentHash;
  hashedAtNs: bigint;
}

export type FailureClass =
  | 'api-error'
  | 'blocked-response'
  | 'truncated'
  | 'json-error'
  | 'schema-error'
  | 'missing-result'
  | 'upload-error'
  | 'input-error'
  /** The output file could not be written (its folder, a folder in its place, outside the project): not charged. */
  | 'output-error';

export interface AttemptRow {
  key: TargetKey;
  fingerprint: Fingerprint;
  count: number;
  lastClass: FailureClass | null;
  lastMessage: string | null;
  updatedAt: string;
}

export interface FailureRow {
  key: TargetKey;
  fingerprint: Fingerprint;
  class: FailureClass;
  code?: string | null;
  message: string;
  stack?: string | null;
  rawResponse?: string | null;
  extractedText?: string | null;
  engine: string;
  model?: string | null;
  promptFile?: string | null;
  promptHash?: string | null;
  generationConfig?: string | null;
  batch?: string | null;
  attempt: number;
  at: string;
}

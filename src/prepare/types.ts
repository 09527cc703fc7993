import type { Request } from '../fingerprint/snapshot.js';
import type { ContentHash } from '../types.js';
import type { PreparedFormat } from '../config/images.js';

/** The image an engine is sent for one page: what the prepare stage made of its source (DESIGN §13). */
export interface PreparedImage {
  /** Absolute path of the bytes: the source file itself when it could be sent as it is, else a cached file. */
  readonly path: string;
  /** sha256 of those bytes: the key uploads are reused by. */
  readonly hash: ContentHash;
  readonly format: PreparedFormat;
  readonly mime: string;
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
  /** Prepared size over the source page's size (1: not resized). */
  readonly scale: number;
  /** Resolution of these pixels, and where it comes from: the file's header, the PDF page size, or derived from the page size. */
  readonly dpi: number;
  readonly dpiSource: 'file' | 'pdf' | 'derived';
  /** True when the source's own bytes are sent (an accepted format that needed no change). */
  readonly passthrough: boolean;
}

/** A request with its prepared image: what engines are given (null only for an engine that reads no image). */
export interface PreparedRequest extends Request {
  readonly image: PreparedImage | null;
}

/** Why a page's image cannot be prepared: the file's fault (an input error, never retried). */
export interface PrepareProblem {
  readonly problem: string;
}

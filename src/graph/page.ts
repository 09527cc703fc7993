import type { TargetKey } from '../types.js';

/** One page of the collection: a build target with its inputs' paths (relative to the project root). */
export interface Page {
  readonly key: TargetKey;
  readonly vars: Readonly<Record<string, string>>;
  readonly pageNumber: number;
  /** The wildcard values but the order one, joined by `:` (a book). */
  readonly chainId: string;
  /** The image, or null when the allow-listed page has none (or several: see imageProblem). */
  readonly image: string | null;
  /**
   * The 1-based page inside the image file when the file is a multi-page source (a PDF or multi-page TIFF
   * named by a pattern without the order wildcard); null when the file is this page's image.
   */
  readonly sourcePage: number | null;
  readonly imageProblem: string | null;
  readonly allowListFile: string | null;
  readonly output: string;
}

/** A discovery problem that does not stop the build: a file that cannot be a page. */
export interface Diagnostic {
  readonly file: string;
  readonly message: string;
  readonly hint: string;
}

export interface Chain {
  readonly id: string;
  /** Pages in page order. */
  readonly pages: readonly Page[];
}

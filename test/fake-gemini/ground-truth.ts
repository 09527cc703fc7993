// Maps dataset page images to their ground-truth text, so the default replier can answer with the real
// words of a page: dataset/raw_image_dataset/{state}/{school}/{year}/{page}.png pairs with
// dataset/ground_truth/{state}/{school}/{year}/{page}.txt. A missing dataset gives an empty map.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { sha256Hex } from './requests.js';
import type { GroundTruth } from './replies.js';

export interface DatasetPage {
  /** Path under raw_image_dataset without the extension, with '/' separators: `{state}/{school}/{year}/{page}`. */
  readonly page: string;
  readonly imagePath: string;
  readonly sha256: string;
  /** The ground-truth text, or null when the page has no .txt. */
  readonly text: string | null;
}

export async function loadDatasetPages(datasetDir: string): Promise<DatasetPage[]> {
  const imageRoot = join(datasetDir, 'raw_image_dataset');
  const truthRoot = join(datasetDir, 'ground_truth');
  const pages: DatasetPage[] = [];
  for (const imagePath of await walk(imageRoot)) {
    if (!imagePath.toLowerCase().endsWith('.png')) continue;
    const page = relative(imageRoot, imagePath).slice(0, -'.png'.length).split(sep).join('/');
    const text = await readFile(join(truthRoot, ...page.split('/')) + '.txt', 'utf8').catch(() => null);
    pages.push({ page, imagePath, sha256: sha256Hex(await readFile(imagePath)), text });
  }
  return pages.sort((a, b) => a.page.localeCompare(b.page));
}

/** image sha256 hex → ground-truth text, for every dataset page that has both. */
export async function loadGroundTruth(datasetDir: string): Promise<GroundTruth> {
  const map = new Map<string, string>();
  for (const page of await loadDatasetPages(datasetDir)) if (page.text !== null) map.set(page.sha256, page.text);
  return map;
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

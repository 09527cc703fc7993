import fs from 'node:fs';
import path from 'node:path';
import { OCRFILE } from '../config/load.js';

/** The project root: the nearest folder at or above cwd holding an ocrfile (cwd itself when none does, so the error names it). */
export function projectRoot(cwd: string): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, OCRFILE))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(cwd);
  }
}

import fs from 'node:fs';
import path from 'node:path';
import { chosenOcrfile, OCRFILE } from '../config/load.js';

/**
 * The project root: the folder of the ocrfile chosen with --config (or OCRMAKE_CONFIG), else the nearest
 * folder at or above cwd holding an ocrfile.ts (cwd itself when none does, so the error names it).
 */
export function projectRoot(cwd: string): string {
  const chosen = chosenOcrfile();
  if (chosen) return path.dirname(chosen);
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, OCRFILE))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(cwd);
  }
}

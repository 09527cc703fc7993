// Which engine runs: `--engine`, else the ocrfile's `engine`, where `auto` means gemini-batch when a
// Gemini key is set (environment or .env) and the offline local engine otherwise.
import fs from 'node:fs';
import path from 'node:path';
import type { EngineName } from '../config/define.js';

export interface EngineChoice {
  name: EngineName;
  /** A notice to show once, when the choice is not obvious. */
  notice: string | null;
}

export function chooseEngine(configured: 'auto' | EngineName, override: 'auto' | EngineName | undefined, root: string, env: NodeJS.ProcessEnv = process.env): EngineChoice {
  const wanted = override ?? configured;
  if (wanted !== 'auto') return { name: wanted, notice: null };
  if (geminiKey(root, env)) return { name: 'gemini-batch', notice: null };
  return { name: 'local', notice: 'No GEMINI_API_KEY or GOOGLE_API_KEY is set: using the offline local engine (tesseract.js). Set a key to build with Gemini.' };
}

/** The Gemini key from the environment, then from `<root>/.env`. Never logged, never stored. */
export function geminiKey(root: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const fromEnv = env['GOOGLE_API_KEY'] || env['GEMINI_API_KEY'];
  if (fromEnv) return fromEnv;
  const dotenv = readDotenv(root);
  return dotenv['GOOGLE_API_KEY'] || dotenv['GEMINI_API_KEY'] || null;
}

export function readDotenv(root: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, '.env'), 'utf8');
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

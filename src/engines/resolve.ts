// Which engine runs: `--engine`, else the ocrfile's `engine`, where `auto` means gemini-batch when a
// Gemini key is set (environment or .env) and the offline local engine otherwise. Also where the key and
// the base URL come from: the environment first, then `<root>/.env` (read with dotenv's rules: quotes,
// inline comments, `export`, CRLF).
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'dotenv';
import type { EngineName } from '../config/define.js';
import { ExitCode, ExitSignal } from '../errors.js';
import { registerSecret } from '../util/secrets.js';

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

/**
 * The Gemini key from the environment, then from `<root>/.env`. Never logged, never stored. A value that
 * cannot be a key (a quote, a space: a line dotenv could not read as meant) is refused naming the variable
 * and where it came from, never the value.
 */
export function geminiKey(root: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const name of ['GOOGLE_API_KEY', 'GEMINI_API_KEY'] as const) {
    if (env[name]) return checked(env[name]!, name, 'the environment');
  }
  const dotenv = readDotenv(root);
  for (const name of ['GOOGLE_API_KEY', 'GEMINI_API_KEY'] as const) {
    if (dotenv[name]) return checked(dotenv[name]!, name, '.env');
  }
  return null;
}

function checked(value: string, name: string, from: string): string {
  registerSecret(value);
  if (/^[A-Za-z0-9_\-.~+/=]+$/.test(value)) return value;
  throw new ExitSignal(
    ExitCode.usage,
    `${name} in ${from} is not a well-formed key (it has a quote, a space or another character no API key has).\n` +
      `  Check its line${from === '.env' ? ' in .env: NAME=value, quotes balanced, a comment after a space and #' : ''}; the key itself is not shown.`,
  );
}

/** The API base URL: GOOGLE_GEMINI_BASE_URL (environment, then .env), else Google's. */
export function geminiBaseUrl(root: string, env: NodeJS.ProcessEnv = process.env): string {
  return (env['GOOGLE_GEMINI_BASE_URL'] || readDotenv(root)['GOOGLE_GEMINI_BASE_URL'] || 'https://generativelanguage.googleapis.com').replace(/\/+$/, '');
}

export function readDotenv(root: string): Record<string, string> {
  try {
    return parse(fs.readFileSync(path.join(root, '.env')));
  } catch {
    return {};
  }
}

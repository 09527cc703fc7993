// The @google/genai client, loaded lazily (it costs ~150 ms to import) and configured explicitly: API
// version v1beta, a timeout on every call (the SDK has none), the base URL from GOOGLE_GEMINI_BASE_URL
// (environment or .env) so any compatible endpoint, or a test server, can stand in.
import type { GoogleGenAI } from '@google/genai';
import { ExitCode, ExitSignal } from '../../errors.js';
import { geminiBaseUrl, geminiKey } from '../resolve.js';

export interface ClientOptions {
  root: string;
  engine: string;
  timeoutMs?: number;
  /** v1beta unless the rule needs v1alpha (a per-part media resolution). */
  apiVersion?: 'v1beta' | 'v1alpha';
}

export interface Client {
  ai: GoogleGenAI;
  /** For the few raw REST reads the SDK drops fields of (batch errors and stats). */
  baseUrl: string;
  /** host:port of the base URL, for messages about an endpoint that cannot be reached (never the key). */
  endpoint: string;
  /** Sends the key in a header; never returned, logged or stored. */
  rawGet(path: string): Promise<unknown>;
}

export async function createClient(o: ClientOptions): Promise<Client> {
  const key = geminiKey(o.root);
  if (!key) {
    throw new ExitSignal(ExitCode.usage, `the ${o.engine} engine needs a Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY) in the environment or in .env.\n  Or build offline with --engine local.`);
  }
  const baseUrl = geminiBaseUrl(o.root);
  const { GoogleGenAI } = await import('@google/genai');
  const apiVersion = o.apiVersion ?? 'v1beta';
  const ai = new GoogleGenAI({ apiKey: key, vertexai: false, apiVersion, httpOptions: { baseUrl, timeout: o.timeoutMs ?? 120_000 } });
  return {
    ai,
    baseUrl,
    endpoint: endpointOf(baseUrl),
    async rawGet(path: string) {
      const res = await fetch(`${baseUrl}/${apiVersion}/${path}`, { headers: { 'x-goog-api-key': key }, signal: AbortSignal.timeout(o.timeoutMs ?? 120_000) });
      // Shaped like the SDK's ApiError (status, JSON body as the message), so classify() and the retries
      // treat a raw read as they treat an SDK call.
      if (!res.ok) throw Object.assign(new Error((await res.text().catch(() => '')) || `GET ${path}: HTTP ${res.status}`), { name: 'ApiError', status: res.status });
      return res.json();
    },
  };
}

/** `https://generativelanguage.googleapis.com/` → `generativelanguage.googleapis.com:443`. */
export function endpointOf(baseUrl: string): string {
  try {
    const u = new URL(baseUrl);
    return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return baseUrl;
  }
}

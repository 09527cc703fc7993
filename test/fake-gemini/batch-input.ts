// Reads and validates a batch's input: the JSONL file named by inputConfig.fileName, or the inline
// inputConfig.requests.requests[]. A malformed input is a 400 INVALID_ARGUMENT on create, as live.
import type { FileStore } from './files.js';
import { buildRequest, type BuiltRequest } from './requests.js';
import { asObject, errorReply, field, type Reply } from './wire.js';

export interface BatchLine {
  readonly key: string | undefined;
  /** Inline requests' metadata, echoed back beside their response. */
  readonly metadata: Record<string, unknown> | undefined;
  readonly built: BuiltRequest;
}

export type BatchInput =
  | { ok: true; mode: 'file'; inputFile: string; inputConfig: Record<string, unknown>; lines: BatchLine[] }
  | { ok: true; mode: 'inline'; inputFile: undefined; inputConfig: Record<string, unknown>; lines: BatchLine[] }
  | { ok: false; reply: Reply };

export function readBatchInput(inputConfig: Record<string, unknown> | undefined, model: string, batch: string, files: FileStore): BatchInput {
  const fileName = field(inputConfig, 'fileName');
  const inline = asObject(field(inputConfig, 'requests'));
  if (typeof fileName === 'string') {
    const file = fileName.startsWith('files/') ? files.find(fileName) : undefined;
    if (!file) return invalid(`Input file ${fileName} does not exist or is not accessible.`);
    const lines: BatchLine[] = [];
    const text = file.bytes.toString('utf8').split('\n');
    for (const [index, raw] of text.entries()) {
      if (raw.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (e) {
        return invalid(`Invalid JSON on line ${index + 1} of ${fileName}: ${(e as Error).message}`);
      }
      const line = asObject(parsed);
      const key = line?.['key'];
      if (typeof key !== 'string' || key === '') return invalid(`Line ${index + 1} of ${fileName} has no "key".`);
      const request = asObject(line?.['request']);
      if (!request || !Array.isArray(field(request, 'contents'))) return invalid(`Line ${index + 1} of ${fileName} (key ${key}) has no "request.contents".`);
      lines.push({ key, metadata: undefined, built: buildRequest(request, { model, key, via: 'batch-file', batch }, files) });
    }
    if (lines.length === 0) return invalid(`Input file ${fileName} has no requests.`);
    return { ok: true, mode: 'file', inputFile: file.name, inputConfig: { fileName: file.name }, lines };
  }
  if (inline) {
    const requests = field(inline, 'requests');
    if (!Array.isArray(requests) || requests.length === 0) return invalid('inputConfig.requests.requests must be a non-empty list.');
    const lines: BatchLine[] = [];
    for (const [index, entry] of requests.entries()) {
      const request = asObject(field(asObject(entry), 'request'));
      if (!request || !Array.isArray(field(request, 'contents'))) return invalid(`Inline request ${index} has no "request.contents".`);
      const metadata = asObject(field(asObject(entry), 'metadata'));
      const key = typeof metadata?.['key'] === 'string' ? metadata['key'] : undefined;
      lines.push({ key, metadata, built: buildRequest(request, { model, key, via: 'batch-inline', batch }, files) });
    }
    return { ok: true, mode: 'inline', inputFile: undefined, inputConfig: { requests: { requests } }, lines };
  }
  return invalid('Batch needs inputConfig.fileName or inputConfig.requests.');
}

function invalid(message: string): BatchInput {
  return { ok: false, reply: errorReply(400, message) };
}

// The resumable upload protocol (§4.1, §9 routes 1–2): a start request that hands out an absolute upload
// URL, then raw-byte chunks checked against the offset, with the SDK's same-offset re-send tolerated.
import type { FileStore } from './files.js';
import { FILE_ID } from './files.js';
import { asObject, errorReply, json, randomId, type Reply } from './wire.js';

interface Session {
  readonly displayName: string | undefined;
  readonly mimeType: string;
  readonly fileId: string | undefined;
  readonly declaredSize: number | undefined;
  bytes: Buffer;
  /** Offset of the last chunk taken, so a repeat of it is recognised as a re-send. */
  lastOffset: number;
  finalized: boolean;
}

/** How a chunk reply is to be spoiled, from a scripted route fault. */
export type ChunkSpoiler = 'final-without-file' | 'no-status' | undefined;

export interface UploadEvents {
  onResend(): void;
}

export class Uploads {
  readonly #files: FileStore;
  readonly #rejectMimeTypes: ReadonlySet<string>;
  readonly #sessions = new Map<string, Session>();
  readonly #events: UploadEvents;

  constructor(files: FileStore, rejectMimeTypes: readonly string[], events: UploadEvents) {
    this.#files = files;
    this.#rejectMimeTypes = new Set(rejectMimeTypes);
    this.#events = events;
  }

  start(headers: Record<string, string>, body: unknown, selfUrl: string, apiVersion: string): Reply {
    if (!/\bstart\b/.test(headers['x-goog-upload-command'] ?? '')) {
      return errorReply(400, 'Upload start needs X-Goog-Upload-Command: start.');
    }
    const file = asObject(asObject(body)?.['file']) ?? {};
    const mimeType = String(file['mimeType'] ?? file['mime_type'] ?? headers['x-goog-upload-header-content-type'] ?? '');
    if (mimeType === '') return errorReply(400, 'Upload has no MIME type.');
    if (this.#rejectMimeTypes.has(mimeType)) return errorReply(400, `Unsupported MIME type: ${mimeType}`);
    const rawName = file['name'];
    let fileId: string | undefined;
    if (typeof rawName === 'string' && rawName !== '') {
      fileId = rawName.replace(/^files\//, '');
      if (!FILE_ID.test(fileId)) return errorReply(400, `Invalid file name: ${rawName}`);
      if (this.#files.has(fileId)) return errorReply(409, `File ${rawName} already exists.`);
    }
    const declared = headers['x-goog-upload-header-content-length'];
    const uploadId = randomId(24);
    const displayName = file['displayName'] ?? file['display_name'];
    this.#sessions.set(uploadId, {
      displayName: typeof displayName === 'string' ? displayName : undefined,
      mimeType,
      fileId,
      declaredSize: declared === undefined ? undefined : Number(declared),
      bytes: Buffer.alloc(0),
      lastOffset: -1,
      finalized: false,
    });
    // Absolute, or the SDK throws `Invalid URL` (trap §10.5); the SDK keeps only its path and query.
    const url = `${selfUrl}/upload/${apiVersion}/files?upload_id=${uploadId}&upload_protocol=resumable`;
    return json({}, { 'x-goog-upload-url': url, 'x-goog-upload-status': 'active', 'x-goog-upload-chunk-granularity': '8388608' });
  }

  chunk(uploadId: string, headers: Record<string, string>, bytes: Buffer, spoiler: ChunkSpoiler): Reply {
    const session = this.#sessions.get(uploadId);
    if (!session) return errorReply(404, `Unknown upload id ${uploadId}.`);
    if (session.finalized) return errorReply(400, 'The upload is already finalized.');
    const command = (headers['x-goog-upload-command'] ?? '').split(',').map((s) => s.trim());
    if (!command.includes('upload')) return errorReply(400, `Unsupported X-Goog-Upload-Command: ${headers['x-goog-upload-command'] ?? ''}`);
    const offset = Number(headers['x-goog-upload-offset']);
    if (!Number.isInteger(offset)) return errorReply(400, 'Missing or invalid X-Goog-Upload-Offset.');
    if (offset === session.bytes.length) {
      session.bytes = Buffer.concat([session.bytes, bytes]);
    } else if (offset === session.lastOffset) {
      // The SDK re-sends the same chunk when a reply lacked x-goog-upload-status: replace it.
      this.#events.onResend();
      session.bytes = Buffer.concat([session.bytes.subarray(0, offset), bytes]);
    } else {
      return errorReply(400, `Upload offset ${offset} does not match the ${session.bytes.length} bytes received.`);
    }
    session.lastOffset = offset;

    if (spoiler === 'no-status') return json({});
    if (!command.includes('finalize')) return json({}, { 'x-goog-upload-status': 'active' });
    if (session.declaredSize !== undefined && session.declaredSize !== session.bytes.length) {
      return errorReply(400, `Upload finalized with ${session.bytes.length} bytes, ${session.declaredSize} declared.`);
    }
    session.finalized = true;
    const file = this.#files.add({
      ...(session.fileId !== undefined ? { id: session.fileId } : {}),
      displayName: session.displayName,
      mimeType: session.mimeType,
      bytes: session.bytes,
      source: 'UPLOADED',
    });
    // The live API has been seen to answer the final chunk with `{}`; the file exists all the same.
    const body = spoiler === 'final-without-file' ? {} : { file: this.#files.toJson(file) };
    return json(body, { 'x-goog-upload-status': 'final' });
  }
}

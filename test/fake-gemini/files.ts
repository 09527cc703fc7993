// The Files API store: uploaded and generated files, their File JSON, get/list/delete/download.
// Bytes stay in memory so the replier can see the images a request refers to by fileData.
import { createHash } from 'node:crypto';
import type { LogicalClock } from './clock.js';
import { errorReply, fileDeniedReply, json, paginate, randomId, timestamp, type Reply } from './wire.js';

export type FileSource = 'UPLOADED' | 'GENERATED';

export interface StoredFile {
  readonly id: string;
  readonly name: string;
  readonly displayName: string | undefined;
  readonly mimeType: string;
  readonly bytes: Buffer;
  readonly source: FileSource;
  readonly createdAt: number;
  /** Logical time after which the file is gone; generated files never expire here. */
  readonly expiresAt: number | undefined;
  deleted: boolean;
}

/** What tests see of a file. */
export interface FileInfo {
  name: string;
  displayName: string | undefined;
  mimeType: string;
  sizeBytes: number;
  source: FileSource;
  sha256: string;
  deleted: boolean;
  expired: boolean;
}

const PUBLIC_BASE = 'https://generativelanguage.googleapis.com';

export const FILE_ID = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

export class FileStore {
  readonly #clock: LogicalClock;
  readonly #ttlMs: number;
  readonly #files = new Map<string, StoredFile>();
  readonly #allowUploadedDownload: boolean;

  constructor(clock: LogicalClock, ttlMs: number, allowUploadedDownload: boolean) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    this.#allowUploadedDownload = allowUploadedDownload;
  }

  has(id: string): boolean {
    return this.#files.has(id);
  }

  add(init: { id?: string; displayName?: string | undefined; mimeType: string; bytes: Buffer; source: FileSource }): StoredFile {
    const id = init.id ?? randomId(12);
    const now = this.#clock.now();
    const file: StoredFile = {
      id,
      name: `files/${id}`,
      displayName: init.displayName,
      mimeType: init.mimeType,
      bytes: init.bytes,
      source: init.source,
      createdAt: now,
      expiresAt: init.source === 'UPLOADED' ? now + this.#ttlMs : undefined,
      deleted: false,
    };
    this.#files.set(id, file);
    return file;
  }

  /** A live file by `files/<id>`, `<id>` or any URI ending in `files/<id>`; deleted and expired ones are gone. */
  find(ref: string): StoredFile | undefined {
    const id = fileIdOf(ref);
    const file = id === undefined ? undefined : this.#files.get(id);
    return file && this.#live(file) ? file : undefined;
  }

  /** The bytes of any file ever stored, deleted or expired included (for assertions). */
  bytesOf(ref: string): Buffer | undefined {
    const id = fileIdOf(ref);
    return id === undefined ? undefined : this.#files.get(id)?.bytes;
  }

  get(id: string): Reply {
    const file = this.find(id);
    return file ? json(this.toJson(file)) : fileDeniedReply(id);
  }

  list(query: URLSearchParams): Reply {
    const live = [...this.#files.values()].filter((f) => this.#live(f)).reverse();
    const page = paginate(live, query, 10, 100);
    if (!page.ok) return page.reply;
    const body: Record<string, unknown> = { files: page.items.map((f) => this.toJson(f)) };
    if (page.nextPageToken !== undefined) body['nextPageToken'] = page.nextPageToken;
    return json(body);
  }

  delete(id: string): Reply {
    const file = this.find(id);
    if (!file) return fileDeniedReply(id);
    file.deleted = true;
    return json({});
  }

  download(id: string): Reply {
    const file = this.find(id);
    if (!file) return fileDeniedReply(id);
    if (file.source !== 'GENERATED' && !this.#allowUploadedDownload) {
      return errorReply(400, `Only generated files can be downloaded; ${file.name} has source ${file.source}.`);
    }
    return { kind: 'raw', status: 200, contentType: file.mimeType, body: file.bytes };
  }

  toJson(file: StoredFile): Record<string, unknown> {
    const time = timestamp(file.createdAt);
    const body: Record<string, unknown> = {
      name: file.name,
      ...(file.displayName !== undefined ? { displayName: file.displayName } : {}),
      mimeType: file.mimeType,
      sizeBytes: String(file.bytes.length),
      createTime: time,
      updateTime: time,
      ...(file.expiresAt !== undefined ? { expirationTime: timestamp(file.expiresAt) } : {}),
      sha256Hash: createHash('sha256').update(file.bytes).digest('base64'),
      uri: `${PUBLIC_BASE}/v1beta/${file.name}`,
      state: 'ACTIVE',
      source: file.source,
    };
    if (file.source === 'GENERATED') body['downloadUri'] = `${PUBLIC_BASE}/download/v1beta/${file.name}:download?alt=media`;
    return body;
  }

  infos(): FileInfo[] {
    return [...this.#files.values()].map((f) => ({
      name: f.name,
      displayName: f.displayName,
      mimeType: f.mimeType,
      sizeBytes: f.bytes.length,
      source: f.source,
      sha256: createHash('sha256').update(f.bytes).digest('hex'),
      deleted: f.deleted,
      expired: f.expiresAt !== undefined && this.#clock.now() >= f.expiresAt,
    }));
  }

  #live(file: StoredFile): boolean {
    return !file.deleted && (file.expiresAt === undefined || this.#clock.now() < file.expiresAt);
  }
}

/** The id in `files/<id>`, `<id>`, or a URI ending in `files/<id>` (any host, any API version). */
export function fileIdOf(ref: string): string | undefined {
  const m = /(?:^|\/)files\/([a-z0-9-]+)(?::download)?(?:[?#].*)?$/.exec(ref);
  if (m?.[1]) return m[1];
  return /^[a-z0-9-]+$/.test(ref) ? ref : undefined;
}

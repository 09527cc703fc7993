// What the batch engine must persist to be crash-safe (DESIGN §6): a submission intent before anything is
// sent, the job name as soon as it exists, uploads by image hash. The executor implements it over the
// cache; every method that says so saves the cache before returning.
import type { Fingerprint, TargetKey } from '../types.js';

export interface JournalRecord {
  key: TargetKey;
  fingerprint: Fingerprint;
}

export interface OpenBatch {
  displayName: string;
  /** The job name (`batches/…`), null while only the intent exists. */
  name: string | null;
  state: string;
  records: JournalRecord[];
  inputFile: string | null;
  /** When the state last changed (ISO). */
  updatedAt: string;
}

export interface UploadRow {
  fileName: string;
  uri: string;
  mime: string;
  expiresAt: string;
}

export interface BatchJournal {
  /** Records the intent (display name, keys and fingerprints) and saves. */
  intend(displayName: string, model: string, records: readonly JournalRecord[]): void;
  /** Records the created job and saves. */
  created(displayName: string, name: string, inputFile: string): void;
  setState(displayName: string, state: string): void;
  /** The batch is over (ingested, failed or dropped): it is not re-attached after a crash. */
  finished(displayName: string, state: string): void;
  /** Batches that were being submitted or running when the last process ended. */
  open(): OpenBatch[];
  upload(imageHash: string): UploadRow | null;
  recordUpload(imageHash: string, row: UploadRow): void;
  save(): void;
}

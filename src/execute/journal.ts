// The batch journal over the cache database (tables batches, batch_records, uploads).
import type { StateStore } from '../cache/state.js';
import type { BatchJournal, JournalRecord, OpenBatch, UploadRow } from '../engines/journal.js';
import { asFingerprint, asKey } from '../types.js';

export function cacheJournal(store: StateStore, engine: string): BatchJournal {
  const now = () => new Date().toISOString();
  return {
    intend(displayName, model, records: readonly JournalRecord[]) {
      store.run('INSERT INTO batches (display_name, name, engine, model, state, records, created_at, updated_at) VALUES (?, NULL, ?, ?, ?, ?, ?, ?)', [
        displayName, engine, model, 'submitting', records.length, now(), now(),
      ]);
      for (const r of records) store.run('INSERT OR REPLACE INTO batch_records (display_name, key, fingerprint) VALUES (?, ?, ?)', [displayName, r.key, r.fingerprint]);
      store.save();
    },
    created(displayName, name, inputFile) {
      store.run("UPDATE batches SET name = ?, input_file = ?, state = 'active', updated_at = ? WHERE display_name = ?", [name, inputFile, now(), displayName]);
      store.save();
    },
    setState(displayName, state) {
      store.run('UPDATE batches SET state = ?, updated_at = ? WHERE display_name = ?', [state, now(), displayName]);
    },
    finished(displayName, state) {
      store.run('UPDATE batches SET state = ?, updated_at = ? WHERE display_name = ?', [`done:${state}`, now(), displayName]);
    },
    open(): OpenBatch[] {
      const rows = store.query("SELECT display_name, name, state, input_file, updated_at FROM batches WHERE state IN ('submitting', 'creating', 'active') ORDER BY created_at");
      return rows.map((r) => ({
        displayName: String(r['display_name']),
        name: (r['name'] as string | null) ?? null,
        state: String(r['state']),
        inputFile: (r['input_file'] as string | null) ?? null,
        updatedAt: String(r['updated_at']),
        records: store
          .query('SELECT key, fingerprint FROM batch_records WHERE display_name = ?', [String(r['display_name'])])
          .map((x) => ({ key: asKey(String(x['key'])), fingerprint: asFingerprint(String(x['fingerprint'])) })),
      }));
    },
    upload(imageHash): UploadRow | null {
      const r = store.query('SELECT file_name, uri, mime, expires_at FROM uploads WHERE image_hash = ?', [imageHash])[0];
      return r ? { fileName: String(r['file_name']), uri: String(r['uri']), mime: String(r['mime']), expiresAt: String(r['expires_at']) } : null;
    },
    recordUpload(imageHash, row) {
      store.run('INSERT OR REPLACE INTO uploads (image_hash, file_name, uri, mime, expires_at) VALUES (?, ?, ?, ?, ?)', [imageHash, row.fileName, row.uri, row.mime, row.expiresAt]);
    },
    save() {
      store.save();
    },
  };
}

// tesseract.js reads every language of a worker from one folder, all compressed or all not. The models
// come from different places (npm packages ship .gz, Debian plain files), so the local engine assembles one
// folder per set of models under .ocrcache/tessdata/<hash of their identities>/: plain files, gunzipped
// once. It is made in a temporary folder and renamed into place, so a crash leaves no half-made folder.
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { LocalOcrSetup } from '../fingerprint/local-ocr.js';
import { canonicalJson, sha256 } from '../util/hash.js';

export function tessdataFolder(ocr: LocalOcrSetup, cacheDir: string): string {
  const id = sha256(canonicalJson(ocr.languages.map((l) => ({ code: l.code, identity: l.identity })))).slice(0, 16);
  const dir = path.join(cacheDir, 'tessdata', id);
  if (fs.existsSync(dir)) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    for (const l of ocr.languages) {
      const target = path.join(tmp, `${l.code}.traineddata`);
      if (l.gzip) fs.writeFileSync(target, gunzipSync(fs.readFileSync(l.file)));
      else fs.copyFileSync(l.file, target);
    }
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // Another process made it first: theirs is as good as ours.
    if (!fs.existsSync(dir)) throw err;
  }
  return dir;
}

// The ninja side of the bench: the same collection as a ninja build, one edge per page whose inputs are the
// page's image, its allow-list entry, the prompt template and the previous page's output, as ocrmake's
// target is. A no-op `ninja` over it (a stat per file, its log and deps loaded) is the floor a build tool
// of this shape can reach; the bench prints ocrmake's no-op next to it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The ninja program, or null when it is not installed (the bench then prints ocrmake's figures alone). */
export function findNinja(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v ninja'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export interface Book {
  /** `{state}/{school}/{year}` */
  path: string;
  pages: number;
}

// ninja's escapes for paths in build lines: `$ ` for a space, `$:` for a colon, `$$` for a dollar.
const esc = (p: string) => p.replace(/\$/g, '$$$$').replace(/ /g, '$ ').replace(/:/g, '$:');

/** Writes `build.ninja` for the collection in `dir` (outputs under `ninja-out/`, whose folders it creates). */
export function writeNinja(dir: string, books: readonly Book[]): void {
  const prompt = fs.readdirSync(path.join(dir, 'prompts/page_ocr')).map((f) => `prompts/page_ocr/${f}`).sort()[0]!;
  const lines = ['rule page', '  command = touch $out', ''];
  for (const b of books) {
    fs.mkdirSync(path.join(dir, 'ninja-out', b.path), { recursive: true });
    for (let p = 1; p <= b.pages; p++) {
      const prev = p > 1 ? ` ${esc(`ninja-out/${b.path}/${p - 1}.json`)}` : '';
      lines.push(`build ${esc(`ninja-out/${b.path}/${p}.json`)}: page ${esc(`dataset/raw_image_dataset/${b.path}/${p}.png`)} | ${esc(`dataset/label_to_curricular/${b.path}/${p}.json`)} ${esc(prompt)}${prev}`);
    }
  }
  fs.writeFileSync(path.join(dir, 'build.ninja'), `${lines.join('\n')}\n`);
}

// Keys are the wildcard values joined by `:` (`Alabama:Howard College:1849:14`). A value may contain `:`
// itself (a folder "A:B"), so values are escaped (`\` → `\\`, `:` → `\:`) before joining: two pages
// always have two keys, and a key splits back into exactly its values.

export function joinKey(values: readonly string[]): string {
  return values.map(keyPart).join(':');
}

/** One value as joinKey writes it (escaped). */
export function keyPart(v: string): string {
  return v.includes(':') || v.includes('\\') ? v.replace(/\\/g, '\\\\').replace(/:/g, '\\:') : v;
}

export function splitKey(key: string): string[] {
  const out: string[] = [];
  let part = '';
  for (let i = 0; i < key.length; i++) {
    const ch = key[i]!;
    if (ch === '\\' && i + 1 < key.length) part += key[++i];
    else if (ch === ':') {
      out.push(part);
      part = '';
    } else part += ch;
  }
  out.push(part);
  return out;
}

/** Why a wildcard value cannot be part of a key and a path (`.`, `..`, empty), or null. */
export function badValue(value: string): string | null {
  if (value === '') return 'is empty';
  if (value === '.' || value === '..') return `is "${value}", which would point ${value === '..' ? 'outside its folder' : 'at its own folder'} in an output path`;
  return null;
}

// strace's argument syntax, as a small tree: byte strings ("\x02\x00", octal and C escapes,
// `"..."...` when -s cut them), structs `{index=0, num=256}`, arrays `[0x300000000]`, strace's
// `{in} => {out}` for arguments the kernel wrote back, and atoms (numbers, flag expressions,
// `_IOC(...)`, `3</dev/vhost-vsock>` with -y). Comments `/* 2 entries */` are skipped.

export type SVal =
  | { t: 'str'; bytes: Uint8Array; truncated: boolean }
  | { t: 'struct'; fields: SField[]; more: boolean }
  | { t: 'arr'; items: SVal[] }
  | { t: 'atom'; text: string }
  | { t: 'change'; before: SVal; after: SVal };

export interface SField {
  name: string | null;
  value: SVal;
}

const ESC: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, '\\': 92, '"': 34 };

class Reader {
  i = 0;
  constructor(readonly s: string) {}
  peek(): string {
    return this.s[this.i] ?? '';
  }
  skipSpace(): void {
    for (;;) {
      while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++;
      if (this.s.startsWith('/*', this.i)) {
        const end = this.s.indexOf('*/', this.i + 2);
        this.i = end < 0 ? this.s.length : end + 2;
      } else return;
    }
  }
}

function readString(r: Reader): SVal {
  r.i++; // opening quote
  const out: number[] = [];
  const s = r.s;
  while (r.i < s.length && s[r.i] !== '"') {
    const c = s[r.i]!;
    if (c !== '\\') {
      for (const b of Buffer.from(c, 'utf8')) out.push(b);
      r.i++;
      continue;
    }
    const n = s[r.i + 1] ?? '';
    if (n === 'x') {
      out.push(Number.parseInt(s.slice(r.i + 2, r.i + 4), 16) || 0);
      r.i += 4;
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(s.slice(r.i + 1))![0];
      out.push(Number.parseInt(m, 8) & 0xff);
      r.i += 1 + m.length;
    } else {
      out.push(ESC[n] ?? n.charCodeAt(0));
      r.i += 2;
    }
  }
  r.i++; // closing quote
  const truncated = s.startsWith('...', r.i);
  if (truncated) r.i += 3;
  return { t: 'str', bytes: Uint8Array.from(out), truncated };
}

/** An atom runs to the next , ) ] } or => at its own nesting level; parentheses nest (_IOC(...)). */
function readAtom(r: Reader): SVal {
  const start = r.i;
  let depth = 0;
  const s = r.s;
  while (r.i < s.length) {
    const c = s[r.i]!;
    if (c === '(' || c === '<') depth++;
    else if ((c === ')' || c === '>') && depth > 0) depth--;
    else if (depth === 0 && (c === ',' || c === ')' || c === ']' || c === '}')) break;
    else if (depth === 0 && c === ' ' && s.startsWith(' => ', r.i)) break;
    r.i++;
  }
  return { t: 'atom', text: s.slice(start, r.i).trim() };
}

function readList(r: Reader, close: string): { items: SField[]; more: boolean } {
  r.i++; // opening bracket
  const items: SField[] = [];
  let more = false;
  for (;;) {
    r.skipSpace();
    if (r.peek() === close || r.peek() === '') {
      r.i++;
      return { items, more };
    }
    if (r.s.startsWith('...', r.i)) {
      more = true;
      r.i += 3;
    } else {
      const m = /^([A-Za-z_][A-Za-z0-9_.]*)=/.exec(r.s.slice(r.i));
      if (m) r.i += m[0].length;
      items.push({ name: m ? m[1]! : null, value: readValue(r) });
    }
    r.skipSpace();
    if (r.peek() === ',') r.i++;
    else if (r.peek() !== close && r.peek() !== '') r.i++; // a stray character: skip it, never loop
  }
}

function readValue(r: Reader): SVal {
  r.skipSpace();
  let v: SVal;
  const c = r.peek();
  if (c === '"') v = readString(r);
  else if (c === '{') {
    const l = readList(r, '}');
    v = { t: 'struct', fields: l.items, more: l.more };
  } else if (c === '[') v = { t: 'arr', items: readList(r, ']').items.map((f) => f.value) };
  else v = readAtom(r);
  r.skipSpace();
  if (r.s.startsWith('=> ', r.i)) {
    r.i += 3;
    return { t: 'change', before: v, after: readValue(r) };
  }
  return v;
}

/** Splits a call's argument text (between its parentheses) into values. */
export function parseArgs(text: string): SVal[] {
  const r = new Reader(text);
  const out: SVal[] = [];
  r.skipSpace();
  while (r.i < text.length) {
    out.push(readValue(r));
    r.skipSpace();
    if (r.peek() === ',') r.i++;
    else if (r.i < text.length) r.i++; // a stray closer: skip it rather than loop
    r.skipSpace();
  }
  return out;
}

/** The number an atom stands for: decimal, hex, negative, `3</dev/x>` (-y), NULL; else undefined. */
export function atomNumber(v: SVal | undefined): bigint | undefined {
  if (v?.t !== 'atom') return undefined;
  const t = v.text.replace(/<[^>]*>$/, '');
  if (t === 'NULL') return 0n;
  if (/^-?(0x[0-9a-f]+|\d+)$/i.test(t)) return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
  return undefined;
}

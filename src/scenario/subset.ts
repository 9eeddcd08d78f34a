// The loader's quick path for machine-written scenarios: a reader of one small, strict YAML subset,
// the shape generators and `import-strace` write (block maps and block sequences of `key: value`
// lines, one-line flow collections, plain and simple quoted scalars, comments, `---` between
// documents). It gives the values js-yaml would give and nothing else: it never reports an error.
// Anything outside the subset, and anything the scenario language refuses (a duplicate key, a key
// that is not a string, `<<`, an anchor, alias or tag, a tab, a block scalar, a multi-line scalar),
// makes it give up, and the full path (js-yaml and the Tracker) reads the text again from scratch
// and decides, with its own messages and positions. Positions are never taken from here either:
// a document asked for one reads the whole text on the full path once (load.ts).
//
// Why: on a 100 000-step file js-yaml with the Tracker is half of a run (issue 9); this reader does
// the same work several times faster, since it knows the few shapes it accepts.
import { BigIntCache, NOT_RESOLVED, resolvePlain } from './core-scalar.js';

const LF = 0x0a;
const SPACE = 0x20;
const HASH = 0x23;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const COMMA = 0x2c;
const DASH = 0x2d;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const BACKSLASH = 0x5c;

/** Thrown inside the reader: the text is outside the subset (never seen by a caller). */
class Outside {}
const OUTSIDE = new Outside();

/** Characters no plain scalar of the subset starts with (YAML's indicators, and '-' '?' ':' + space). */
function badPlainStart(c: number, next: number): boolean {
  switch (c) {
    case 0x21: // !
    case 0x25: // %
    case 0x26: // &
    case 0x2a: // *
    case 0x3e: // >
    case 0x40: // @
    case 0x60: // `
    case 0x7c: // |
    case HASH:
    case COMMA:
    case LBRACKET:
    case RBRACKET:
    case LBRACE:
    case RBRACE:
    case DQUOTE:
    case SQUOTE:
      return true;
    case DASH:
    case 0x3f: // ?
    case COLON:
      return next === SPACE || next === LF || Number.isNaN(next);
    default:
      return false;
  }
}

class Reader {
  pos = 0;
  readonly ints = new BigIntCache();
  constructor(
    readonly text: string,
    readonly maxDepth: number,
  ) {}

  // ---- lines ----

  /** the indentation of the line starting at `at` (spaces), or -1 for a blank or comment-only line */
  indentAt(at: number): number {
    const t = this.text;
    let i = at;
    while (t.charCodeAt(i) === SPACE) i++;
    const c = t.charCodeAt(i);
    if (c === LF || Number.isNaN(c) || c === HASH) return -1;
    return i - at;
  }

  /** moves pos past blank and comment-only lines to the start of the next content line */
  skipBlankLines(): void {
    const t = this.text;
    while (this.pos < t.length && this.indentAt(this.pos) < 0) {
      const nl = t.indexOf('\n', this.pos);
      this.pos = nl < 0 ? t.length : nl + 1;
    }
  }

  /** at a document marker line ("---" alone, or with a comment) */
  atDocMarker(): boolean {
    const t = this.text;
    const p = this.pos;
    if (t.charCodeAt(p) !== DASH || !t.startsWith('---', p)) return false;
    const c = t.charCodeAt(p + 3);
    if (c === LF || Number.isNaN(c)) return true;
    if (c !== SPACE) return false;
    this.pos = p + 3;
    this.endOfLine();
    this.pos = p;
    return true;
  }

  /** after a value on a line: only spaces and a comment may follow; moves to the next line */
  endOfLine(): void {
    const t = this.text;
    let i = this.pos;
    while (t.charCodeAt(i) === SPACE) i++;
    const c = t.charCodeAt(i);
    if (c === HASH) {
      if (i === this.pos) throw OUTSIDE; // a '#' glued to the value is part of it in YAML
      const nl = t.indexOf('\n', i);
      this.pos = nl < 0 ? t.length : nl + 1;
      return;
    }
    if (c === LF) this.pos = i + 1;
    else if (Number.isNaN(c)) this.pos = i;
    else throw OUTSIDE;
  }

  // ---- block nodes ----

  /** a block map whose keys sit at column `indent`; pos at the first key */
  blockMap(indent: number, depth: number): Record<string, unknown> {
    if (depth > this.maxDepth) throw OUTSIDE;
    const map: Record<string, unknown> = {}; // made null-prototype when complete (see nullProto)
    const t = this.text;
    for (;;) {
      const key = this.key(this.pos + indent);
      // the full path words the duplicate; __proto__ is left to js-yaml's own handling
      if (Object.hasOwn(map, key) || key === '__proto__') throw OUTSIDE;
      // after "key:" — a value on the line, or the node on the following lines
      let i = this.pos;
      while (t.charCodeAt(i) === SPACE) i++;
      const c = t.charCodeAt(i);
      if (c === LF || Number.isNaN(c) || (c === HASH && i > this.pos)) {
        this.endOfLine();
        map[key] = this.nested(indent, depth);
      } else {
        if (i === this.pos) throw OUTSIDE; // "key:value" is a plain scalar in YAML, not a pair
        this.pos = i;
        map[key] = this.value(depth, false);
        this.endOfLine();
      }
      if (!this.sameIndentNext(indent)) return nullProto(map);
      if (t.charCodeAt(this.pos + indent) === DASH && t.charCodeAt(this.pos + indent + 1) === SPACE)
        throw OUTSIDE;
    }
  }

  /**
   * After a line that ends a node at `indent`: skips blank lines, then true if the next content line
   * is at exactly `indent` (a sibling), false if it is shallower or the document ends; deeper is
   * outside the subset (a continuation line).
   */
  sameIndentNext(indent: number): boolean {
    this.skipBlankLines();
    if (this.pos >= this.text.length || this.atDocMarker()) return false;
    const n = this.indentAt(this.pos);
    if (n > indent) throw OUTSIDE;
    return n === indent;
  }

  /** the value of "key:" with nothing after it: a deeper block map or sequence, or null */
  nested(indent: number, depth: number): unknown {
    this.skipBlankLines();
    if (this.pos >= this.text.length || this.atDocMarker()) return null;
    const n = this.indentAt(this.pos);
    if (n < indent) return null;
    const t = this.text;
    const at = this.pos + n;
    const isSeq =
      t.charCodeAt(at) === DASH && (t.charCodeAt(at + 1) === SPACE || t.charCodeAt(at + 1) === LF);
    if (n === indent) {
      if (isSeq) throw OUTSIDE; // a sequence at the key's own column: valid YAML, not in the subset
      return null;
    }
    return isSeq ? this.blockSeq(n, depth + 1) : this.blockMap(n, depth + 1);
  }

  /** a block sequence whose '-' sit at column `indent`; pos at the first item's line */
  blockSeq(indent: number, depth: number): unknown[] {
    if (depth > this.maxDepth) throw OUTSIDE;
    const out: unknown[] = [];
    const t = this.text;
    for (;;) {
      const dash = this.pos + indent;
      if (t.charCodeAt(dash) !== DASH || t.charCodeAt(dash + 1) !== SPACE) throw OUTSIDE;
      let i = dash + 1;
      while (t.charCodeAt(i) === SPACE) i++;
      const c = t.charCodeAt(i);
      if (c === LF || Number.isNaN(c) || c === HASH || c === DASH) throw OUTSIDE; // empty or nested items
      if (this.startsPair(i)) {
        // "- key: value": a block map at the key's column
        const col = i - this.pos; // pos stays at the line start: the map's first key is on this line
        out.push(this.blockMap(col, depth + 1));
        if (this.pos >= t.length || this.atDocMarker()) return out;
        const n = this.indentAt(this.pos);
        if (n > indent) throw OUTSIDE;
        if (n < indent) return out;
      } else {
        this.pos = i;
        out.push(this.value(depth, false));
        this.endOfLine();
        if (!this.sameIndentNext(indent)) return out;
      }
    }
  }

  /** whether a "key:" pair starts at i (a plain or quoted key, then ':' and a space or the line end) */
  startsPair(i: number): boolean {
    const t = this.text;
    const c = t.charCodeAt(i);
    if (c === DQUOTE || c === SQUOTE) {
      const end = quotedEnd(t, i);
      return end > 0 && t.charCodeAt(end) === COLON && isSepOrEnd(t.charCodeAt(end + 1));
    }
    if (c === LBRACKET || c === LBRACE) return false;
    for (let j = i; j < t.length; j++) {
      const x = t.charCodeAt(j);
      if (x === LF) return false;
      if (x === COLON && isSepOrEnd(t.charCodeAt(j + 1))) return true;
      if (x === HASH && t.charCodeAt(j - 1) === SPACE) return false;
    }
    return false;
  }

  /** a map key at `at` (a line's content start), up to and past its ':'; it must be a string */
  key(at: number): string {
    const t = this.text;
    this.pos = at;
    const c = t.charCodeAt(at);
    let k: string;
    if (c === DQUOTE || c === SQUOTE) {
      k = this.quoted();
    } else {
      if (badPlainStart(c, t.charCodeAt(at + 1))) throw OUTSIDE;
      let j = at;
      for (; j < t.length; j++) {
        const x = t.charCodeAt(j);
        if (x === LF) throw OUTSIDE;
        if (x === COLON && isSepOrEnd(t.charCodeAt(j + 1))) break;
        if (x === HASH && t.charCodeAt(j - 1) === SPACE) throw OUTSIDE;
      }
      k = trimSpaces(t.slice(at, j));
      // a key that resolves to an integer, boolean or null is refused by the full path
      if (k.length === 0 || k === '<<' || resolvePlain(k, this.ints) !== NOT_RESOLVED) throw OUTSIDE;
      this.pos = j;
    }
    if (t.charCodeAt(this.pos) !== COLON) throw OUTSIDE;
    this.pos++;
    return k;
  }

  /**
   * A value that fits on the rest of the line: a flow collection, a quoted or a plain scalar. A plain
   * scalar ends at the line end or a comment in block context, at ',' ']' '}' in a flow collection. A ':' that would start a pair, a '#', a bracket or a line end inside a
   * flow scalar, or "a: b: c" in a block, is outside the subset.
   */
  value(depth: number, inFlow: boolean): unknown {
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    if (c === LBRACE || c === LBRACKET) return this.flow(depth + 1);
    if (c === DQUOTE || c === SQUOTE) return this.quoted();
    if (badPlainStart(c, t.charCodeAt(this.pos + 1))) throw OUTSIDE;
    const start = this.pos;
    let j = start;
    for (; j < t.length; j++) {
      const x = t.charCodeAt(j);
      if (inFlow) {
        if (x === COMMA || x === RBRACE || x === RBRACKET) break;
        if (x === COLON || x === HASH || x === LF || x === LBRACE || x === LBRACKET) throw OUTSIDE;
      } else {
        if (x === LF || (x === HASH && t.charCodeAt(j - 1) === SPACE)) break;
        if (x === COLON && isSepOrEnd(t.charCodeAt(j + 1))) throw OUTSIDE;
      }
    }
    const s = trimSpaces(t.slice(start, j));
    if (s.length === 0) throw OUTSIDE;
    this.pos = start + s.length;
    return this.plain(s);
  }

  plain(s: string): unknown {
    const v = resolvePlain(s, this.ints);
    return v === NOT_RESOLVED ? s : v;
  }

  /** a one-line quoted scalar without escapes; pos after its closing quote */
  quoted(): string {
    const t = this.text;
    const q = t.charCodeAt(this.pos);
    const end = quotedEnd(t, this.pos);
    if (end < 0) throw OUTSIDE;
    let s = t.slice(this.pos + 1, end - 1);
    if (q === SQUOTE) s = s.replaceAll("''", "'");
    this.pos = end;
    return s;
  }

  // ---- flow nodes (one line) ----

  flow(depth: number): unknown {
    if (depth > this.maxDepth) throw OUTSIDE;
    const t = this.text;
    const open = t.charCodeAt(this.pos);
    const close = open === LBRACE ? RBRACE : RBRACKET;
    this.pos++;
    const map: Record<string, unknown> | undefined = open === LBRACE ? {} : undefined;
    const list: unknown[] = [];
    this.flowSpaces();
    if (t.charCodeAt(this.pos) === close) {
      this.pos++;
      return map ? nullProto(map) : list;
    }
    for (;;) {
      if (map) {
        const k = this.flowKey();
        if (Object.hasOwn(map, k) || k === '__proto__') throw OUTSIDE;
        this.flowSpaces();
        map[k] = this.value(depth, true);
      } else {
        list.push(this.value(depth, true));
      }
      this.flowSpaces();
      const c = t.charCodeAt(this.pos);
      this.pos++;
      if (c === close) return map ? nullProto(map) : list;
      if (c !== COMMA) throw OUTSIDE;
      this.flowSpaces();
      if (t.charCodeAt(this.pos) === close) throw OUTSIDE; // a trailing comma
    }
  }

  flowSpaces(): void {
    while (this.text.charCodeAt(this.pos) === SPACE) this.pos++;
  }

  flowKey(): string {
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    let k: string;
    if (c === DQUOTE || c === SQUOTE) k = this.quoted();
    else {
      const start = this.pos;
      if (badPlainStart(c, t.charCodeAt(start + 1))) throw OUTSIDE;
      let j = start;
      for (; j < t.length; j++) {
        const x = t.charCodeAt(j);
        if (x === COLON) break;
        if (
          x === LF ||
          x === COMMA ||
          x === HASH ||
          x === LBRACE ||
          x === RBRACE ||
          x === LBRACKET ||
          x === RBRACKET
        )
          throw OUTSIDE; // a key without a value, or worse
      }
      k = trimSpaces(t.slice(start, j));
      if (k.length === 0 || k === '<<' || resolvePlain(k, this.ints) !== NOT_RESOLVED) throw OUTSIDE;
      this.pos = j;
    }
    if (t.charCodeAt(this.pos) !== COLON || t.charCodeAt(this.pos + 1) !== SPACE) throw OUTSIDE;
    this.pos += 2;
    return k;
  }
}

/** s without its trailing spaces (YAML trims spaces, not every Unicode white space as trimEnd does) */
function trimSpaces(s: string): string {
  let e = s.length;
  while (e > 0 && s.charCodeAt(e - 1) === SPACE) e--;
  return e === s.length ? s : s.slice(0, e);
}

/**
 * Maps are null-prototype, as on the other paths, but made so once their keys are in: an object born
 * of Object.create(null) is a hash table in V8, and every later property read of the compiler and the
 * runner pays for it (twice the time of both on a large file). '__proto__' never gets here.
 */
function nullProto(m: Record<string, unknown>): Record<string, unknown> {
  return Object.setPrototypeOf(m, null) as Record<string, unknown>;
}

function isSepOrEnd(c: number): boolean {
  return c === SPACE || c === LF || Number.isNaN(c);
}

/** the offset after the closing quote of a one-line quoted scalar at i without escapes, or -1 */
function quotedEnd(t: string, i: number): number {
  const q = t.charCodeAt(i);
  for (let j = i + 1; j < t.length; j++) {
    const x = t.charCodeAt(j);
    if (x === LF) return -1;
    if (q === DQUOTE && x === BACKSLASH) return -1;
    if (x === q) {
      if (q === SQUOTE && t.charCodeAt(j + 1) === SQUOTE) {
        j++;
        continue;
      }
      return j + 1;
    }
  }
  return -1;
}

/**
 * The values of every document of `text`, each a block map, or undefined when the text is outside
 * the subset (the caller then reads it on the full path). `text` has passed checkText.
 */
export function readSubset(text: string, maxDepth: number): unknown[] | undefined {
  // tabs, carriage returns and non-ASCII line breaks have rules of their own: the full path
  if (/[\t\r\u0085\u2028\u2029]/.test(text)) return undefined;
  const r = new Reader(text, maxDepth);
  const docs: unknown[] = [];
  try {
    r.skipBlankLines();
    if (r.atDocMarker()) {
      r.endOfLine();
      r.skipBlankLines();
    }
    for (;;) {
      if (r.pos >= text.length) break;
      if (r.indentAt(r.pos) !== 0) return undefined;
      const c = text.charCodeAt(r.pos);
      if (c === 0x25 /* % */ || text.startsWith('...', r.pos)) return undefined;
      docs.push(r.blockMap(0, 1));
      r.skipBlankLines();
      if (r.pos >= text.length) break;
      if (!r.atDocMarker()) return undefined;
      r.endOfLine();
      r.skipBlankLines();
      if (r.pos >= text.length) return undefined; // a trailing "---": an empty document, full path
    }
  } catch (e) {
    if (e === OUTSIDE) return undefined;
    throw e;
  }
  return docs.length > 0 ? docs : undefined;
}

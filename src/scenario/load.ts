// Loads a scenario file (a YAML stream) into plain values that remember where they came from.
//
// Two paths give one result:
// - the `yaml` path (eemeli/yaml, mandated) composes a Document per scenario and takes positions from
//   node ranges. It is exact, but costs ~1.4 µs and ~100 bytes per input byte (guide/yaml-loader.md:
//   13 s and 1 GB for a 100 000-step file), so it only serves small files;
// - the fast path runs js-yaml's `loadAll` with our own YAML 1.2 core schema and a listener (the
//   Tracker below) that follows js-yaml's node events with O(depth) memory. It enforces the same
//   rules as the yaml path while parsing, and finds positions later, only when `locate` asks, by
//   re-running js-yaml over that one document.
// When the fast path refuses an input that is small enough (FALLBACK_MAX), the yaml path re-reads
// it, so messages and positions are exactly the yaml path's (js-yaml words syntax errors its own
// way, and the two parsers disagree on a few corner cases of the grammar). Above that size the
// yaml path is not affordable: the fast path's own error stands (identical for the rules below;
// for YAML syntax errors it is js-yaml's wording at js-yaml's position).
//
// Rules (both paths): YAML 1.2 core schema (integers are bigint, `yes` is a string, `6.10` is the
// float 6.1); no tags, no merge keys; string keys only, each once per map; aliases must refer to an
// earlier, finished anchor and may materialise at most MAX_ALIAS_NODES values per document; at
// most MAX_DEPTH nested maps and lists; text only; at most MAX_TEXT characters.
import { type LoadOptions as JsLoadOptions, loadAll, type Mark, Schema, Type, YAMLException } from 'js-yaml';
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Lexer,
  parseAllDocuments,
  type Node as YamlNode,
} from 'yaml';
import { BigIntCache, NOT_RESOLVED, resolvePlain } from './core-scalar.js';
import { InputError } from './input-error.js';
import { readSubset } from './subset.js';

export type YamlPath = readonly (string | number)[];
export interface SourcePos {
  line: number;
  column: number;
} // 1-based

export interface LoadedDocument {
  index: number; // 0-based document index in the stream
  value: unknown; // plain JS: null-prototype maps, arrays, bigint, number, string, boolean, null
  /** position of the node at path (part 'key' = the map key's own position, for "unknown key" errors). Falls back to the nearest existing ancestor. */
  locate(path: YamlPath, part?: 'key' | 'value'): SourcePos;
  /** For scalar string nodes: the column where the string's characters start (after an opening quote) when the scalar is on one line and has no escapes, so an error at character k inside it can be reported at column+k; else undefined. */
  scalarStart(path: YamlPath): SourcePos | undefined;
}

export interface LoadOptions {
  /** auto: the subset reader, then js-yaml, then yaml for refusals; fast: js-yaml (then yaml); yaml */
  path?: 'auto' | 'yaml' | 'fast';
}

/** Bounds time and memory: js-yaml needs ~12 bytes of heap per input byte on the fast path. */
const MAX_TEXT = 64 * 1024 * 1024;
/** Deeper than any scenario needs, far below the stack limit of either parser or of our walks. */
const MAX_DEPTH = 64;
/**
 * Alias expansion bound, per document: the values that aliases materialise when the document is
 * walked as a tree (each map, list and scalar an alias stands for counts once, recursively; keys
 * do not count). Shared references keep memory small, but every consumer walks the tree, so a
 * "billion laughs" document is refused here. 10 000 allows any sane reuse of machine fragments.
 */
const MAX_ALIAS_NODES = 10_000;
/**
 * Above this many characters `auto` takes the fast path. 0: with the startup snapshot both paths
 * start warm and the fast path is ~5 ms quicker on a 10-step file; refused inputs up to
 * FALLBACK_MAX are re-read by the yaml path, so the message is the same either way.
 */
const FAST_PATH_MIN = 0;
/** Up to this size a refused input is re-read by the yaml path (at most ~2 s and ~300 MB). */
const FALLBACK_MAX = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Messages: one lowercase line each, saying what was expected. Both paths use these.

const msg = {
  tooLarge: () => `file too large: expected at most ${MAX_TEXT / 1024 / 1024} MiB of YAML text`,
  notText: () => 'not a text file: expected UTF-8 text without NUL bytes',
  control: (c: number) =>
    `unexpected control character U+${c.toString(16).toUpperCase().padStart(4, '0')}: expected printable text`,
  loneCr: () => 'unexpected carriage return without a line feed: expected LF or CRLF line endings',
  syntax: (m: string) => `yaml syntax error: ${lcfirst(m)}`,
  tag: (t: string) => `tag ${quote(t)} is not allowed: expected a plain value without a tag`,
  merge: () => "merge key '<<' is not supported (YAML 1.2 has none): expected the keys written out",
  key: (v: unknown) => `expected a string key, found ${describe(v)}: quote the key`,
  duplicate: (k: string) => `duplicate key ${quote(k)}: expected each key at most once in a map`,
  unknownAlias: (a: string) =>
    `unknown alias ${quote(`*${a}`)}: expected an anchor ${quote(`&${a}`)} before it`,
  cyclicAlias: (a: string) =>
    `alias ${quote(`*${a}`)} is inside the node it refers to: expected a reference to a finished node`,
  aliasBomb: () => `aliases expand to more than ${MAX_ALIAS_NODES} values: expected fewer or smaller aliases`,
  depth: () => `nesting deeper than ${MAX_DEPTH} levels: expected at most ${MAX_DEPTH} nested maps and lists`,
  ambiguousAnchor: () => msg.syntax('Anchor ending in : is ambiguous'),
  ambiguousAlias: () => msg.syntax('Alias ending in : is ambiguous'),
  compactMap: () => msg.syntax('Nested mappings are not allowed in compact mappings'),
  dashAfterEmpty: () =>
    "a '-' less indented than the empty list item before it: write that item as '~' (needed for files over 2 MiB)",
  internal: (e: unknown) => `could not read the YAML: ${lcfirst(e instanceof Error ? e.message : String(e))}`,
};

function lcfirst(s: string): string {
  const line = s.split('\n', 1)[0] ?? '';
  return line.charAt(0).toLowerCase() + line.slice(1);
}

function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s).replace(/^"|"$/g, "'");
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return 'an integer';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  if (Array.isArray(v)) return 'a list';
  return 'a map';
}

// ---------------------------------------------------------------------------------------------
// Positions

/** offset → 1-based line:column; lines end at '\n' only, as yaml's LineCounter counts them. */
class LineIndex {
  private starts: number[] | undefined;

  constructor(private readonly text: string) {}

  pos(offset: number): SourcePos {
    if (!this.starts) {
      const starts = [0];
      for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
      this.starts = starts;
    }
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }
}

/** A refusal found while reading, at a character offset; turned into an InputError at the end. */
class Violation {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

interface Context {
  text: string;
  file: string;
  lines: LineIndex;
}

function fail(ctx: Context, offset: number, message: string): never {
  const p = ctx.lines.pos(offset);
  throw new InputError(ctx.file, p.line, p.column, message);
}

// ---------------------------------------------------------------------------------------------
// Characters

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const HASH = 0x23;
const AMP = 0x26;
const STAR = 0x2a;
const COMMA = 0x2c;
const DASH = 0x2d;
const COLON = 0x3a;
const QUESTION = 0x3f;
const BANG = 0x21;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const PIPE = 0x7c;
const GT = 0x3e;

function hasNewline(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === LF) return true;
  return false;
}

/** Whitespace, a line break or the end of the text (charCodeAt gives NaN past the end). */
function isBlankOrEnd(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR || Number.isNaN(c);
}

function isFlowIndicator(c: number): boolean {
  return c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE;
}

/** Skips spaces, tabs, line breaks and comments. */
function skipSeparation(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === TAB || c === LF || c === CR) i++;
    else if (c === HASH) {
      while (i < text.length && text.charCodeAt(i) !== LF) i++;
    } else return i;
  }
}

function skipSpaces(text: string, i: number): number {
  for (let c = text.charCodeAt(i); c === SPACE || c === TAB; c = text.charCodeAt(++i));
  return i;
}

/** End of an anchor or alias name starting at i (js-yaml's and yaml's rule). */
function nameEnd(text: string, i: number): number {
  for (let c = text.charCodeAt(i); !isBlankOrEnd(c) && !isFlowIndicator(c); c = text.charCodeAt(++i));
  return i;
}

/** The tag as written at `at` ('!' ...), as both paths name it in the message. */
function tagText(text: string, at: number): string {
  let i = at + 1;
  if (text.charCodeAt(i) === 0x3c /* < */) {
    while (i < text.length && !isBlankOrEnd(text.charCodeAt(i)) && text.charCodeAt(i) !== GT) i++;
    if (text.charCodeAt(i) === GT) i++;
  } else {
    while (!isBlankOrEnd(text.charCodeAt(i)) && !isFlowIndicator(text.charCodeAt(i))) i++;
  }
  return text.slice(at, i);
}

/** Whether the node opened at `pos` follows a flow collection's explicit key indicator `? `. */
function afterExplicitIndicator(text: string, pos: number): boolean {
  let i = pos - 1;
  for (
    let c = text.charCodeAt(i);
    c === SPACE || c === TAB || c === LF || c === CR;
    c = text.charCodeAt(--i)
  );
  if (text.charCodeAt(i) !== QUESTION) return false;
  const before = text.charCodeAt(i - 1);
  return isBlankOrEnd(before) || before === LBRACE || before === LBRACKET || before === COMMA;
}

/** After an indicator (':', '-', '?') of an empty node: where yaml puts that empty node. */
function emptyNodeOffset(text: string, i: number): number {
  i = skipSpaces(text, i);
  while (text.charCodeAt(i) === AMP) i = skipSpaces(text, nameEnd(text, i + 1));
  return i;
}

/**
 * Where yaml puts an empty node of a flow collection that js-yaml opened at `open` (after the
 * separation following its indicator): right after a '[' or '{', or else after the indicator
 * (',', ':', '?') and the spaces that follow it on its line.
 */
function flowEmptyOffset(text: string, open: number): number {
  let i = open - 1;
  for (let guard = 0; guard < 1000; guard++) {
    for (
      let c = text.charCodeAt(i);
      c === SPACE || c === TAB || c === LF || c === CR;
      c = text.charCodeAt(--i)
    );
    const c = text.charCodeAt(i);
    if (c === LBRACE || c === LBRACKET) return i + 1;
    if (c === COMMA || c === COLON || c === QUESTION) return emptyNodeOffset(text, i + 1);
    // The end of a comment: go back to its '#'.
    const lineStart = text.lastIndexOf('\n', i) + 1;
    let hash = -1;
    for (let j = lineStart; j <= i && hash < 0; j++) {
      if (text.charCodeAt(j) === HASH && (j === lineStart || isBlankOrEnd(text.charCodeAt(j - 1)))) hash = j;
    }
    if (hash < 0) break;
    i = hash - 1;
  }
  return emptyNodeOffset(text, open);
}

/**
 * Start of the string's characters if the scalar at `offset` is on one line and has no escapes,
 * that is if its source text is the value itself; block scalars never qualify.
 */
function simpleScalarStart(text: string, offset: number, value: string): number | undefined {
  const c = text.charCodeAt(offset);
  if (c === PIPE || c === GT || c === STAR || c === AMP || c === BANG) return undefined;
  if (c === DQUOTE || c === SQUOTE) {
    const s = offset + 1;
    return text.startsWith(value, s) && text.charCodeAt(s + value.length) === c ? s : undefined;
  }
  return text.startsWith(value, offset) ? offset : undefined;
}

// ---------------------------------------------------------------------------------------------
// Text checks shared by both paths

function checkText(ctx: Context): void {
  const { text } = ctx;
  if (text.length > MAX_TEXT) fail(ctx, 0, msg.tooLarge());
  // readFileSync(…, 'utf8') turns invalid UTF-8 into U+FFFD; lone surrogates come from other decoders.
  const wellFormed = (text as unknown as { isWellFormed(): boolean }).isWellFormed();
  if (text.includes('\0') || text.includes('\uFFFD') || !wellFormed) fail(ctx, 0, msg.notText());
  // YAML forbids these; yaml would keep them as content and js-yaml refuses them, so refuse them
  // up front, the same way on both paths. A lone CR is a line break to js-yaml but not to yaml.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to refuse
  const bad = /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]|\r(?!\n)/.exec(text);
  if (bad) {
    const c = bad[0].charCodeAt(0);
    fail(ctx, bad.index, c === CR ? msg.loneCr() : msg.control(c));
  }
}

// ---------------------------------------------------------------------------------------------
// The YAML 1.2 core schema's implicit scalars, exactly as yaml 2.9 resolves them
// (yaml/dist/schema/core), in its order:
//   null  /^(?:~|[Nn]ull|NULL)?$/            bool  /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/
//   int   /^0o[0-7]+$/  /^[-+]?[0-9]+$/  /^0x[0-9a-fA-F]+$/   (BigInt(source), as intAsBigInt does)
//   float /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/  then exp and plain forms (parseFloat)
// Words and unsigned integers are decided by hand: this runs for every plain scalar of a big file.

/**
 * A js-yaml schema with one implicit type that does it all (js-yaml tries implicit types in
 * order, for every plain scalar). There are no explicit types: every tag is refused by the
 * Tracker before js-yaml looks it up, and if one got through, js-yaml would call resolve() with
 * the tag as 2nd argument, and fail. One schema per load: resolve() hands its value to construct().
 */
function coreSchema(): Schema {
  const ints = new BigIntCache();
  let resolved: unknown;
  const scalar = new Type('tag:vioctl,2026:core-scalar', {
    kind: 'scalar',
    resolve: (data: string, tag?: string) => {
      if (tag !== undefined) return false;
      resolved = resolvePlain(data, ints);
      return resolved !== NOT_RESOLVED;
    },
    construct: () => resolved,
  });
  return new Schema({ implicit: [scalar] });
}

// ---------------------------------------------------------------------------------------------
// Alias expansion: values an alias materialises, counted on the JS value both paths produce.

function countValues(v: unknown, memo: WeakMap<object, number>): number {
  if (v === null || typeof v !== 'object') return 1;
  const known = memo.get(v);
  if (known !== undefined) return known;
  let n = 1;
  if (Array.isArray(v)) for (const x of v) n += countValues(x, memo);
  else for (const k in v) n += countValues((v as Record<string, unknown>)[k], memo);
  memo.set(v, n);
  return n;
}

// ---------------------------------------------------------------------------------------------
// The yaml path

class YamlDocument implements LoadedDocument {
  constructor(
    private readonly ctx: Context,
    private readonly doc: Document.Parsed,
    readonly index: number,
    readonly value: unknown,
  ) {}

  locate(path: YamlPath, part: 'key' | 'value' = 'value'): SourcePos {
    return this.ctx.lines.pos(this.find(path, part).offset);
  }

  scalarStart(path: YamlPath): SourcePos | undefined {
    const { offset, exact } = this.find(path, 'value');
    const v = valueAt(this.value, path);
    if (!exact || typeof v !== 'string') return undefined;
    const s = simpleScalarStart(this.ctx.text, offset, v);
    return s === undefined ? undefined : this.ctx.lines.pos(s);
  }

  private find(path: YamlPath, part: 'key' | 'value'): { offset: number; exact: boolean } {
    let node: YamlNode | null = this.doc.contents;
    let offset = node ? rangeStart(node) : this.doc.range[0];
    for (let i = 0; i < path.length; i++) {
      const p = path[i];
      let next: YamlNode | null | undefined;
      if (isMap(node) && typeof p === 'string') {
        const pair = node.items.find((it) => keyString(this.doc, it.key as YamlNode | null) === p);
        if (!pair) return { offset, exact: false };
        if (i === path.length - 1 && part === 'key' && pair.key) {
          return { offset: rangeStart(pair.key as YamlNode), exact: true };
        }
        next = pair.value as YamlNode | null;
      } else if (isSeq(node) && typeof p === 'number') {
        next = node.items[p] as YamlNode | undefined;
      }
      if (!next) return { offset, exact: false };
      node = next;
      offset = rangeStart(node);
    }
    return { offset, exact: true };
  }
}

/** Composed nodes always have a range; yaml's types allow none. */
function rangeStart(node: YamlNode): number {
  return node.range?.[0] ?? 0;
}

function keyString(doc: Document.Parsed, key: YamlNode | null): unknown {
  if (isScalar(key)) return key.value;
  if (isAlias(key)) {
    const target = key.resolve(doc);
    return isScalar(target) ? target.value : undefined;
  }
  return undefined;
}

function valueAt(value: unknown, path: YamlPath): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** Walks a composed document into plain values, applying the rules in document order. */
class Converter {
  private readonly anchors = new Map<string, YamlNode>();
  private readonly values = new Map<YamlNode, unknown>();
  private readonly busy = new Set<YamlNode>();
  private readonly sizes = new WeakMap<object, number>();
  private aliasValues = 0;
  private firstTag: number | undefined;

  constructor(
    private readonly text: string,
    private readonly doc: Document.Parsed,
  ) {}

  convert(node: YamlNode | null, depth: number): unknown {
    if (node === null) return null;
    if (isAlias(node)) return this.alias(node.source, rangeStart(node));
    if (node.tag !== undefined) {
      const at = this.tagOffset();
      throw new Violation(at, msg.tag(tagText(this.text, at)));
    }
    if (node.anchor !== undefined) {
      this.anchors.set(node.anchor, node);
      this.busy.add(node);
    }
    let v: unknown;
    if (isScalar(node)) v = node.value;
    else if (isMap(node)) {
      if (depth + 1 > MAX_DEPTH) throw new Violation(rangeStart(node), msg.depth());
      const map: Record<string, unknown> = Object.create(null);
      for (const pair of node.items) {
        const keyNode = pair.key as YamlNode | null;
        const k = this.key(keyNode, depth + 1);
        const val = this.convert(pair.value as YamlNode | null, depth + 1);
        if (Object.hasOwn(map, k)) throw new Violation(rangeStart(keyNode ?? node), msg.duplicate(k));
        map[k] = val;
      }
      v = map;
    } else if (isSeq(node)) {
      if (depth + 1 > MAX_DEPTH) throw new Violation(rangeStart(node), msg.depth());
      const list: unknown[] = [];
      for (const item of node.items) list.push(this.convert(item as YamlNode | null, depth + 1));
      v = list;
    } else {
      throw new Violation(rangeStart(node), msg.internal('unexpected node'));
    }
    this.values.set(node, v);
    this.busy.delete(node);
    return v;
  }

  private key(node: YamlNode | null, depth: number): string {
    // An empty key (`: v`) still has a null scalar node in yaml 2.
    const at = node ? rangeStart(node) : 0;
    if (node !== null && !isScalar(node) && !isAlias(node) && node.tag === undefined) {
      throw new Violation(at, msg.key(isMap(node) ? {} : []));
    }
    const k = this.convert(node, depth);
    if (typeof k !== 'string') throw new Violation(at, msg.key(k));
    if (k === '<<') throw new Violation(at, msg.merge());
    return k;
  }

  private alias(name: string, at: number): unknown {
    if (name.endsWith(':')) throw new Violation(at + name.length, msg.ambiguousAlias());
    const target = this.anchors.get(name);
    if (!target) throw new Violation(at, msg.unknownAlias(name));
    if (this.busy.has(target)) throw new Violation(at, msg.cyclicAlias(name));
    const v = this.values.get(target);
    this.aliasValues += countValues(v, this.sizes);
    if (this.aliasValues > MAX_ALIAS_NODES) throw new Violation(at, msg.aliasBomb());
    return v;
  }

  /**
   * Where the first tag of this document is written. Composed nodes keep no position for their
   * properties, so find the first tag token with yaml's own Lexer. Tags are refused, so the first
   * tagged node met in document order owns the first tag token.
   */
  private tagOffset(): number {
    if (this.firstTag !== undefined) return this.firstTag;
    const [from, to] = this.doc.range;
    let offset = 0;
    let prev = '';
    for (const token of new Lexer().lex(this.text)) {
      // '\x02' (document), '\x18' (flow end) and '\x1f' (scalar follows) are markers, not source.
      if (token === '\x02' || token === '\x18' || token === '\x1f') {
        prev = token;
        continue;
      }
      if (offset >= from && token.charCodeAt(0) === BANG && prev !== '\x1f') return (this.firstTag = offset);
      offset += token.length;
      if (offset > to) break;
      prev = token;
    }
    return (this.firstTag = from);
  }
}

/** yaml warnings that are ours to report with our own words (tags are refused by the Converter). */
const OWN_WARNINGS = new Set(['TAG_RESOLVE_FAILED', 'BAD_COLLECTION_TYPE']);

function loadWithYaml(ctx: Context): LoadedDocument[] {
  const { text } = ctx;
  // uniqueKeys is off because the Converter finds duplicates itself, in the same walk as every other
  // rule and after the value like js-yaml, so the first error in a document is the same on both
  // paths. merge: false and schema: 'core' hold even under `%YAML 1.1`.
  const docs = parseAllDocuments(text, {
    intAsBigInt: true,
    uniqueKeys: false,
    merge: false,
    schema: 'core',
    prettyErrors: false,
    version: '1.2',
  });
  const out: LoadedDocument[] = [];
  for (const doc of docs) {
    const errors = [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0]);
    const first = errors[0];
    if (first) {
      // yaml 2.9 reports a stack overflow on very deep nesting: find the place with the Tracker.
      if (first.code === 'RESOURCE_EXHAUSTION' || errors.some((e) => e.code === 'RESOURCE_EXHAUSTION')) {
        findWithTracker(ctx);
      }
      fail(ctx, first.pos[0], msg.syntax(first.message));
    }
    const warning = doc.warnings
      .filter((w) => !OWN_WARNINGS.has(w.code))
      .sort((a, b) => a.pos[0] - b.pos[0])[0];
    if (warning) fail(ctx, warning.pos[0], msg.syntax(warning.message));
    let value: unknown;
    try {
      value = new Converter(text, doc).convert(doc.contents, 0);
    } catch (e) {
      if (e instanceof Violation) fail(ctx, e.offset, e.message);
      if (e instanceof RangeError) findWithTracker(ctx);
      throw e;
    }
    out.push(new YamlDocument(ctx, doc, out.length, value));
  }
  return out;
}

/** Runs the fast path's checks to name a refusal the yaml path could not place; throws. */
function findWithTracker(ctx: Context): never {
  try {
    runTracker(ctx, new Tracker(ctx.text, 0));
  } catch (e) {
    if (e instanceof InputError) throw e;
  }
  fail(ctx, 0, msg.depth());
}

// ---------------------------------------------------------------------------------------------
// The fast path: js-yaml with the Tracker

/** What js-yaml's listener sees of its state (js-yaml 4: lib/loader.js `State`). */
interface JsState {
  position: number;
  kind: string | null;
  result: unknown;
}

// Frame kinds, from the node's first character (after its properties).
const K_CAND = 0; // a block map or a scalar: a block map once its first child is followed by ':'
const K_BSEQ = 1;
const K_FSEQ = 2;
const K_FMAP = 3;
const K_BMAP = 4;
const K_SCALAR = 5;
const K_ALIAS = 6;
// Roles of a frame in its parent.
const R_ROOT = 0;
const R_ITEM = 1;
const R_KEY = 2;
const R_VALUE = 3;
const R_FIRST = 4; // first node read inside a K_CAND: its first key, or the K_CAND's own content
const R_SAME = 5; // the parent's own content (js-yaml reads a plain node as a failed block map)
const R_PAIR_VALUE = 6; // value of a single-pair map inside a flow sequence
// Frame flags.
const F_PENDING_KEY = 1; // a map has read a key and waits for its value
const F_EXPECT_VALUE = 2; // a flow collection's last key was followed by ':'
const F_PAIRS = 4; // a flow sequence holds single-pair maps
const F_FLOW = 8; // children are in flow context: a flow collection, or a node inside one
const F_CHILD = 16; // a child was opened
const F_EXPLICIT = 32; // a block map's last key was explicit (`? key`)
const F_IN_FLOW = 64; // the node itself is an entry of a flow collection

/** js-yaml's own recursion bound; our depth rule fires long before (≤ 2 frames per level). */
const JS_MAX_DEPTH = 250;
const MAX_FRAMES = JS_MAX_DEPTH + 2;

interface AnchorState {
  open: boolean;
}

interface DocInfo {
  /** where js-yaml opened the root node (after any `---`), relative to the tracked text */
  rootOpen: number;
  /** where the root node's content starts */
  rootStart: number;
  /** the document has no node at all */
  empty: boolean;
}

interface Target {
  path: YamlPath;
  part: 'key' | 'value';
  depth: number; // path components matched by the best node so far
  offset: number;
  frame: number; // serial number of the best node's frame, to fix its offset if it turns out empty
  keyOffset: number; // position of the last component's key, if part is 'key'
}

const STOP = Symbol('stop');

/**
 * Follows js-yaml's composeNode open/close events (one per key and per value). Each event costs a
 * few character peeks; state lives in fixed arrays indexed by frame depth, so memory does not
 * grow with the document. A block map's first key is read by the map's own frame trying a block
 * mapping, which is why a K_CAND only becomes K_BMAP (or has its content as an R_SAME child) when
 * that first child closes.
 */
class Tracker {
  private top = 0;
  private readonly kind = new Uint8Array(MAX_FRAMES);
  private readonly role = new Uint8Array(MAX_FRAMES);
  private readonly flags = new Uint8Array(MAX_FRAMES);
  private readonly cdepth = new Int32Array(MAX_FRAMES);
  private readonly open = new Int32Array(MAX_FRAMES);
  private readonly start = new Int32Array(MAX_FRAMES);
  private readonly index = new Int32Array(MAX_FRAMES);
  private readonly lastEnd = new Int32Array(MAX_FRAMES);
  /** a block sequence's column, where each of its '-' must be */
  private readonly column = new Int32Array(MAX_FRAMES);
  private readonly keyStart = new Int32Array(MAX_FRAMES);
  private readonly match = new Int32Array(MAX_FRAMES);
  /** frames at one depth come and go: number them to tell the best match's own frame */
  private readonly serial = new Float64Array(MAX_FRAMES);
  private opened = 0;
  private readonly keyStr: unknown[] = new Array(MAX_FRAMES);
  private readonly anchor: (AnchorState | undefined)[] = new Array(MAX_FRAMES);
  private anchors = new Map<string, AnchorState>();
  private sizes = new WeakMap<object, number>();
  private aliasValues = 0;
  readonly docs: DocInfo[] = [];

  constructor(
    readonly text: string,
    /** offset of `text` in the file, for Violation offsets */
    readonly base: number,
    private readonly target?: Target,
  ) {}

  readonly listener = (event: 'open' | 'close', state: JsState): void => {
    if (event === 'open') this.onOpen(state.position);
    else this.onClose(state);
  };

  /** The innermost open frame, to place js-yaml's own errors. */
  current(): { start: number; key: unknown; keyStart: number } {
    const d = this.top;
    return {
      start: this.base + this.start[d]!,
      key: this.keyStr[d],
      keyStart: this.base + this.keyStart[d]!,
    };
  }

  /** js-yaml stopped at its own depth bound: report our rule at the outermost node too deep. */
  depthViolation(): Violation {
    let f = 1;
    while (f < this.top && this.cdepth[f]! <= MAX_DEPTH) f++;
    return new Violation(this.base + this.start[f]!, msg.depth());
  }

  private violation(offset: number, message: string): never {
    throw new Violation(this.base + offset, message);
  }

  private onOpen(pos: number): void {
    const text = this.text;
    const d = ++this.top;
    const p = d - 1;
    if (d === 1) {
      this.anchors = new Map();
      this.sizes = new WeakMap();
      this.aliasValues = 0;
    } else {
      if (!(this.flags[p]! & F_CHILD) && isCollection(this.kind[p]!) && this.cdepth[p]! > MAX_DEPTH) {
        throw this.depthViolation();
      }
      this.flags[p]! |= F_CHILD;
    }
    this.open[d] = pos;
    this.serial[d] = ++this.opened;
    const inFlow = d > 1 && (this.flags[p]! & F_FLOW) !== 0;
    this.flags[d] = inFlow ? F_FLOW | F_IN_FLOW : 0;
    this.index[d] = 0;
    this.anchor[d] = undefined;
    this.keyStr[d] = undefined;
    // Properties, then the content's first character. For an empty node this may peek at the
    // next node (a tag there is refused all the same; an anchor there is set again by its node).
    let s = skipSeparation(text, pos);
    let propsEnd = -1;
    for (;;) {
      const c = text.charCodeAt(s);
      if (c === AMP) {
        const e = nameEnd(text, s + 1);
        const name = text.slice(s + 1, e);
        if (name.endsWith(':')) this.violation(e - 1, msg.ambiguousAnchor());
        const a: AnchorState = { open: true };
        this.anchors.set(name, a);
        this.anchor[d] = a;
        propsEnd = e;
        s = skipSeparation(text, e);
      } else if (c === BANG) {
        this.violation(s, msg.tag(tagText(text, s)));
      } else break;
    }
    this.start[d] = s;
    this.lastEnd[d] = s;

    // The role in the parent, and whether js-yaml first tries a block collection here (composeNode's
    // allowBlockCollections: block context, and compact or on a new line, and no properties on the
    // content's line). If it does, a flow collection, alias or scalar is read by a child frame.
    let role = R_SAME;
    let idx = -1;
    let compact = false;
    if (d === 1) {
      role = R_ROOT;
      compact = true;
      this.docs.push({ rootOpen: pos, rootStart: s, empty: false });
    } else {
      const pk = this.kind[p]!;
      if (pk === K_BSEQ) {
        role = R_ITEM;
        compact = true;
        idx = this.countDashes(p, pos);
      } else if (pk === K_FSEQ) {
        if (this.flags[p]! & F_EXPECT_VALUE) role = R_PAIR_VALUE;
        else {
          role = R_ITEM;
          idx = this.index[p]!++;
        }
      } else if (pk === K_FMAP) {
        role = this.flags[p]! & F_EXPECT_VALUE ? R_VALUE : R_KEY;
      } else if (pk === K_BMAP) {
        // js-yaml opens a value right after its ':' indicator, an explicit key right after '?'.
        const before = text.charCodeAt(pos - 1);
        if (before === COLON) {
          role = R_VALUE;
          if (!(this.flags[p]! & F_PENDING_KEY)) this.violation(pos - 1, msg.key(null));
          compact = (this.flags[p]! & F_EXPLICIT) !== 0;
          this.flags[p]! &= ~F_EXPLICIT;
        } else {
          role = R_KEY;
          compact = before === QUESTION;
          if (compact) this.flags[p]! |= F_EXPLICIT;
          else this.flags[p]! &= ~F_EXPLICIT;
        }
      } else if (pk === K_CAND) role = R_FIRST;
    }
    const sameLineProps = propsEnd >= 0 && !hasNewline(text, propsEnd, s);
    const blockTry = !inFlow && role !== R_FIRST && !sameLineProps && (compact || hasNewline(text, pos, s));
    const c = text.charCodeAt(s);
    let k: number;
    if (inFlow || !blockTry) {
      if (c === LBRACKET) k = K_FSEQ;
      else if (c === LBRACE) k = K_FMAP;
      else if (c === STAR) k = K_ALIAS;
      // js-yaml re-reads `&a key: v` as a block map whose first key has the properties.
      else if (sameLineProps && !inFlow && role !== R_FIRST && c !== PIPE && c !== GT) k = K_CAND;
      else k = K_SCALAR;
    } else if (c === DASH && isBlankOrEnd(text.charCodeAt(s + 1))) k = K_BSEQ;
    else if ((c === QUESTION || c === COLON) && isBlankOrEnd(text.charCodeAt(s + 1))) k = K_BMAP;
    else k = K_CAND; // a block scalar too: js-yaml probes for a block map (an empty child) first
    if (k === K_FSEQ || k === K_FMAP) this.flags[d]! |= F_FLOW;
    else if (k === K_BSEQ) this.column[d] = s - (text.lastIndexOf('\n', s - 1) + 1);
    if (role === R_FIRST && (k === K_FSEQ || k === K_FMAP)) {
      if (flowKeyFollows(text, s)) {
        this.resolveMap(p);
        role = R_KEY;
      } else role = R_SAME;
    }
    this.kind[d] = k;
    this.role[d] = role;
    // Collection depth of this node; a K_CAND counts as the map it may become. The content of a
    // K_CAND (R_SAME) is the K_CAND itself, already counted.
    const base = d === 1 ? 0 : this.cdepth[p]!;
    this.cdepth[d] = role !== R_SAME && (isCollection(k) || k === K_CAND) ? base + 1 : base;
    if (this.target) this.openTarget(d, p, role, idx);
  }

  private onClose(state: JsState): void {
    const d = this.top;
    const p = d - 1;
    const text = this.text;
    const end = state.position;
    const r = state.result;
    const k = this.kind[d]!;
    const empty = state.kind === null && r === null && k !== K_ALIAS;
    if (k === K_ALIAS) this.closeAlias(d, r);
    const a = this.anchor[d];
    if (a) a.open = false;
    if (
      (state.kind === 'mapping' || state.kind === 'sequence') &&
      !(this.flags[d]! & F_CHILD) &&
      this.cdepth[d]! > MAX_DEPTH
    ) {
      throw this.depthViolation();
    }
    const role = this.role[d]!;
    if (role === R_ROOT) {
      const info = this.docs[this.docs.length - 1]!;
      info.empty = empty;
      if (empty) {
        // yaml places an empty document's null right after its `---`.
        const marker = text.lastIndexOf('---', this.open[d]! - 1);
        const atMarker = marker >= 0 && (marker === 0 || text.charCodeAt(marker - 1) === LF);
        info.rootStart = emptyNodeOffset(text, atMarker ? marker + 3 : this.open[d]!);
        if (this.target) this.target.offset = info.rootStart;
      }
    } else if (role === R_FIRST) {
      if (text.charCodeAt(skipSpaces(text, end)) === COLON) {
        this.resolveMap(p);
        this.closeKey(d, p, r, empty);
      }
    } else if (role === R_KEY) {
      // js-yaml also reads a node where it merely probes for one more key: one that turns out not
      // to be followed by ':' in a block map (the map ends, or js-yaml then fails), or an empty one
      // in a flow map (js-yaml then fails). A key written as `? key` is a key all the same.
      const pk = this.kind[p]!;
      const colon = pk === K_FMAP ? text.charCodeAt(skipSeparation(text, end)) === COLON : false;
      let real: boolean;
      if (pk === K_BMAP)
        real = (this.flags[p]! & F_EXPLICIT) !== 0 || text.charCodeAt(skipSpaces(text, end)) === COLON;
      else if (pk === K_FMAP) real = !empty || colon || afterExplicitIndicator(text, this.open[d]!);
      else real = true;
      if (real) this.closeKey(d, p, r, empty);
      if (colon) this.flags[p]! |= F_EXPECT_VALUE;
    } else if (role === R_ITEM) {
      if (this.kind[p] === K_FSEQ && text.charCodeAt(skipSeparation(text, end)) === COLON) {
        this.closeKey(d, p, r, empty);
        this.flags[p]! |= F_EXPECT_VALUE | F_PAIRS;
      }
    } else if (role === R_VALUE || role === R_PAIR_VALUE) {
      this.flags[p]! &= ~(F_EXPECT_VALUE | F_PENDING_KEY);
    }
    if (d > 1) this.lastEnd[p] = end;
    if (state.kind === 'mapping' && (k === K_BMAP || k === K_FMAP || Object.getPrototypeOf(r) !== null)) {
      Object.setPrototypeOf(r, null); // the same map again when a K_CAND closes over its content
    }
    if (k === K_FSEQ && this.flags[d]! & F_PAIRS && Array.isArray(r)) {
      // js-yaml builds `[a: b]`'s single-pair maps itself, without a node event.
      for (const item of r) {
        if (item !== null && typeof item === 'object' && !Array.isArray(item))
          Object.setPrototypeOf(item, null);
      }
    }
    if (k === K_BSEQ) this.scanDashes(d, this.lastEnd[d]!, end, false); // trailing empty items
    if (this.target) this.closeTarget(d, empty);
    this.top--;
  }

  /** Where yaml puts frame d's node if it is empty (a null scalar without a source). */
  private emptyOffset(d: number): number {
    return this.flags[d]! & F_IN_FLOW
      ? flowEmptyOffset(this.text, this.open[d]!)
      : emptyNodeOffset(this.text, this.open[d]!);
  }

  private closeKey(d: number, p: number, r: unknown, empty: boolean): void {
    const at = empty ? this.emptyOffset(d) : this.start[d]!;
    if (typeof r !== 'string') this.violation(at, msg.key(r));
    if (r === '<<') this.violation(at, msg.merge());
    this.keyStr[p] = r;
    this.keyStart[p] = at;
    this.flags[p]! |= F_PENDING_KEY;
    const t = this.target;
    if (t && t.part === 'key') {
      const last = t.path.length - 1;
      // The key of map p, or of the single-pair map that frame d itself stands for in a flow sequence.
      const m = this.role[d] === R_ITEM ? this.match[d]! : this.match[p]!;
      if (m === last && t.path[last] === r) t.keyOffset = at;
    }
  }

  private closeAlias(d: number, r: unknown): void {
    const s = this.start[d]!;
    const e = nameEnd(this.text, s + 1);
    const name = this.text.slice(s + 1, e);
    if (name.endsWith(':')) this.violation(e - 1, msg.ambiguousAlias());
    if (this.anchors.get(name)?.open) this.violation(s, msg.cyclicAlias(name));
    this.aliasValues += countValues(r, this.sizes);
    if (this.aliasValues > MAX_ALIAS_NODES) this.violation(s, msg.aliasBomb());
  }

  /** A K_CAND's first child was followed by ':': the K_CAND is a block map. */
  private resolveMap(p: number): void {
    this.kind[p] = K_BMAP;
    if (this.cdepth[p]! > MAX_DEPTH) throw this.depthViolation();
    // js-yaml accepts `x: &a k: v` (a map starting on its key's line, found by re-reading the
    // properties as the first key's); YAML does not.
    if (this.role[p] === R_VALUE && !hasNewline(this.text, this.open[p]!, this.start[p]!)) {
      this.violation(skipSeparation(this.text, this.open[p]!), msg.compactMap());
    }
  }

  /** Index of the item opening at `pos`: '-' indicators since the last item (empty ones have no event). */
  private countDashes(p: number, pos: number): number {
    const n = this.scanDashes(p, this.lastEnd[p]!, pos, true);
    const idx = this.index[p]! + Math.max(n, 1) - 1;
    this.index[p] = idx + 1;
    return idx;
  }

  /**
   * The '-' indicators of sequence p in [from, to): all but the item's own (the last, if `item`)
   * are empty items. js-yaml 4 takes a less indented '-' after an empty item as one more item of
   * the inner sequence (`- -\n- x` is [[null, x]] to it, [[null], x] to YAML), so refuse that.
   */
  private scanDashes(p: number, from: number, to: number, item: boolean): number {
    const text = this.text;
    let prev = -1;
    let n = 0;
    const column = this.column[p]!;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      if (c === HASH) {
        while (i < to && text.charCodeAt(i) !== LF) i++;
      } else if (c === DASH && isBlankOrEnd(text.charCodeAt(i + 1))) {
        if (i - (text.lastIndexOf('\n', i - 1) + 1) !== column) this.violation(i, msg.dashAfterEmpty());
        if (prev >= 0) this.emptyItem(p, this.index[p]! + n - 1, prev);
        prev = i;
        n++;
      }
    }
    if (!item && prev >= 0) this.emptyItem(p, this.index[p]! + n - 1, prev);
    return n;
  }

  /** An empty block sequence item (after the '-' at `dash`) has no node event; note it for locate. */
  private emptyItem(p: number, idx: number, dash: number): void {
    const t = this.target;
    const m = this.match[p]!;
    if (t && m >= 0 && m < t.path.length && t.path[m] === idx && m + 1 > t.depth) {
      t.depth = m + 1;
      t.offset = emptyNodeOffset(this.text, dash + 1);
      t.frame = -1;
    }
  }

  private openTarget(d: number, p: number, role: number, idx: number): void {
    const t = this.target!;
    if (d === 1) {
      this.match[d] = 0;
      t.depth = 0;
      t.offset = this.start[d]!;
      t.frame = this.serial[d]!;
      return;
    }
    const m = this.match[p]!;
    const path = t.path;
    let got = -1;
    if (m >= 0) {
      if (role === R_SAME) got = m;
      else if (role === R_ITEM) got = m < path.length && path[m] === idx ? m + 1 : -1;
      else if (role === R_VALUE) got = m < path.length && path[m] === this.keyStr[p] ? m + 1 : -1;
      else if (role === R_PAIR_VALUE) {
        const pair = this.index[p]! - 1;
        got = m + 1 < path.length && path[m] === pair && path[m + 1] === this.keyStr[p] ? m + 2 : -1;
      }
    }
    this.match[d] = got;
    if (got > t.depth) {
      t.depth = got;
      t.offset = this.start[d]!;
      t.frame = this.serial[d]!;
    }
  }

  private closeTarget(d: number, empty: boolean): void {
    const t = this.target!;
    if (t.frame === this.serial[d] && empty) t.offset = this.emptyOffset(d);
    const m = this.match[d]!;
    if (m < 0) return;
    // Done once the deepest matching node is complete; a pair key is not its pair map's end.
    if (!(this.role[d] === R_ITEM && this.flags[d - 1]! & F_EXPECT_VALUE)) throw STOP;
  }
}

function isCollection(k: number): boolean {
  return k === K_BSEQ || k === K_FSEQ || k === K_FMAP || k === K_BMAP;
}

/**
 * Is the flow collection at `s` an implicit key, that is, closed on this line and followed by ':'?
 * (An implicit key is one line long, so this only looks at one line.)
 */
function flowKeyFollows(text: string, s: number): boolean {
  let depth = 0;
  let tokenStart = true;
  for (let i = s; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === LF) return false;
    if ((c === DQUOTE || c === SQUOTE) && tokenStart) {
      for (i++; i < text.length; i++) {
        const q = text.charCodeAt(i);
        if (q === LF) return false;
        if (c === DQUOTE && q === BACKSLASH) i++;
        else if (q === c) {
          if (c === SQUOTE && text.charCodeAt(i + 1) === SQUOTE) i++;
          else break;
        }
      }
      tokenStart = false;
      continue;
    }
    if (c === HASH && (i === s || isBlankOrEnd(text.charCodeAt(i - 1)))) return false;
    if (c === LBRACKET || c === LBRACE) depth++;
    else if (c === RBRACKET || c === RBRACE) {
      if (--depth === 0) return text.charCodeAt(skipSpaces(text, i + 1)) === COLON;
    }
    tokenStart = c === LBRACKET || c === LBRACE || c === COMMA || c === COLON || c === SPACE || c === TAB;
  }
  return false;
}

/** js-yaml 4.1+ also takes maxDepth; @types/js-yaml 4.0 does not list it. */
type JsOptions = JsLoadOptions & { maxDepth: number };

function jsOptions(tracker: Tracker): JsOptions {
  return {
    schema: coreSchema(),
    json: false,
    maxDepth: JS_MAX_DEPTH,
    listener: tracker.listener,
    // yaml warns where js-yaml does (unknown directive, under-indented continuation lines),
    // and we treat yaml's warnings as errors. A %YAML 1.1 document's non-ASCII line breaks are
    // js-yaml's warning only.
    onWarning: (e) => {
      if (!/non-ASCII line breaks/.test(e.reason)) throw e;
    },
  };
}

/** Runs js-yaml over `tracker.text`; turns every refusal into an InputError. */
function runTracker(ctx: Context, tracker: Tracker): unknown[] {
  try {
    return loadAll(tracker.text, null, jsOptions(tracker));
  } catch (e) {
    if (e instanceof Violation) fail(ctx, e.offset, e.message);
    if (e instanceof YAMLException) {
      const reason = e.reason ?? e.message;
      const cur = tracker.current();
      if (reason === 'duplicated mapping key' && typeof cur.key === 'string') {
        fail(ctx, cur.keyStart, msg.duplicate(cur.key));
      }
      if (reason.startsWith('nesting exceeded maxDepth')) throw tracker.depthViolation();
      const alias = /^unidentified alias "(.*)"$/.exec(reason);
      if (alias?.[1]?.endsWith(':')) fail(ctx, cur.start + alias[1].length, msg.ambiguousAlias());
      if (alias) fail(ctx, cur.start, msg.unknownAlias(alias[1]!));
      const mark = (e as YAMLException & { mark?: Mark }).mark;
      const directive = /^unknown document directive "(.*)"$/.exec(reason);
      if (directive && mark) {
        const at = tracker.text.lastIndexOf(`%${directive[1]}`, mark.position);
        fail(ctx, tracker.base + Math.max(at, 0), msg.syntax(`Unknown directive %${directive[1]}`));
      }
      fail(ctx, tracker.base + (mark?.position ?? 0), msg.syntax(reason));
    }
    if (e instanceof InputError) throw e;
    fail(ctx, 0, msg.internal(e));
  }
}

class FastDocument implements LoadedDocument {
  constructor(
    private readonly ctx: Context,
    private readonly info: DocInfo,
    /** where to start re-reading this document alone */
    private readonly sliceStart: number,
    readonly index: number,
    readonly value: unknown,
  ) {}

  locate(path: YamlPath, part: 'key' | 'value' = 'value'): SourcePos {
    return this.ctx.lines.pos(this.find(path, part).offset);
  }

  scalarStart(path: YamlPath): SourcePos | undefined {
    const v = valueAt(this.value, path);
    if (typeof v !== 'string') return undefined;
    const { offset, exact } = this.find(path, 'value');
    if (!exact) return undefined;
    const s = simpleScalarStart(this.ctx.text, offset, v);
    return s === undefined ? undefined : this.ctx.lines.pos(s);
  }

  private find(path: YamlPath, part: 'key' | 'value'): { offset: number; exact: boolean } {
    const root = this.sliceStart + this.info.rootStart;
    if (path.length === 0 || this.value === null || typeof this.value !== 'object') {
      return { offset: root, exact: path.length === 0 };
    }
    const target: Target = { path, part, depth: -1, offset: 0, frame: -1, keyOffset: -1 };
    const tracker = new Tracker(this.ctx.text.slice(this.sliceStart), this.sliceStart, target);
    try {
      loadAll(tracker.text, null, jsOptions(tracker));
    } catch (e) {
      if (e !== STOP) return { offset: root, exact: false };
    }
    // A key without a value (`{a}`) still has a position of its own.
    if (part === 'key' && target.keyOffset >= 0)
      return { offset: this.sliceStart + target.keyOffset, exact: true };
    if (target.depth < 0) return { offset: root, exact: false };
    return { offset: this.sliceStart + target.offset, exact: target.depth === path.length };
  }
}

function loadWithJsYaml(ctx: Context): LoadedDocument[] {
  const tracker = new Tracker(ctx.text, 0);
  const values = runTracker(ctx, tracker);
  const docs = tracker.docs;
  // yaml reads a stream with nothing but comments as no document at all; js-yaml as one null.
  if (values.length === 1 && docs[0]?.empty && !/^(?:---|\.\.\.|%)/m.test(ctx.text)) return [];
  const lineStart = (i: number) => ctx.text.lastIndexOf('\n', i - 1) + 1;
  return values.map((value, i) => {
    const info = docs[i]!;
    const sliceStart = i === 0 ? 0 : lineStart(info.rootOpen);
    const rel: DocInfo = {
      ...info,
      rootOpen: info.rootOpen - sliceStart,
      rootStart: info.rootStart - sliceStart,
    };
    return new FastDocument(ctx, rel, sliceStart, i, value);
  });
}

// ---------------------------------------------------------------------------------------------

function choosePath(text: string, opts?: LoadOptions): 'yaml' | 'fast' | 'subset' {
  const forced = opts?.path && opts.path !== 'auto' ? opts.path : process.env.VIOCTL_LOADER;
  if (forced === 'yaml' || forced === 'fast') return forced;
  return text.length > FAST_PATH_MIN ? 'subset' : 'yaml';
}

/**
 * A document the subset reader (subset.ts) read. Its value is js-yaml's; positions, asked only for
 * an error, come from reading the whole text on the fast path once, so they are the fast path's own.
 */
class SubsetDocument implements LoadedDocument {
  constructor(
    private readonly full: () => LoadedDocument | undefined,
    readonly index: number,
    readonly value: unknown,
  ) {}

  locate(path: YamlPath, part: 'key' | 'value' = 'value'): SourcePos {
    return this.full()?.locate(path, part) ?? { line: 1, column: 1 };
  }

  scalarStart(path: YamlPath): SourcePos | undefined {
    return this.full()?.scalarStart(path);
  }
}

function loadWithSubset(ctx: Context): LoadedDocument[] | undefined {
  const values = readSubset(ctx.text, MAX_DEPTH);
  if (!values) return undefined;
  let full: LoadedDocument[] | undefined;
  const fullDoc = (i: number) => () => {
    try {
      full ??= loadWithJsYaml(ctx);
    } catch {
      full = []; // the subset accepts only what the fast path accepts: cannot happen
    }
    return full[i];
  };
  return values.map((v, i) => new SubsetDocument(fullDoc(i), i, v));
}

/**
 * Loads every document of a YAML stream. Throws InputError (file:line:column) for anything the
 * scenario language refuses; never another error for any input text.
 */
export function loadStream(text: string, file: string, opts?: LoadOptions): LoadedDocument[] {
  // A byte-order mark is not content: columns on line 1 are counted without it, on both paths.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const ctx: Context = { text: body, file, lines: new LineIndex(body) };
  try {
    checkText(ctx);
    const path = choosePath(body, opts);
    if (path === 'yaml') return loadWithYaml(ctx);
    const quick = path === 'subset' ? loadWithSubset(ctx) : undefined;
    if (quick) return quick;
    try {
      return loadWithJsYaml(ctx);
    } catch (e) {
      // The yaml path words every refusal it can afford to; it may also accept what js-yaml refused.
      if (e instanceof InputError && body.length <= FALLBACK_MAX) return loadWithYaml(ctx);
      throw e;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    // A stack overflow or any other surprise from a parser is still bad input, not a crash.
    fail(ctx, 0, msg.internal(e));
  }
}

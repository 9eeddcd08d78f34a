// Value expressions of scenario files: integers, constant and bit names, `$variables`, BIT(n), and
// C's operators `~ * / % + - << >> & ^ |` with C's precedence, evaluated with unbounded integers.
// The result is then narrowed to a field's width by fitWidth, as C converts it, never by silent wrap.
//
// This runs up to a million times for large scenario files, so the scanner walks char codes by hand
// and evaluates while it parses (no token array), and a string that is one plain literal is answered
// before any parser state exists.

export interface ExprEnv {
  /** A bare identifier (constant or feature-bit name) → its value, or undefined if unknown. */
  name(id: string): bigint | undefined;
  /** `$var` → its value, or undefined if no such variable. `id` is passed without the `$`. */
  variable(id: string): bigint | undefined;
}

export class ExprError extends Error {
  /** `offset` is the 0-based character index inside the expression source where the problem is. */
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'ExprError';
  }
}

// Resource bounds: scenario files are input, and unbounded integers would let one line of one
// eat the memory and the CPU (`1 << 1024 << 1024 << …`, `(((…)))` recursion).
const MAX_SOURCE = 4096;
const MAX_DEPTH = 64;
const MAX_SHIFT = 1024n;
const MAX_BIT = 1023n;
const MAX_BITS = 4096;
/** A value whose magnitude reaches this has more than MAX_BITS bits. */
const VALUE_LIMIT = 1n << BigInt(MAX_BITS);

// Char codes, named so the scanner reads as what it matches.
const C_TAB = 9;
const C_LF = 10;
const C_CR = 13;
const C_SPACE = 32;
const C_DOLLAR = 36;
const C_PERCENT = 37;
const C_AMP = 38;
const C_LPAREN = 40;
const C_RPAREN = 41;
const C_STAR = 42;
const C_PLUS = 43;
const C_MINUS = 45;
const C_SLASH = 47;
const C_0 = 48;
const C_1 = 49;
const C_9 = 57;
const C_LT = 60;
const C_GT = 62;
const C_UPPER_B = 66;
const C_UPPER_G = 71;
const C_UPPER_K = 75;
const C_UPPER_M = 77;
const C_UPPER_T = 84;
const C_UPPER_X = 88;
const C_CARET = 94;
const C_LOWER_B = 98;
const C_LOWER_I = 105;
const C_LOWER_X = 120;
const C_PIPE = 124;
const C_TILDE = 126;

// Character classes of the ASCII range; anything above is none of them.
const K_DIGIT = 1;
const K_WORD = 2; // [A-Za-z0-9_]: what a literal or an identifier is made of
const K_IDSTART = 4; // [A-Za-z_]
const K_HEX = 8;
const K_SPACE = 16;
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  let k = 0;
  if (ch >= '0' && ch <= '9') k |= K_DIGIT | K_WORD | K_HEX;
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '_') k |= K_WORD | K_IDSTART;
  if ((ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')) k |= K_HEX;
  if (c === C_SPACE || c === C_TAB || c === C_LF || c === C_CR) k |= K_SPACE;
  CLASS[c] = k;
}

function is(c: number, k: number): boolean {
  return c >= 0 && c < 128 && (CLASS[c]! & k) !== 0;
}

/** log2 of the size suffix spanning [i, end) — K M G T or KiB MiB GiB TiB — or -1 if it is none. */
function suffixShift(s: string, i: number, end: number): number {
  const n = end - i;
  if (n !== 1 && !(n === 3 && s.charCodeAt(i + 1) === C_LOWER_I && s.charCodeAt(i + 2) === C_UPPER_B)) {
    return -1;
  }
  switch (s.charCodeAt(i)) {
    case C_UPPER_K:
      return 10;
    case C_UPPER_M:
      return 20;
    case C_UPPER_G:
      return 30;
    case C_UPPER_T:
      return 40;
    default:
      return -1;
  }
}

/** The literal spanning exactly [start, end) of `s`, or undefined if that span is not one. */
function readLiteral(s: string, start: number, end: number): bigint | undefined {
  if (start >= end || s.charCodeAt(start) < C_0 || s.charCodeAt(start) > C_9) return undefined;
  if (s.charCodeAt(start) === C_0 && end - start > 2) {
    const p = s.charCodeAt(start + 1);
    if (p === C_LOWER_X || p === C_UPPER_X) {
      let small = 0;
      for (let i = start + 2; i < end; i++) {
        const c = s.charCodeAt(i);
        if (!is(c, K_HEX)) return undefined;
        small = small * 16 + (c <= C_9 ? c - C_0 : (c | 0x20) - 87); // 'a' (97) is ten
      }
      // Up to 13 hex digits (52 bits) are exact in a double. Past that, BigInt's own parser takes
      // 0x/0X; it would also accept whitespace and an empty string, so it only sees validated spans.
      return end - start - 2 <= 13 ? BigInt(small) : BigInt(s.slice(start, end));
    }
    if (p === C_LOWER_B || p === C_UPPER_B) {
      for (let i = start + 2; i < end; i++) {
        const c = s.charCodeAt(i);
        if (c !== C_0 && c !== C_1) return undefined;
      }
      return BigInt(s.slice(start, end));
    }
  }
  // Decimal. A leading 0 followed by digits is still decimal, not C's octal: scenario authors write
  // `010` meaning ten far more often than meaning eight, and nothing in the uAPI is written in octal.
  let i = start;
  let small = 0;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c < C_0 || c > C_9) break;
    small = small * 10 + (c - C_0);
    i++;
  }
  // Up to 15 digits are exact in a double, and BigInt(number) skips a string parse.
  const v = i - start <= 15 ? BigInt(small) : BigInt(s.slice(start, i));
  if (i === end) return v;
  // Sizes only after decimal: `0x10K` reads too much like a hex digit string to be trusted.
  const shift = suffixShift(s, i, end);
  return shift < 0 ? undefined : v << BigInt(shift);
}

/** A single literal (decimal, 0x hex, 0b binary, optional K/M/G/T or KiB/MiB/GiB/TiB after decimal). */
export function parseIntLiteral(text: string): bigint | undefined {
  return readLiteral(text, 0, text.length);
}

const pow2Cache: bigint[] = [];

function pow2(bits: number): bigint {
  let p = pow2Cache[bits];
  if (p === undefined) {
    p = 1n << BigInt(bits);
    if (bits <= 128) pow2Cache[bits] = p;
  }
  return p;
}

/**
 * C's conversion of `v` to an unsigned field of `bits` bits, for values C programmers write:
 * v in [-2^(bits-1), 2^bits - 1] → v mod 2^bits; anything else is undefined (an input error for the
 * caller), so `-1` fills a __u32 but 0x100000000 never silently becomes 0.
 */
export function fitWidth(v: bigint, bits: number): bigint | undefined {
  if (!Number.isInteger(bits) || bits < 1) throw new RangeError(`field width ${bits} is not a bit count`);
  if (v >= 0n) return v < pow2(bits) ? v : undefined;
  return v >= -pow2(bits - 1) ? v + pow2(bits) : undefined;
}

function tooLarge(v: bigint): boolean {
  return v >= VALUE_LIMIT || v <= -VALUE_LIMIT;
}

// Binding strength of the binary operators, C's order; 0 means "not a binary operator".
function precedence(c: number): number {
  switch (c) {
    case C_STAR:
    case C_SLASH:
    case C_PERCENT:
      return 6;
    case C_PLUS:
    case C_MINUS:
      return 5;
    case C_LT:
    case C_GT:
      return 4;
    case C_AMP:
      return 3;
    case C_CARET:
      return 2;
    case C_PIPE:
      return 1;
    default:
      return 0;
  }
}

class Parser {
  pos = 0;
  depth = 0;

  constructor(
    readonly src: string,
    readonly env: ExprEnv,
  ) {}

  /** Skips whitespace; the char code at the new position, or -1 at the end. */
  peek(): number {
    const s = this.src;
    let i = this.pos;
    while (i < s.length && is(s.charCodeAt(i), K_SPACE)) i++;
    this.pos = i;
    return i < s.length ? s.charCodeAt(i) : -1;
  }

  wordEnd(i: number): number {
    const s = this.src;
    while (i < s.length && is(s.charCodeAt(i), K_WORD)) i++;
    return i;
  }

  /** The text at `at` for a message: a whole word, or one character. */
  tokenText(at: number): string {
    const end = this.wordEnd(at);
    return this.src.slice(at, end > at ? end : at + 1);
  }

  fail(message: string, at: number): never {
    throw new ExprError(message, at);
  }

  checkSize(v: bigint, at: number): bigint {
    if (tooLarge(v)) this.fail('value too large', at);
    return v;
  }

  /** Operators binding at least as tightly as `minPrec`, left associative by climbing one level up. */
  binary(minPrec: number): bigint {
    let left = this.unary();
    for (;;) {
      const c = this.peek();
      const prec = precedence(c);
      if (prec < minPrec) return left;
      const at = this.pos;
      if (prec === 4) {
        // C's < and > compare; they are not value operators here, so only << and >> pass.
        if (this.src.charCodeAt(at + 1) !== c) this.fail(`unexpected '${String.fromCharCode(c)}'`, at);
        this.pos = at + 2;
      } else {
        this.pos = at + 1;
      }
      const right = this.binary(prec + 1);
      left = this.apply(c, left, right, at);
    }
  }

  apply(op: number, a: bigint, b: bigint, at: number): bigint {
    switch (op) {
      case C_STAR:
        return this.checkSize(a * b, at);
      case C_SLASH:
        if (b === 0n) this.fail('division by zero', at);
        return a / b; // BigInt truncates toward zero, as C does
      case C_PERCENT:
        if (b === 0n) this.fail('division by zero', at);
        return a % b; // the sign follows the dividend, as in C
      case C_PLUS:
        return this.checkSize(a + b, at);
      case C_MINUS:
        return this.checkSize(a - b, at);
      case C_LT:
      case C_GT:
        if (b < 0n) this.fail('negative shift count', at);
        if (b > MAX_SHIFT) this.fail('shift count too large', at);
        // >> of a negative value is arithmetic, which is what BigInt does and what gcc does.
        return op === C_LT ? this.checkSize(a << b, at) : a >> b;
      case C_AMP:
        return a & b;
      case C_CARET:
        return a ^ b;
      default:
        return a | b;
    }
  }

  unary(): bigint {
    // Prefix operators are gathered in a loop rather than by recursion, so `- - - … 1` cannot
    // exhaust the stack however long the source is.
    let ops: number[] | undefined;
    for (;;) {
      const c = this.peek();
      if (c !== C_TILDE && c !== C_MINUS && c !== C_PLUS) break;
      ops ??= [];
      ops.push(this.pos);
      this.pos++;
    }
    let v = this.primary();
    if (ops !== undefined) {
      for (let k = ops.length - 1; k >= 0; k--) {
        const at = ops[k]!;
        const c = this.src.charCodeAt(at);
        if (c === C_TILDE) v = this.checkSize(~v, at);
        else if (c === C_MINUS) v = -v;
      }
    }
    return v;
  }

  /** `( expr )`, with the nesting bound; the position is on the '('. */
  parenthesized(): bigint {
    const open = this.pos;
    if (++this.depth > MAX_DEPTH) this.fail(`parentheses nested deeper than ${MAX_DEPTH}`, open);
    this.pos++;
    const v = this.binary(1);
    if (this.peek() !== C_RPAREN) this.fail("expected ')'", this.pos);
    this.pos++;
    this.depth--;
    return v;
  }

  primary(): bigint {
    const c = this.peek();
    const at = this.pos;
    const s = this.src;
    if (c === C_LPAREN) return this.parenthesized();
    if (is(c, K_DIGIT)) {
      const end = this.wordEnd(at);
      const v = readLiteral(s, at, end);
      if (v === undefined) this.fail(`invalid number '${s.slice(at, end)}'`, at);
      this.pos = end;
      return this.checkSize(v, at);
    }
    if (is(c, K_IDSTART)) {
      const end = this.wordEnd(at);
      const id = s.slice(at, end);
      this.pos = end;
      if (id === 'BIT') return this.bit();
      const v = this.env.name(id);
      if (v === undefined) this.fail(`unknown name '${id}'`, at);
      return v;
    }
    if (c === C_DOLLAR) {
      const end = this.wordEnd(at + 1);
      if (end === at + 1 || !is(s.charCodeAt(at + 1), K_IDSTART)) this.fail("expected a name after '$'", at);
      const id = s.slice(at + 1, end);
      this.pos = end;
      const v = this.env.variable(id);
      if (v === undefined) this.fail(`no value named '$${id}'`, at);
      return this.checkSize(v, at);
    }
    if (c === C_RPAREN) this.fail("unexpected ')'", at);
    return this.fail("expected a number, name or '('", at);
  }

  /** BIT(n) = 1 << n, the kernel's macro; the position is just past the name. */
  bit(): bigint {
    if (this.peek() !== C_LPAREN) this.fail("expected '(' after BIT", this.pos);
    // Point a range error at the argument itself, past any blanks after the '('.
    let argAt = this.pos + 1;
    while (argAt < this.src.length && is(this.src.charCodeAt(argAt), K_SPACE)) argAt++;
    const n = this.parenthesized();
    if (n < 0n || n > MAX_BIT) this.fail(`bit number out of range 0..${MAX_BIT}`, argAt);
    return 1n << n;
  }
}

/** Evaluates one value expression; every problem is an ExprError with the offset where it is. */
export function evalExpr(src: string, env: ExprEnv): bigint {
  if (src.length > MAX_SOURCE) throw new ExprError(`expression longer than ${MAX_SOURCE} characters`, 0);
  // Fast path: most values in a scenario are one plain literal.
  const c = src.charCodeAt(0);
  if (c >= C_0 && c <= C_9) {
    const v = readLiteral(src, 0, src.length);
    if (v !== undefined && !tooLarge(v)) return v;
  }
  const p = new Parser(src, env);
  const v = p.binary(1);
  if (p.peek() !== -1) {
    const at = p.pos;
    p.fail(src.charCodeAt(at) === C_RPAREN ? "unexpected ')'" : `unexpected '${p.tokenText(at)}'`, at);
  }
  return v;
}

// The YAML 1.2 core schema's resolution of plain scalars, shared by every loader path: integers
// (decimal, 0x, 0o) are bigint, floats numbers, the null and boolean words their values, anything
// else a string. `yes` stays a string; `6.10` is the float 6.1.

const DASH = 0x2d;

const RE_INT = /^[-+]?[0-9]+$/;
const RE_FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const RE_FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const RE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** Sentinel for "a string": any plain scalar the core schema does not resolve. */
export const NOT_RESOLVED = Symbol('string');

const WORDS = new Map<string, unknown>([
  ['~', null],
  ['null', null],
  ['Null', null],
  ['NULL', null],
  ['true', true],
  ['True', true],
  ['TRUE', true],
  ['false', false],
  ['False', false],
  ['FALSE', false],
]);

/** s[from..] is one or more digits of the radix (8, 10 or 16). */
function isDigits(s: string, from: number, radix: number): boolean {
  if (from >= s.length) return false;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      radix === 16
        ? (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
        : c >= 0x30 && c < 0x30 + radix;
    if (!ok) return false;
  }
  return true;
}

/**
 * Parsing a BigInt costs more than reading the scalar; scenarios repeat the same few numbers
 * (`0x1000`, `72`), and a bigint is immutable, so equal sources share one.
 */
export class BigIntCache {
  private map = new Map<string, bigint>();

  get(s: string): bigint {
    let v = this.map.get(s);
    if (v === undefined) {
      if (this.map.size >= 4096) this.map = new Map();
      v = BigInt(s);
      this.map.set(s, v);
    }
    return v;
  }
}

/** A plain scalar's value, or NOT_RESOLVED for a string. */
export function resolvePlain(s: string, ints: BigIntCache): unknown {
  const c = s.charCodeAt(0);
  if (c >= 0x30 && c <= 0x39) {
    const c1 = s.charCodeAt(1);
    if (c === 0x30 && c1 === 0x78 /* x */) return isDigits(s, 2, 16) ? ints.get(s) : NOT_RESOLVED;
    if (c === 0x30 && c1 === 0x6f /* o */) return isDigits(s, 2, 8) ? ints.get(s) : NOT_RESOLVED;
    if (isDigits(s, 0, 10)) return ints.get(s);
  } else if (c !== 0x2b /* + */ && c !== DASH && c !== 0x2e /* . */) {
    return s.length <= 5 && WORDS.has(s) ? WORDS.get(s) : NOT_RESOLVED;
  }
  if (RE_INT.test(s)) return BigInt(s);
  if (RE_FLOAT_NAN.test(s)) {
    if (s.endsWith('nan') || s.endsWith('NaN') || s.endsWith('NAN')) return Number.NaN;
    return c === DASH ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (RE_FLOAT_EXP.test(s) || RE_FLOAT.test(s)) return Number.parseFloat(s);
  return NOT_RESOLVED;
}

// Value formatting shared by the JSON and text reports. Run results keep 64-bit quantities as bigint;
// here they become `0x…` text, the one spelling the JSON contract and the tables both use.
import type { OutValue } from '../scenario/run-result.js';

/** A table cell longer than this is cut, ending in `…`. */
export const CELL_MAX = 60;

/** `0x…`, lowercase. Negative values (none should reach a report) keep their sign in front. */
export function hex(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** An output value as JSON data: every bigint becomes its hex string, key order is kept. */
export function jsonValue(v: OutValue): unknown {
  if (typeof v === 'bigint') return hex(v);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(jsonValue);
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as { readonly [k: string]: OutValue })) o[k] = jsonValue(x);
  return o;
}

/** Cuts `s` to at most `max` characters, the last one `…`, without splitting a surrogate pair. */
export function truncate(s: string, max: number = CELL_MAX): string {
  if (s.length <= max) return s;
  let cut = max - 1;
  const c = s.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return s.slice(0, cut) + '…';
}

// A string inside flow text is quoted when it could be read as punctuation or as another value (a
// hex string would pass for a bigint); a BDF such as 0000:01:00.0 stays plain, as in YAML flow.
const NEEDS_QUOTES = /^$|^\s|\s$|[,{}[\]"#\p{Cc}]|: |:$|^['&*!|>%@`]|^(?:null|true|false|~)$/iu;
const NUMBER_LIKE = /^[-+]?(?:0x[0-9a-f]+|\d+(?:\.\d*)?(?:e[-+]?\d+)?|\.\d+)$/i;

function flowString(s: string): string {
  return NEEDS_QUOTES.test(s) || NUMBER_LIKE.test(s) ? JSON.stringify(s) : s;
}

/** A value as one compact cell: bigint hex, maps `{k: v, …}`, lists `[a, b]`, cut past CELL_MAX. */
export function shortValue(v: OutValue): string {
  // A top-level string is the cell itself; it is quoted only when it would not read as one line.
  if (typeof v === 'string') return truncate(v !== '' && !/\p{Cc}/u.test(v) ? v : JSON.stringify(v));
  const out: string[] = [];
  // Stop building once past the limit: an `out` may hold thousands of elements.
  const budget = { left: CELL_MAX + 1 };
  flow(v, out, budget);
  return truncate(out.join(''));
}

function flow(v: OutValue, out: string[], budget: { left: number }): void {
  if (budget.left <= 0) return;
  const put = (s: string) => {
    out.push(s);
    budget.left -= s.length;
  };
  if (v === null || typeof v !== 'object') {
    put(typeof v === 'bigint' ? hex(v) : typeof v === 'string' ? flowString(v) : String(v));
    return;
  }
  const entries: [string | null, OutValue][] = Array.isArray(v)
    ? v.map((x: OutValue) => [null, x])
    : Object.entries(v as { readonly [k: string]: OutValue });
  const list = Array.isArray(v);
  put(list ? '[' : '{');
  for (let i = 0; i < entries.length && budget.left > 0; i++) {
    const [k, x] = entries[i]!;
    if (i > 0) put(', ');
    if (k !== null) put(flowString(k) + ': ');
    flow(x, out, budget);
  }
  put(list ? ']' : '}');
}

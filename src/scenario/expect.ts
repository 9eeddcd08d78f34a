// Expectations (scenario.md, "Expectations"): a return value, an errno name,
// `blocks`, `bug`, or a map of fields that must match; maps match partially.
import { resolveErrnoName } from '../uapi/errno.js';
import { isMap } from './compile.js';
import type { YamlPath } from './load.js';
import type { OutValue, StepRecord } from './run-result.js';
import type { ProcState, Runtime } from './runtime.js';

const U32 = 1n << 32n;
const U64 = 1n << 64n;

function show(v: unknown): string {
  if (typeof v === 'bigint') return `0x${v.toString(16)}`;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object')
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));
  return String(v);
}

function intOf(v: OutValue | undefined): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return undefined;
}

/** An expected number matches an actual one as C would compare them after conversion to its width. */
function numEq(actual: bigint, want: bigint): boolean {
  if (actual === want) return true;
  if (want < 0n) return actual === want + U32 || actual === want + U64;
  return false;
}

export class Matcher {
  readonly failures: string[] = [];

  constructor(
    private readonly rt: Runtime,
    private readonly ps: ProcState,
    private readonly self: ReadonlyMap<string, bigint>,
  ) {}

  private expectInt(v: unknown, path: YamlPath): bigint {
    return this.rt.integer(this.ps, v, path, this.self);
  }

  /** out (or a part of it) against the expectation; `where` names the place in messages */
  value(actual: OutValue | undefined, want: unknown, path: YamlPath, where: string): void {
    if (isMap(want)) {
      if (!isMap(actual)) {
        this.failures.push(`${where}: expected a map, got ${show(actual)}`);
        return;
      }
      for (const [k, w] of Object.entries(want))
        this.value((actual as Record<string, OutValue>)[k], w, [...path, k], `${where}.${k}`);
      return;
    }
    if (Array.isArray(want) && Array.isArray(actual)) {
      if (want.length !== actual.length) {
        this.failures.push(`${where}: expected ${want.length} elements, got ${actual.length}`);
        return;
      }
      for (const [i, w] of want.entries()) this.value(actual[i], w, [...path, i], `${where}[${i}]`);
      return;
    }
    const a = intOf(actual);
    if (
      a !== undefined &&
      (typeof want === 'bigint' ||
        typeof want === 'string' ||
        Array.isArray(want) ||
        typeof want === 'boolean')
    ) {
      if (typeof want === 'boolean' && typeof actual === 'boolean') {
        if (want !== actual) this.failures.push(`${where}: expected ${want}, got ${actual}`);
        return;
      }
      const w = this.expectInt(want, path);
      if (!numEq(a, w)) this.failures.push(`${where}: expected ${show(w)}, got ${show(actual)}`);
      return;
    }
    if (typeof want === 'string' && typeof actual === 'string') {
      if (want !== actual) this.failures.push(`${where}: expected "${want}", got "${actual}"`);
      return;
    }
    if (want === null && actual === null) return;
    this.failures.push(`${where}: expected ${show(want)}, got ${show(actual)}`);
  }

  errno(r: StepRecord, want: unknown, path: YamlPath): void {
    if (typeof want !== 'string') {
      if (want === null && r.errno === null) return;
      this.rt.fail(path, `errno: expected an errno name, got ${show(want)}`);
    }
    const name = resolveErrnoName(want);
    if (!name) this.rt.fail(path, `errno: unknown errno name "${want}"`);
    if (r.errno !== name)
      this.failures.push(`errno: expected ${name}, got ${r.errno ?? (r.blocks ? 'blocks' : 'success')}`);
  }

  ret(r: StepRecord, want: unknown, path: YamlPath): void {
    if (r.ret === null) {
      this.failures.push(
        `ret: expected ${show(want)}, but the call did not return (${r.blocks ? 'blocks' : r.paused ? 'paused' : r.skipped ? 'skipped' : 'bug'})`,
      );
      return;
    }
    const w = this.expectInt(want, path);
    const a = typeof r.ret === 'bigint' ? r.ret : BigInt(r.ret);
    if (!numEq(a, w))
      this.failures.push(`ret: expected ${show(w)}, got ${show(r.ret)}${r.errno ? ` (${r.errno})` : ''}`);
  }
}

/** Checks one step's expectation; returns the failures (empty: pass). */
export function checkExpect(
  rt: Runtime,
  ps: ProcState,
  r: StepRecord,
  want: unknown,
  path: YamlPath,
  self: ReadonlyMap<string, bigint>,
): string[] {
  const m = new Matcher(rt, ps, self);
  if (r.skipped) return ['the step was skipped: its process was killed'];
  if (typeof want === 'string') {
    if (want === 'blocks') {
      if (!r.blocks)
        m.failures.push(
          `expected the call to block, it returned ${show(r.ret)}${r.errno ? ` (${r.errno})` : ''}`,
        );
      return m.failures;
    }
    if (want === 'bug') {
      if (!r.bug) m.failures.push('expected a kernel BUG');
      return m.failures;
    }
    if (/^E[A-Z0-9]+$/.test(want)) {
      m.errno(r, want, path);
      return m.failures;
    }
  }
  if (isMap(want)) {
    for (const [k, w] of Object.entries(want)) {
      const p = [...path, k];
      if (k === 'ret') m.ret(r, w, p);
      else if (k === 'errno') m.errno(r, w, p);
      else if (k === 'out') m.value(r.out, w, p, 'out');
      else if (k === 'site') m.value((r.site ?? null) as OutValue, w, p, 'site');
      else if (k === 'diagnostics') {
        m.value(
          r.diagnostics.map((d) => ({ code: d.code, message: d.message })),
          w,
          p,
          'diagnostics',
        );
      } else if (k === 'blocks') {
        if (Boolean(r.blocks) !== Boolean(w)) m.failures.push(`blocks: expected ${show(w)}`);
      } else if (k === 'paused') {
        if (r.paused !== w) m.failures.push(`paused: expected ${show(w)}, got ${show(r.paused ?? null)}`);
      } else rt.fail(p, `expect: unknown field "${k}" (ret, errno, out, site, diagnostics, blocks, paused)`);
    }
    return m.failures;
  }
  m.ret(r, want, path);
  return m.failures;
}

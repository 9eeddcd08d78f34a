// `vioctl diff`: what changed between two runs of the same scenario (two kernel profiles, or a
// profile with and without a patch), step by step, then in the final state. Values are compared in
// their JSON-contract spelling, so a difference printed is a difference a CI script would see.
// Expectation results are left out: the scenario's expectations hold on at most one side by design.
import type { ChalkInstance } from 'chalk';
import type { ScenarioResult, StepRecord } from '../scenario/run-result.js';
import { errnoInfo, resolveErrnoName } from '../uapi/errno.js';
import { jsonValue } from './format.js';
import { STATE_KEYS, stepJson } from './json.js';

/** The step fields compared, in print order. */
const FIELDS = ['ret', 'errno', 'out', 'site', 'diagnostics', 'blocks', 'paused', 'skipped', 'bug'] as const;

export interface FieldChange {
  field: string;
  a: string;
  b: string;
}

export interface StepDiff {
  index: number;
  /** `process call args` of whichever side has the step */
  title: string;
  changes: FieldChange[];
  /** the kernel site on each side, shown with every changed step */
  site: { a: string; b: string };
  /** diagnostics (code: message) that only one side gave */
  onlyA: string[];
  onlyB: string[];
}

export interface StateDiff {
  key: string;
  onlyA: string[];
  onlyB: string[];
}

export interface ScenarioDiff {
  scenario: string;
  file: string;
  a: string;
  b: string;
  steps: StepDiff[];
  state: StateDiff[];
  error?: { a: string; b: string };
}

export function sideLabel(r: ScenarioResult): string {
  return r.patches.length ? `${r.kernel} +${r.patches.join(' +')}` : r.kernel;
}

function text(v: unknown): string {
  if (v === undefined || v === null) return '-';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function siteText(s: StepRecord | undefined): string {
  const site = s?.bug?.site ?? (s?.errno !== null ? s?.site : undefined);
  if (!site) return '-';
  const inner = site.errno !== s?.errno ? ` (inner ${site.errno})` : '';
  return `${site.function}: ${site.check}${inner}`;
}

function field(j: Record<string, unknown> | undefined, f: string): string {
  if (!j) return '(not run)';
  const v = j[f];
  if (f === 'diagnostics' && Array.isArray(v)) {
    return v.length === 0 ? '-' : v.map((d: { code: string }) => d.code).join(', ');
  }
  if (f === 'errno' && typeof v === 'string') {
    const name = resolveErrnoName(v);
    return name ? `${v} (${errnoInfo(name).text})` : v;
  }
  if (f === 'site' && v && typeof v === 'object') {
    const s = v as { function: string; check: string; errno: string };
    return `${s.function}: ${s.check} (${s.errno})`;
  }
  return text(v);
}

function stepDiff(a: StepRecord | undefined, b: StepRecord | undefined): StepDiff | undefined {
  const ja = a && stepJson(a);
  const jb = b && stepJson(b);
  const changes: FieldChange[] = [];
  for (const f of FIELDS) {
    const va = field(ja, f);
    const vb = field(jb, f);
    if (va !== vb) changes.push({ field: f, a: va, b: vb });
  }
  if (changes.length === 0) return undefined;
  const s = (a ?? b)!;
  return {
    index: s.index,
    title: `${s.process} ${s.op === 'ioctl' ? s.call : `${s.op}: ${s.call}`}${s.args ? `  ${s.args}` : ''}`,
    changes: changes.filter((c) => c.field !== 'site'),
    site: { a: siteText(a), b: siteText(b) },
    onlyA: minus(diags(a), diags(b)),
    onlyB: minus(diags(b), diags(a)),
  };
}

function diags(s: StepRecord | undefined): string[] {
  return (s?.diagnostics ?? []).map((d) => `${d.code}: ${d.message}`);
}

function rowsOf(r: ScenarioResult, key: string): string[] {
  return (r.state[key] ?? []).map((row) => JSON.stringify(jsonValue(row)));
}

/** Rows of `xs` not matched one for one in `ys` (a multiset difference, order kept). */
function minus(xs: readonly string[], ys: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const y of ys) left.set(y, (left.get(y) ?? 0) + 1);
  return xs.filter((x) => {
    const k = left.get(x) ?? 0;
    if (k > 0) left.set(x, k - 1);
    return k === 0;
  });
}

export function diffResults(a: ScenarioResult, b: ScenarioResult): ScenarioDiff {
  const steps: StepDiff[] = [];
  const n = Math.max(a.steps.length, b.steps.length);
  for (let i = 0; i < n; i++) {
    const d = stepDiff(a.steps[i], b.steps[i]);
    if (d) steps.push(d);
  }
  const keys = [...STATE_KEYS, ...Object.keys(a.state), ...Object.keys(b.state)];
  const state: StateDiff[] = [];
  for (const key of new Set<string>(keys)) {
    const ra = rowsOf(a, key);
    const rb = rowsOf(b, key);
    const onlyA = minus(ra, rb);
    const onlyB = minus(rb, ra);
    if (onlyA.length || onlyB.length) state.push({ key, onlyA, onlyB });
  }
  const err = (r: ScenarioResult) =>
    r.error ? `${r.file}:${r.error.line}:${r.error.column}: ${r.error.message}` : '-';
  const d: ScenarioDiff = {
    scenario: a.scenario,
    file: a.file,
    a: sideLabel(a),
    b: sideLabel(b),
    steps,
    state,
  };
  if (err(a) !== err(b)) d.error = { a: err(a), b: err(b) };
  return d;
}

export function differs(d: ScenarioDiff): boolean {
  return d.steps.length > 0 || d.state.length > 0 || d.error !== undefined;
}

/** Short values side by side (`a  →  b`); long ones on two lines marked with the side's label. */
function change(name: string, a: string, b: string, d: ScenarioDiff, c: ChalkInstance): string[] {
  const head = `      ${name.padEnd(12)} `;
  if (a.length <= 40 && b.length <= 40) return [`${head}${c.red(a.padEnd(40))}  →  ${c.green(b)}`];
  const pad = ' '.repeat(head.length);
  return [`${head}${c.red(`${d.a}: ${a}`)}`, `${pad}${c.green(`${d.b}: ${b}`)}`];
}

export function renderDiff(d: ScenarioDiff, c: ChalkInstance): string {
  const out = [`${c.bold(d.scenario)}  ${d.file}`, `  ${c.red(`A: ${d.a}`)}   ${c.green(`B: ${d.b}`)}`];
  if (!differs(d)) {
    out.push('  no difference');
    return out.join('\n') + '\n';
  }
  if (d.error) out.push(...change('error', d.error.a, d.error.b, d, c));
  for (const s of d.steps) {
    out.push(`  ${c.bold(`#${s.index}`)} ${s.title}`);
    for (const ch of s.changes) out.push(...change(ch.field, ch.a, ch.b, d, c));
    if (s.site.a !== '-' || s.site.b !== '-') out.push(...change('site', s.site.a, s.site.b, d, c));
    for (const x of s.onlyA) out.push(c.red(`      - ${x}`));
    for (const x of s.onlyB) out.push(c.green(`      + ${x}`));
  }
  if (d.state.length > 0) {
    out.push(`  ${c.bold('final state')}`);
    for (const s of d.state) {
      out.push(`    ${s.key}`);
      for (const r of s.onlyA) out.push(c.red(`      - ${r}`));
      for (const r of s.onlyB) out.push(c.green(`      + ${r}`));
    }
  }
  const n = d.steps.length;
  out.push(`  ${n} step${n === 1 ? '' : 's'} differ${n === 1 ? 's' : ''}`);
  return out.join('\n') + '\n';
}

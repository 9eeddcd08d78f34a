// The human report of one scenario: a heading, the step table, what went wrong under it, then the
// state tables that have rows. Colour comes only from the chalk passed in (style-and-deps.md §B12):
// every table gets an empty head/border style, else cli-table3 colours them even in a pipe.
import type { ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import {
  type ScenarioResult,
  STATE_KEYS,
  type StateRowOut,
  type StepRecord,
} from '../scenario/run-result.js';
import { isInteresting, LONG_RUN, NEIGHBOURS, type StepTotals } from '../scenario/step-log.js';
import { errnoInfo, resolveErrnoName } from '../uapi/errno.js';
import { hex, shortValue, truncate } from './format.js';

export interface TextOptions {
  chalk: ChalkInstance;
  /** print every step even of a long run */
  allSteps: boolean;
}

/** Cell widths of the step table's free-text columns, so a row fits a terminal. */
const ARGS_MAX = 48;
const OUT_MAX = 40;
// LONG_RUN and NEIGHBOURS live with the step log (src/scenario/step-log.ts), which keeps just those steps.

/** State tables in the order they are printed; keys not listed here (a driver's own) follow. */
const STATE_ORDER: readonly string[] = STATE_KEYS.filter((k) => k !== 'processes');
// `processes` is in every state, but pid and caps seldom matter to a reader: JSON has it.
const STATE_HIDDEN = new Set(['processes']);

/** A fresh plain style per table (cli-table3 keeps a reference to the options it is given). */
function plain(): { head: string[]; border: string[]; compact: boolean } {
  return { head: [], border: [], compact: true };
}

export function renderText(r: ScenarioResult, opts: TextOptions): string {
  const c = opts.chalk;
  const out: string[] = [heading(r, c)];
  if (r.description !== undefined) out.push(c.dim(r.description));

  const steps = r.steps;
  const count = r.stepTotals.count;
  const long = count > LONG_RUN && !opts.allSteps;
  const shown = long ? pickSteps(steps, count) : steps;
  if (long) out.push(summary(r.stepTotals));
  if (shown.length > 0) out.push(stepTable(shown, count, c));

  const faults = faultSummary(r);
  if (faults !== undefined) out.push(c.magenta(faults));
  const notes = shown.flatMap((s) => stepNotes(s, c));
  if (notes.length > 0) out.push(c.bold('notes and diagnostics:'), ...notes);
  const failures = steps.filter((s) => s.expect === 'fail');
  if (failures.length > 0) {
    out.push(c.bold('failed expectations:'));
    for (const s of failures) {
      const reasons = s.expectFailures?.length ? s.expectFailures : ['expectation failed'];
      for (const why of reasons) out.push(`  ${c.red(`#${s.index}`)} ${oneLine(why)}`);
    }
  }

  for (const key of stateKeys(r)) {
    const rows = r.state[key] ?? [];
    if (rows.length === 0) continue;
    // Diagnostics are sentences: printed whole, not cut to a table cell.
    if (key === 'diagnostics') {
      out.push('', c.bold('diagnostics of the final state:'));
      for (const d of rows) out.push(`  ${c.yellow(`${String(d.code)}: ${oneLine(String(d.message))}`)}`);
    } else {
      out.push('', c.bold(key), stateTable(rows));
    }
  }
  return out.join('\n') + '\n';
}

function heading(r: ScenarioResult, c: ChalkInstance): string {
  const patches = r.patches.length > 0 ? r.patches.join(', ') : 'none';
  return `${c.bold(r.scenario)}  ${r.file}  kernel ${r.kernel}  patches: ${patches}`;
}

function summary(t: StepTotals): string {
  return (
    `${t.count} steps, ${t.failedCalls} failed calls, ${t.failedExpect} expectation failures, ` +
    `${t.diagnostics} diagnostics (showing those steps and ${NEIGHBOURS} on each side; --all-steps for all)`
  );
}

/**
 * The steps that failed an expectation or have diagnostics, with their neighbours, from the records a
 * run kept (all of them, or a summary log's: that log keeps exactly these and a few waiting steps).
 */
export function pickSteps(steps: readonly StepRecord[], count: number): StepRecord[] {
  const keep = new Set<number>();
  for (const s of steps) {
    if (!isInteresting(s)) continue;
    const hi = Math.min(count - 1, s.index + NEIGHBOURS);
    for (let j = Math.max(0, s.index - NEIGHBOURS); j <= hi; j++) keep.add(j);
  }
  return steps.filter((s) => keep.has(s.index));
}

/** the shown steps in order, with a '…' row wherever steps in between (of `count`) are left out */
function stepTable(shown: readonly StepRecord[], count: number, c: ChalkInstance): string {
  const t = new Table({
    head: ['#', 'proc', 'call', 'args', 'ret', 'out', 'errno', ''].map((h) => c.bold(h)),
    colAligns: ['right', 'left', 'left', 'left', 'right', 'left', 'left', 'left'],
    style: plain(),
  });
  const gap = ['…', '', '', '', '', '', '', ''];
  let next = 0;
  for (const s of shown) {
    if (s.index > next) t.push(gap);
    t.push(stepRow(s, c));
    next = s.index + 1;
  }
  if (next < count) t.push(gap);
  return t.toString();
}

function stepRow(s: StepRecord, c: ChalkInstance): string[] {
  const call = s.op === 'ioctl' || s.call === '' ? s.call || s.op : `${s.op}: ${s.call}`;
  return [
    String(s.index),
    s.process,
    truncate(oneLine(call)),
    truncate(oneLine(s.args), ARGS_MAX),
    retCell(s, c),
    s.out === null || s.out === s.ret ? '' : truncate(shortValue(s.out), OUT_MAX),
    errnoCell(s, c),
    s.expect === 'pass' ? c.green('✓') : s.expect === 'fail' ? c.red.bold('✗') : '',
  ];
}

function retCell(s: StepRecord, c: ChalkInstance): string {
  if (s.bug) return c.red.bold('BUG');
  if (s.skipped) return c.dim('skipped');
  if (s.paused !== undefined) return `paused at ${s.paused}`;
  if (s.blocks) return 'blocks';
  if (s.ret === null) return '';
  return typeof s.ret === 'bigint' ? hex(s.ret) : String(s.ret);
}

/** `EFAULT Bad address`, and `(inner ENOENT)` where the kernel replaced the errno its check gave. */
function errnoCell(s: StepRecord, c: ChalkInstance): string {
  if (s.errno === null) return '';
  let text = errnoText(s.errno);
  if (s.site && s.site.errno !== s.errno) text += ` (inner ${s.site.errno})`;
  return c.red(text);
}

export function errnoText(name: string): string {
  const canonical = resolveErrnoName(name);
  return canonical === undefined ? name : `${canonical} ${errnoInfo(canonical).text}`;
}

/** Lines under the table for one step: its diagnostics, a kernel BUG's site and stack, its note. */
function stepNotes(s: StepRecord, c: ChalkInstance): string[] {
  const tag = `  #${s.index}`;
  const lines = s.diagnostics.map((d) => `${tag} ${c.yellow(`${d.code}: ${oneLine(d.message)}`)}`);
  if (s.bug) {
    const { function: fn, check } = s.bug.site;
    const stack = s.bug.stack.length > 0 ? `; stack: ${s.bug.stack.join(' ← ')}` : '';
    lines.push(`${tag} ${c.red.bold('kernel BUG')} in ${fn} (${check})${stack}`);
  }
  if (s.note !== undefined) lines.push(`${tag} ${c.dim(`note: ${oneLine(s.note)}`)}`);
  for (const f of s.faults ?? []) {
    const which = f.scope === 'run' ? `fail_nth ${f.nth}` : `the step's fail_nth ${f.nth}`;
    lines.push(`${tag} ${c.magenta(`fault injected at ${f.site} (${which})`)}`);
  }
  return lines;
}

/** The fail_nth line under the steps: how many fault points the run reached, and whether one fired. */
function faultSummary(r: ScenarioResult): string | undefined {
  if (!r.faults) return undefined;
  const n = r.faults.injected.length;
  const armed = r.failNth !== undefined ? `fail_nth ${r.failNth}: ` : '';
  return `${armed}${n === 0 ? 'no fault injected' : `${n} fault(s) injected`}; the run reached ${r.faults.points} fault point(s)`;
}

function stateKeys(r: ScenarioResult): string[] {
  const extra = Object.keys(r.state).filter((k) => !STATE_ORDER.includes(k) && !STATE_HIDDEN.has(k));
  return [...STATE_ORDER, ...extra];
}

function stateTable(rows: readonly StateRowOut[]): string {
  // Columns are the union of the rows' keys, in first-seen order: rows of one table may differ
  // (vsock rows have guest_cid, vdpa rows status).
  const cols: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const k of Object.keys(row)) {
      if (seen.has(k)) continue;
      seen.add(k);
      cols.push(k);
    }
  }
  const t = new Table({ head: cols, style: plain() });
  for (const row of rows) t.push(cols.map((k) => (Object.hasOwn(row, k) ? shortValue(row[k]!) : '')));
  return t.toString();
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ');
}

// The --json contract of scenario.md ("What a run prints"). Every record is rebuilt key by key, so the
// output's key order is the spec's and never depends on how the runner happened to fill a record; the
// text holds nothing that varies between runs, so the same results always give the same bytes.

import type { FaultRecord } from '../kernel/fault.js';
import type { Site } from '../kernel/result.js';
import type { RunState, ScenarioResult, StepRecord } from '../scenario/run-result.js';
import { STATE_KEYS } from '../scenario/run-result.js';
import { errnoInfo, resolveErrnoName } from '../uapi/errno.js';
import { hex, jsonValue } from './format.js';

export { STATE_KEYS };

/**
 * One JSON document for a single scenario, else a flat array of them in order; 2-space indent and a
 * trailing newline. `single` with other than exactly one result is a caller bug.
 */
export function toJson(results: readonly ScenarioResult[], single: boolean): string {
  if (single && results.length !== 1) {
    throw new RangeError(`toJson: single document wanted but ${results.length} results given`);
  }
  const doc = single ? scenarioJson(results[0]!) : results.map(scenarioJson);
  return JSON.stringify(doc, null, 2) + '\n';
}

export function scenarioJson(r: ScenarioResult): Record<string, unknown> {
  const o: Record<string, unknown> = {
    scenario: r.scenario,
    file: r.file,
    kernel: r.kernel,
    patches: [...r.patches],
    ok: r.ok,
  };
  if (r.description !== undefined) o.description = r.description;
  o.steps = r.steps.map(stepJson);
  o.state = stateJson(r.state);
  o.diagnostics = r.diagnostics.map((d) => ({ step: d.step, code: d.code, message: d.message }));
  if (r.error) o.error = { line: r.error.line, column: r.error.column, message: r.error.message };
  // Not in scenario.md's contract yet (README, "Fault injection"): only in runs with fail_nth.
  if (r.failNth !== undefined) o.fail_nth = r.failNth;
  if (r.faults) o.faults = { points: r.faults.points, injected: r.faults.injected.map(faultJson) };
  return o;
}

export function stepJson(s: StepRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {
    index: s.index,
    process: s.process,
    op: s.op,
    call: s.call,
    ret: s.ret === null ? null : typeof s.ret === 'bigint' ? hex(s.ret) : s.ret,
    errno: s.errno,
  };
  const failed = s.errno !== null;
  if (failed) {
    const num = s.errnoNum ?? errnoNumber(s.errno!);
    if (num !== undefined) o.errnoNum = num;
  }
  o.out = jsonValue(s.out);
  o.expect = s.expect;
  // Not in the spec's record: the reasons, for CI logs, only where an expectation failed.
  if (s.expect === 'fail') o.expectFailures = [...(s.expectFailures ?? [])];
  if (failed && s.site) o.site = siteJson(s.site);
  o.diagnostics = s.diagnostics.map((d) => ({ code: d.code, message: d.message }));
  if (s.blocks) o.blocks = true;
  if (s.paused !== undefined) o.paused = s.paused;
  if (s.skipped) o.skipped = true;
  if (s.bug) o.bug = { site: siteJson(s.bug.site), stack: [...s.bug.stack] };
  if (s.note !== undefined) o.note = s.note;
  if (s.faults) o.faults = s.faults.map(faultJson);
  return o;
}

function faultJson(f: FaultRecord): Record<string, unknown> {
  return { step: f.step, nth: f.nth, scope: f.scope, kind: f.kind, site: f.site };
}

export function stateJson(state: RunState): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of STATE_KEYS) o[k] = (state[k] ?? []).map(jsonValue);
  for (const [k, rows] of Object.entries(state)) {
    if (!Object.hasOwn(o, k)) o[k] = rows.map(jsonValue);
  }
  return o;
}

function siteJson(s: Site): Record<string, unknown> {
  return { function: s.function, check: s.check, errno: s.errno };
}

function errnoNumber(name: string): number | undefined {
  const canonical = resolveErrnoName(name);
  return canonical === undefined ? undefined : errnoInfo(canonical).num;
}

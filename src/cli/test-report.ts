// The text report of `vioctl test`: one line per scenario (status, file, name, step count), the
// reasons under a failing one, then a summary line. Deterministic: no times, no paths made absolute.
import type { ChalkInstance } from 'chalk';
import type { ScenarioResult } from '../scenario/run-result.js';

export function statusOf(r: ScenarioResult): 'PASS' | 'FAIL' | 'ERROR' {
  return r.error ? 'ERROR' : r.ok ? 'PASS' : 'FAIL';
}

function line(r: ScenarioResult, c: ChalkInstance): string[] {
  const st = statusOf(r);
  const paint = st === 'PASS' ? c.green : st === 'FAIL' ? c.red : c.magenta;
  const n = r.steps.length;
  const out = [
    `${paint(st.padEnd(5))}  ${r.file}  ${r.scenario}  ${c.dim(`(${n} step${n === 1 ? '' : 's'})`)}`,
  ];
  if (r.error) out.push(`       ${r.file}:${r.error.line}:${r.error.column}: ${r.error.message}`);
  for (const s of r.steps) {
    if (s.expect !== 'fail') continue;
    for (const why of s.expectFailures ?? ['expectation failed'])
      out.push(`       #${s.index} ${s.call}: ${why}`);
  }
  return out;
}

export function textReport(
  groups: readonly { file: string; results: readonly ScenarioResult[] }[],
  c: ChalkInstance,
  suffix: string,
): string {
  const all = groups.flatMap((g) => g.results);
  const out = all.flatMap((r) => line(r, c));
  const n = (st: string) => all.filter((r) => statusOf(r) === st).length;
  const files = groups.length;
  const parts = [`${n('PASS')} passed`, `${n('FAIL')} failed`, `${n('ERROR')} errors`];
  const summary = `${all.length} scenario${all.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}: ${parts.join(', ')}`;
  out.push('', c.bold(summary + suffix));
  return out.join('\n') + '\n';
}

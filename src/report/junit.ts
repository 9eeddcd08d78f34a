// JUnit XML for CI dashboards: one <testsuite> per file, one <testcase> per scenario, a <failure> per
// step whose expectation failed (index, call and reasons), an <error> for a run-time input error.
// No time or timestamp attributes, so the same results always give the same bytes. Hand-written: the
// format is five elements, and escaping is the only subtle part (style-and-deps.md §B9 measured
// junit-report-builder at 5 packages for it).
import type { ScenarioResult, StepRecord } from '../scenario/run-result.js';

export interface JunitFile {
  file: string;
  results: readonly ScenarioResult[];
}

// XML 1.0 cannot carry most control characters even as references: they become visible \uXXXX text.
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlEscape(s: string): string {
  return s
    .replace(NOT_XML, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** An attribute value: newlines and tabs as references, else an XML parser folds them to spaces. */
function attr(s: string): string {
  return xmlEscape(s).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function failureOf(s: StepRecord): string {
  const reasons = s.expectFailures?.length ? s.expectFailures : ['expectation failed'];
  const message = `step ${s.index} ${s.call}: ${reasons[0]}`;
  const body = reasons.map((r) => `step ${s.index} (${s.process}) ${s.call}: ${r}`).join('\n');
  return `      <failure message="${attr(message)}" type="expectation">${xmlEscape(body)}</failure>`;
}

function testcase(r: ScenarioResult): string[] {
  const open = `    <testcase classname="${attr(r.file)}" name="${attr(r.scenario)}"`;
  const inner: string[] = [];
  if (r.error) {
    const m = `${r.file}:${r.error.line}:${r.error.column}: ${r.error.message}`;
    inner.push(`      <error message="${attr(m)}" type="input">${xmlEscape(m)}</error>`);
  }
  for (const s of r.steps) if (s.expect === 'fail') inner.push(failureOf(s));
  inner.push(
    `      <system-out>${xmlEscape(`kernel ${r.kernel}; patches: ${r.patches.join(', ') || 'none'}; ${r.stepTotals.count} steps`)}</system-out>`,
  );
  return [`${open}>`, ...inner, '    </testcase>'];
}

function counts(results: readonly ScenarioResult[]) {
  const errors = results.filter((r) => r.error !== undefined).length;
  const failures = results.filter((r) => r.error === undefined && !r.ok).length;
  return `tests="${results.length}" failures="${failures}" errors="${errors}" skipped="0"`;
}

export function toJunit(files: readonly JunitFile[]): string {
  const all = files.flatMap((f) => f.results);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="vioctl" ${counts(all)}>`];
  for (const f of files) {
    out.push(`  <testsuite name="${attr(f.file)}" ${counts(f.results)}>`);
    for (const r of f.results) out.push(...testcase(r));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

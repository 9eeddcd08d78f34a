import { describe, expect, test } from 'vitest';
import { makeChalk } from '../../src/report/color.js';
import { renderText } from '../../src/report/tables.js';
import type { ScenarioResult } from '../../src/scenario/run-result.js';
import { emptyState, step, vsockResult } from './fixtures.js';

const plain = { chalk: makeChalk(0), allSteps: false };

/** The step-table row whose # cell is `i`. */
function row(text: string, i: number): string | undefined {
  return text.split('\n').find((l) => new RegExp(`^│\\s*${i} │`).test(l));
}

describe('renderText', () => {
  test('level 0 has no ANSI escapes, even with cli-table3', () => {
    const text = renderText(vsockResult(), plain);
    expect(text).not.toContain('\x1b[');
  });

  test('a colour level colours through chalk', () => {
    expect(renderText(vsockResult(), { chalk: makeChalk(1), allSteps: false })).toContain('\x1b[');
  });

  test('heading, errno name and text, inner errno, marks', () => {
    const r = vsockResult();
    r.steps[2]!.expect = 'pass';
    const text = renderText(r, plain);
    const first = text.split('\n')[0]!;
    expect(first).toContain(r.scenario);
    expect(first).toContain(r.file);
    expect(first).toContain('kernel 6.1');
    expect(first).toContain('patches: none');
    expect(row(text, 3)).toContain('EFAULT Bad address (inner EINVAL)');
    expect(row(text, 3)).toContain('✗');
    expect(row(text, 2)).toContain('✓');
    expect(row(text, 0)).not.toMatch(/[✓✗]/);
    expect(row(text, 0)).toContain('open: /dev/vhost-vsock');
    expect(row(text, 1)).toContain('0x7f0000000000');
  });

  test('diagnostics and failed expectations after the table', () => {
    const text = renderText(vsockResult(), plain);
    expect(text).toMatch(/#3 vq-no-memtable: no memory table set/);
    expect(text).toMatch(/failed expectations:\n {2}#3 expected 0, got EFAULT/);
  });

  test('calls that did not return', () => {
    const r = vsockResult();
    r.steps = [
      step(0, { ret: null, blocks: true }),
      step(1, { ret: null, paused: 'unbind:device-removed' }),
      step(2, { ret: null, bug: { site: { function: 'f', check: 'c', errno: 'EINVAL' }, stack: [] } }),
      step(3, { ret: null, skipped: true }),
    ];
    const text = renderText(r, plain);
    expect(row(text, 0)).toContain('blocks');
    expect(row(text, 1)).toContain('paused at unbind:device-removed');
    expect(row(text, 2)).toContain('BUG');
    expect(row(text, 3)).toContain('skipped');
  });

  test('state tables with rows, titled, values short', () => {
    const text = renderText(vsockResult(), plain);
    expect(text).toMatch(/\nvhost\n/);
    expect(text).toContain('0x33d000002');
    expect(text).toMatch(/\niotlb\n/);
    expect(text).toContain('0x10000000000000000');
    expect(text).not.toMatch(/\nvrings\n/);
  });

  test('a long run prints a summary and the failed step with its neighbours only', () => {
    const r: ScenarioResult = {
      ...vsockResult(),
      steps: [],
      stepTotals: { count: 0, failedCalls: 0, failedExpect: 0, diagnostics: 0 },
      state: emptyState(),
    };
    for (let i = 0; i < 300; i++) r.steps.push(step(i, { call: `CALL_${i}` }));
    r.steps[150] = step(150, { call: 'CALL_150', ret: -1, errno: 'EINVAL', expect: 'fail' });
    r.stepTotals = { count: 300, failedCalls: 1, failedExpect: 1, diagnostics: 0 };
    const text = renderText(r, plain);
    expect(text).toContain('300 steps, 1 failed calls, 1 expectation failures, 0 diagnostics');
    for (const i of [148, 149, 150, 151, 152]) expect(text).toContain(`CALL_${i} `);
    for (const i of [0, 100, 147, 153, 299]) expect(text).not.toContain(`CALL_${i} `);
    expect(text.split('\n').filter((l) => /^│ +… │/.test(l))).toHaveLength(2);

    const all = renderText(r, { ...plain, allSteps: true });
    for (const i of [0, 147, 153, 299]) expect(all).toContain(`CALL_${i} `);
  });
});

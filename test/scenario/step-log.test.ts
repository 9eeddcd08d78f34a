import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { makeChalk } from '../../src/report/color.js';
import { renderText } from '../../src/report/tables.js';
import type { ScenarioResult, StepRecord } from '../../src/scenario/run-result.js';
import { LONG_RUN, StepLog, type StepLogMode } from '../../src/scenario/step-log.js';
import { emptyState, step } from '../report/fixtures.js';

// The summary log must print exactly what the full log prints: same rows, same gaps, same counts.

type Kind = 'plain' | 'errno' | 'fail' | 'diag' | 'blocks';

function record(i: number, kind: Kind): StepRecord {
  const diag = { code: 'x', message: `diagnostic of ${i}` };
  switch (kind) {
    case 'plain':
      return step(i);
    case 'errno':
      return step(i, { ret: -1, errno: 'EINVAL', errnoNum: 22 });
    case 'fail':
      return step(i, { expect: 'fail', expectFailures: [`step ${i} failed`] });
    case 'diag':
      return step(i, { diagnostics: [diag] });
    case 'blocks':
      return step(i, { ret: null, blocks: true });
  }
}

function resultOf(kinds: readonly Kind[], mode: StepLogMode): ScenarioResult {
  const log = new StepLog(mode);
  kinds.forEach((k, i) => {
    log.push(record(i, k));
  });
  return {
    scenario: 's',
    file: 'f.yaml',
    kernel: '6.1',
    patches: [],
    ok: true,
    steps: log.kept,
    stepTotals: log.totals(),
    state: emptyState(),
    diagnostics: [],
  };
}

const text = (r: ScenarioResult) => renderText(r, { chalk: makeChalk(0), allSteps: false });

const kind: fc.Arbitrary<Kind> = fc.oneof(
  { weight: 40, arbitrary: fc.constant<Kind>('plain') },
  { weight: 2, arbitrary: fc.constant<Kind>('errno') },
  { weight: 1, arbitrary: fc.constant<Kind>('fail') },
  { weight: 1, arbitrary: fc.constant<Kind>('diag') },
  { weight: 1, arbitrary: fc.constant<Kind>('blocks') },
);

describe('StepLog: what a long text report needs, and nothing more', () => {
  test.prop([fc.array(kind, { maxLength: 700 })], { numRuns: 150 })(
    'summary and all print the same report',
    (kinds) => {
      expect(text(resultOf(kinds, 'summary'))).toBe(text(resultOf(kinds, 'all')));
    },
  );

  test('interesting steps right at the switch to sparse keep both neighbours', () => {
    const kinds: Kind[] = Array.from({ length: LONG_RUN + 10 }, () => 'plain');
    kinds[LONG_RUN] = 'fail'; // the step that makes the log thin out
    kinds[LONG_RUN + 3] = 'diag';
    expect(text(resultOf(kinds, 'summary'))).toBe(text(resultOf(kinds, 'all')));
  });

  test('memory follows the interesting steps: 100 000 plain steps keep no record', () => {
    const log = new StepLog('summary');
    for (let i = 0; i < 100_000; i++) log.push(record(i, i === 50_000 ? 'fail' : 'plain'));
    expect(log.kept.map((r) => r.index)).toEqual([49_998, 49_999, 50_000, 50_001, 50_002]);
    expect(log.totals()).toEqual({ count: 100_000, failedCalls: 0, failedExpect: 1, diagnostics: 0 });
  });

  test('a short run keeps every record in summary mode too', () => {
    const log = new StepLog('summary');
    for (let i = 0; i < LONG_RUN; i++) log.push(record(i, 'plain'));
    expect(log.kept).toHaveLength(LONG_RUN);
  });

  test('totals count dropped records (errno) as well as kept ones', () => {
    const kinds: Kind[] = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 'errno' : 'plain'));
    const r = resultOf(kinds, 'summary');
    expect(r.steps).toHaveLength(0);
    expect(r.stepTotals.failedCalls).toBe(100);
  });
});

// The fail_nth sweep over the fixtures (sweep.ts). In `npm test` every fixture scenario is swept
// with N capped at FAULT_SWEEP_CAP (default 150 fault points per scenario; the largest fixture
// reaches 86 today, so this is the full sweep until fixtures grow); `npm run fault-sweep`
// runs it without a cap and prints how many runs it did and how long they took.
import { writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { loadAll, type SweepStats, sweepScenario } from './sweep.js';

const FOLDERS = ['fixtures/stories', 'fixtures/vhost', 'fixtures/vdpa', 'fixtures/vfio'];
const CAP = Number(process.env.FAULT_SWEEP_CAP ?? 150);

describe('fail_nth sweep over the fixtures', () => {
  test.each(FOLDERS)('%s: every error path unwinds (no throw, the site errno, no leak)', (folder) => {
    const stats: SweepStats = { scenarios: 0, runs: 0, faults: 0, maxPoints: 0, ms: 0, findings: [] };
    for (const s of loadAll([folder])) sweepScenario(s, CAP, stats);
    if (process.env.FAULT_SWEEP_SUMMARY) {
      writeFileSync(
        `${process.env.FAULT_SWEEP_SUMMARY}.${folder.replace(/\W/g, '_')}.json`,
        JSON.stringify(stats),
      );
    }
    // the sweep did reach faults: a fixture folder with no fault point would prove nothing
    expect(stats.faults).toBeGreaterThan(0);
    expect(stats.findings.map((f) => `${f.scenario} fail_nth ${f.n}: ${f.message}`)).toEqual([]);
  });
});

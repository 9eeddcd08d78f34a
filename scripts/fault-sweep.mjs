// `npm run fault-sweep`: the fail_nth sweep (issue 7, item 2) over every fixture folder, without the
// cap `npm test` uses. Runs test/fault/sweep.test.ts under vitest with FAULT_SWEEP_CAP=0, then prints
// per folder the scenarios, runs, injected faults, the most fault points one run reached, the time,
// and every finding. Exit status: 0 without findings, 1 with.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const work = mkdtempSync(join(tmpdir(), 'vioctl-fault-sweep-'));
const started = Date.now();
const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/fault/sweep.test.ts'], {
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
  env: { ...process.env, FAULT_SWEEP_CAP: '0', FAULT_SWEEP_SUMMARY: join(work, 'summary') },
  maxBuffer: 64 * 1024 * 1024,
});
const seconds = ((Date.now() - started) / 1000).toFixed(1);
const files = readdirSync(work)
  .filter((f) => f.endsWith('.json'))
  .sort();
if (files.length === 0) {
  process.stderr.write(r.stdout + r.stderr);
  process.exit(2);
}
let runs = 0;
let findings = 0;
for (const f of files) {
  const s = JSON.parse(readFileSync(join(work, f), 'utf8'));
  const folder = f.replace(/^summary\./, '').replace(/\.json$/, '');
  runs += s.runs;
  findings += s.findings.length;
  process.stdout.write(
    `${folder}: ${s.scenarios} scenarios, ${s.runs} runs, ${s.faults} faults injected, ` +
      `at most ${s.maxPoints} fault points in one run, ${(s.ms / 1000).toFixed(1)} s\n`,
  );
  for (const x of s.findings) process.stdout.write(`  ${x.scenario} fail_nth ${x.n}: ${x.message}\n`);
}
process.stdout.write(`${runs} runs, ${findings} findings, ${seconds} s in all (vitest start included)\n`);
rmSync(work, { recursive: true, force: true });
process.exit(findings === 0 && r.status === 0 ? 0 : 1);

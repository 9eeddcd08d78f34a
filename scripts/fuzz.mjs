// `npm run fuzz [-- --runs N --seed S --out DIR]`: model fuzzing at scale (issue 7, part 1). Runs
// test/props/kernel-model.test.ts under vitest with FUZZ_RUNS (default 100 000 sequences), then
// prints the number of sequences, steps and failures, and the scenario file written for each kind
// of failure (replay it with `vioctl run FILE`). Exit status: 0 without failures, 1 with.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const runs = Number(opt('runs', process.env.FUZZ_RUNS ?? 100_000));
const seed = Number(opt('seed', process.env.FUZZ_SEED ?? Date.now() % 0x7fffffff));
const out = opt('out', process.env.FUZZ_OUT ?? join(tmpdir(), 'vioctl-fuzz'));
const work = mkdtempSync(join(tmpdir(), 'vioctl-fuzz-'));
const summaryFile = join(work, 'summary.json');

const started = Date.now();
const r = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', 'test/props/kernel-model.test.ts', '-t', 'seeded sequences'],
  {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: {
      ...process.env,
      FUZZ_RUNS: String(runs),
      FUZZ_SEED: String(seed),
      FUZZ_OUT: out,
      FUZZ_SUMMARY: summaryFile,
    },
    maxBuffer: 64 * 1024 * 1024,
  },
);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (!existsSync(summaryFile)) {
  process.stderr.write(r.stdout + r.stderr);
  process.stderr.write(`fuzz: the run did not finish (exit ${r.status}); nothing to report\n`);
  process.exit(2);
}
const s = JSON.parse(readFileSync(summaryFile, 'utf8'));
rmSync(work, { recursive: true, force: true });
console.log(
  `fuzz: seed ${seed}: ${s.sequences} sequences, ${s.steps} steps, ${s.failures} failures ` +
    `(${s.seconds.toFixed(1)} s in the model, ${seconds} s in all)`,
);
if (s.ignored.length)
  console.log(`  left out (known bugs; FUZZ_STRICT=1 to include): ${s.ignored.join(', ')}`);
for (const f of s.files)
  console.log(`  ${f.count} x ${f.kind}: ${f.message}\n    replay: vioctl run ${f.file}`);
process.exit(s.failures === 0 ? 0 : 1);

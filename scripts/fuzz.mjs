// `npm run fuzz [-- --runs N --vfio-runs M --seed S --out DIR]`: model fuzzing at scale (issue 7,
// part 1). Runs under vitest test/props/kernel-model.test.ts (vhost-net, vhost-vsock, tun and
// vhost-vdpa: N sequences, default 60 000) and test/props/vfio-model.test.ts (PCI sysfs, VFIO
// container/group/device with type1 and hot reset, iommufd and the vfio cdev, kvm-vfio: M sequences,
// default 40 000), then prints the sequences run per family, the time, the failures, and the
// scenario file written for each kind of failure (replay it with `vioctl run FILE`). Exit status:
// 0 without failures, 1 with, 2 when a run did not finish.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const runs = Number(opt('runs', process.env.FUZZ_RUNS ?? 60_000));
const vfioRuns = Number(opt('vfio-runs', process.env.FUZZ_VFIO_RUNS ?? 40_000));
const seed = Number(opt('seed', process.env.FUZZ_SEED ?? Date.now() % 0x7fffffff));
const out = opt('out', process.env.FUZZ_OUT ?? join(tmpdir(), 'vioctl-fuzz'));
const work = mkdtempSync(join(tmpdir(), 'vioctl-fuzz-'));
const summaryFile = join(work, 'summary.json');
const vfioSummaryFile = join(work, 'vfio-summary.json');

const started = Date.now();
const r = spawnSync(
  process.execPath,
  [
    'node_modules/vitest/vitest.mjs',
    'run',
    'test/props/kernel-model.test.ts',
    'test/props/vfio-model.test.ts',
    '-t',
    'seeded sequences',
  ],
  {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: {
      ...process.env,
      FUZZ_RUNS: String(runs),
      FUZZ_VFIO_RUNS: String(vfioRuns),
      FUZZ_SEED: String(seed),
      FUZZ_OUT: out,
      FUZZ_SUMMARY: summaryFile,
      FUZZ_VFIO_SUMMARY: vfioSummaryFile,
    },
    maxBuffer: 64 * 1024 * 1024,
  },
);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (!existsSync(summaryFile) || !existsSync(vfioSummaryFile)) {
  process.stderr.write(r.stdout + r.stderr);
  process.stderr.write(`fuzz: a run did not finish (exit ${r.status}); nothing to report\n`);
  process.exit(2);
}
const s = JSON.parse(readFileSync(summaryFile, 'utf8'));
const v = JSON.parse(readFileSync(vfioSummaryFile, 'utf8'));
rmSync(work, { recursive: true, force: true });
const families = { ...s.perFamily, ...v.perFamily };
const total = s.sequences + v.sequences;
console.log(`fuzz: seed ${seed}: ${total} sequences in ${seconds} s`);
for (const [fam, n] of Object.entries(families)) console.log(`  ${fam.padEnd(8)} ${n} sequences`);
console.log(
  `  vhost/vdpa model: ${s.sequences} sequences, ${s.steps} steps, ${s.failures} failures, ${s.seconds.toFixed(1)} s`,
);
console.log(
  `  vfio paths: ${v.sequences} sequences, ${v.calls} checked calls, ${v.blocked} blocked calls followed, ` +
    `${v.bugs} kernel BUGs (modelled), ${v.failures} failures, ${v.seconds.toFixed(1)} s`,
);
if (s.ignored.length)
  console.log(`  left out (known bugs; FUZZ_STRICT=1 to include): ${s.ignored.join(', ')}`);
for (const [kind, n] of Object.entries(v.known ?? {}))
  console.log(`  known bug, not counted (FUZZ_STRICT=1 to count): ${n} x ${kind}`);
for (const f of [...s.files, ...v.files])
  console.log(`  ${f.count} x ${f.kind}: ${f.message}\n    replay: vioctl run ${f.file}`);
process.exit(s.failures + v.failures === 0 ? 0 : 1);

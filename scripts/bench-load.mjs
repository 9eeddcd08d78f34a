// Benchmark, not a test: js-yaml 4 `loadAll` alone against our `loadStream` (auto path) on a large
// generated scenario. Each measurement runs in a fresh `node` so that peak RSS (maxRSS) is its own.
//   node scripts/bench-load.mjs [steps=100000] [runs=5]
// loadStream is TypeScript: the child bundles src/scenario/load.ts with esbuild first (as the CLI
// build does), outside the timed region.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const steps = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 5);

/** One `open`, then UPDATE and INVALIDATE writes alternating, each with an expectation. */
function scenario(n) {
  const parts = ['name: big\nkernel: "6.1"\nsteps:\n  - open: /dev/vhost-vsock\n    as: vs\n'];
  for (let i = 1; i < n; i++) {
    parts.push(
      i % 2 === 1
        ? '  - write: vs\n    iotlb: {type: UPDATE, iova: 0x1000, size: 0x1000, uaddr: 0x7f0000000000, perm: RW}\n    expect: 72\n'
        : '  - write: vs\n    iotlb: {type: INVALIDATE, iova: 0x1000, size: 0x1000}\n    expect: 72\n',
    );
  }
  return parts.join('');
}

const dir = mkdtempSync(join(tmpdir(), 'vioctl-bench-load-'));
try {
  const file = join(dir, 'big.yaml');
  const text = scenario(steps);
  writeFileSync(file, text);
  const loader = join(dir, 'load.mjs');
  execFileSync(join(root, 'node_modules/.bin/esbuild'), [
    join(root, 'src/scenario/load.ts'),
    '--bundle',
    '--platform=node',
    '--format=esm',
    `--outfile=${loader}`,
    '--log-level=warning',
    "--banner:js=import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  ]);

  // The child reads the file before the clock starts, loads, touches the result, then reports.
  // Each child imports only what it measures, so peak RSS includes our loader's own modules.
  const jsYaml = JSON.stringify(join(root, 'node_modules/js-yaml/dist/js-yaml.mjs'));
  const child = (what) => `
    import { readFileSync } from 'node:fs';
    const text = readFileSync(${JSON.stringify(file)}, 'utf8');
    ${what === 'js-yaml' ? `const { loadAll } = await import(${jsYaml});` : `const { loadStream } = await import(${JSON.stringify(loader)});`}
    const t0 = performance.now();
    const docs = ${what === 'js-yaml' ? 'loadAll(text)' : "loadStream(text, 'big.yaml').map((d) => d.value)"};
    const ms = performance.now() - t0;
    if (docs[0].steps.length !== ${steps}) throw new Error('wrong step count');
    console.log(JSON.stringify({ ms, rss: process.resourceUsage().maxRSS * 1024 }));`;
  const measure = (what) =>
    JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', child(what)]));

  const results = { 'js-yaml': [], loadStream: [] };
  for (let i = 0; i < runs; i++) for (const what of Object.keys(results)) results[what].push(measure(what));
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const row = (what) => ({
    ms: median(results[what].map((r) => r.ms)),
    rss: median(results[what].map((r) => r.rss)),
  });
  const js = row('js-yaml');
  const ours = row('loadStream');
  const mb = (b) => `${(b / 1024 / 1024).toFixed(0)} MB`;
  console.log(`${steps} steps, ${(text.length / 1024 / 1024).toFixed(1)} MiB, median of ${runs} runs`);
  console.log(`js-yaml loadAll   ${js.ms.toFixed(0).padStart(6)} ms  ${mb(js.rss).padStart(7)} peak RSS`);
  console.log(`loadStream (auto) ${ours.ms.toFixed(0).padStart(6)} ms  ${mb(ours.rss).padStart(7)} peak RSS`);
  console.log(
    `ratio             ${(ours.ms / js.ms).toFixed(2).padStart(6)} ×  ${(ours.rss / js.rss).toFixed(2).padStart(5)} ×`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

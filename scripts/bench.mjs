// npm run bench: speed targets, measured side by side in one run and printed as
// numbers (never asserted in unit tests). Each measurement runs in a child
// process: wall time from spawn to exit, and peak RSS from the child itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'vioctl-bench-'));
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

function measure(args, runs = RUNS) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    const t1 = process.hrtime.bigint();
    if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(' ')} exited ${r.status}`);
    times.push(Number(t1 - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { min: times[0], median: times[Math.floor(times.length / 2)] };
}

function smallScenario() {
  const steps = [
    '  - open: /dev/vhost-vsock\n    as: vs',
    '  - ioctl: VHOST_SET_OWNER\n    fd: vs\n    expect: 0',
    '  - ioctl: VHOST_GET_FEATURES\n    fd: vs\n    save: host',
    '  - ioctl: VHOST_SET_FEATURES\n    fd: vs\n    arg: "$host & (VIRTIO_F_VERSION_1 | VIRTIO_F_ACCESS_PLATFORM)"\n    expect: 0',
    '  - ioctl: VHOST_VSOCK_SET_GUEST_CID\n    fd: vs\n    arg: 3\n    expect: 0',
    '  - mmap: guest\n    size: 1M\n    memfd: true',
    '  - ioctl: VHOST_SET_MEM_TABLE\n    fd: vs\n    arg: {regions: [{guest_phys_addr: 0, memory_size: 1M, userspace_addr: "$guest"}]}',
    '  - ioctl: VHOST_VSOCK_SET_RUNNING\n    fd: vs\n    arg: 1\n    expect: EFAULT',
    '  - read: vs\n    nonblock: true\n    expect: 72',
    '  - close: vs\n    expect: 0',
  ];
  const f = join(dir, 'ten.yaml');
  writeFileSync(f, `name: ten steps\nkernel: "6.1"\nsteps:\n${steps.join('\n')}\n`);
  return f;
}

const ten = smallScenario();
const base = measure(['-e', '0']);
const run = measure(['bin/vioctl.js', 'run', ten]);
const fmt = (x) => `${x.toFixed(1)} ms`;
console.log('cold start (median / min of %d runs)', RUNS);
console.log(`  node -e 0                 ${fmt(base.median)} / ${fmt(base.min)}`);
console.log(`  vioctl run (10 steps)     ${fmt(run.median)} / ${fmt(run.min)}`);
console.log(`  ratio (median)            ${(run.median / base.median).toFixed(2)}  (target <= 1.3)`);

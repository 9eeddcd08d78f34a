// runStep: the steps of a process a kernel BUG killed are skipped, and so are those of a process the
// killed one would have started (its fork:/spawn: did not run), instead of an internal error.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runFiles } from '../helpers/run.js';

// 5.18: a host driver bound into a group in use hits vfio's BUG_ON (vfio.md §8.3), killing main
const SCENARIO = `name: skipped after a BUG
kernel: "5.18"
machine: { kvm: true }
steps:
  - bind: { device: "0000:01:00.0", driver: "vfio-pci" }
  - open: /dev/vfio/vfio
  - open: /dev/vfio/6
  - ioctl: VFIO_GROUP_SET_CONTAINER
    fd: 4
    arg: 3
  - bind: { device: "0000:01:00.1", driver: "uio_pci_generic" }
  - spawn: p1
  - fork: p2
  - ioctl: VFIO_DEVICE_GET_REGION_INFO
    process: p2
    fd: 3
    arg: { index: 0xa }
  - ioctl: VFIO_GET_API_VERSION
    process: p2
    fd: 3
    expect: 0
`;

describe('runStep: skipped steps after a kernel BUG', () => {
  test('a step of a process whose fork: was skipped is skipped too, not an internal error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vioctl-skip-'));
    const file = join(dir, 'bug.yaml');
    writeFileSync(file, SCENARIO);
    const [r] = runFiles([file]);
    expect(r!.steps[4]!.bug).toBeDefined(); // the BUG_ON outcome of the bind
    for (const i of [5, 6, 7, 8]) expect(r!.steps[i]!).toMatchObject({ ret: null, skipped: true });
    expect(r!.steps[8]!.expect).toBe('fail');
    expect(r!.steps[8]!.expectFailures?.[0]).toMatch(/process "p2" was never started/);
    expect(r!.steps[5]!.process).toBe('main');
  });
});

// How a raw request number is named (scenario.md, "Arguments and outputs"): a number
// that is a known ioctl of the fd's type is that ioctl; on another fd it is a number.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runFiles } from '../helpers/run.js';

function run(yaml: string) {
  const f = join(mkdtempSync(join(tmpdir(), 'vioctl-args-')), 's.yaml');
  writeFileSync(f, yaml);
  return runFiles([f])[0]!;
}

test('VFIO_GROUP_GET_DEVICE_FD number on a vhost-vsock fd is the raw 0x3b6a: vhost_dev_check_owner says EPERM', () => {
  const r = run(`name: raw
kernel: "6.1"
steps:
  - open: /dev/vhost-vsock
    as: vs
  - ioctl: 0x3b6a
    fd: vs
`);
  expect(r.steps[1]).toMatchObject({ call: '0x3b6a', errno: 'EPERM' });
});

test('the VHOST_GET_FEATURES number on a vhost-vsock fd is VHOST_GET_FEATURES, with its output', () => {
  const r = run(`name: raw
kernel: "6.1"
steps:
  - open: /dev/vhost-vsock
    as: vs
  - ioctl: 0x8008af00
    fd: vs
`);
  expect(r.steps[1]).toMatchObject({ call: 'VHOST_GET_FEATURES', ret: 0, out: 0x33d000002n });
});

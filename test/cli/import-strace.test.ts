// `vioctl import-strace` through the real CLI: every fixture log in fixtures/strace/ round-trips
// (imported, run, and each call's ret/errno compared with its seed story's run), the output always
// loads (`run` exits 0 or 1, never 2), and the decoding rules on small inline logs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, test } from 'vitest';
import { loadScenarios } from '../../src/cli/commands/run.js';
import { importStrace } from '../../src/cli/strace/importer.js';
import { registerDrivers } from '../../src/drivers/index.js';
import { runScenario } from '../../src/scenario/runner.js';

const dir = mkdtempSync(join(tmpdir(), 'vioctl-import-'));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vioctl.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface StepJson {
  op: string;
  call: string;
  ret: number | string | null;
  errno: string | null;
  blocks?: boolean;
  paused?: string;
}
interface RunJson {
  scenario: string;
  kernel: string;
  ok: boolean;
  steps: StepJson[];
}

/** One call as the trace sees it: the ioctl or path, and what it returned. */
interface Call {
  key: string;
  ret: number | string | null;
  errno: string | null;
}

const SYSFS = new Set(['sysfs', 'bind', 'unbind']);
const CALLS = new Set(['open', 'close', 'ioctl', 'read', 'write', 'signal']);

/**
 * The calls of a run in the order they returned: a paused or waiting step's result is the one its
 * resume records, there; consecutive sysfs writes are one group whose result is the first failure,
 * else the last write's (the rule of the bind:/unbind: shorthands, which stories use for them).
 * Memory, eventfd, process and inspect steps are no syscall of the traced program.
 */
function calls(r: RunJson): Call[] {
  const out: Call[] = [];
  const waiting: string[] = [];
  const keyOf = (s: StepJson) =>
    SYSFS.has(s.op) ? 'sysfs' : s.op === 'ioctl' || s.op === 'open' ? `${s.op} ${s.call}` : s.op;
  const add = (key: string, ret: Call['ret'], errno: string | null) => {
    const last = out.at(-1);
    if (key === 'sysfs' && last?.key === 'sysfs') {
      if (last.errno === null) Object.assign(last, { ret, errno });
    } else out.push({ key, ret, errno });
  };
  for (const s of r.steps) {
    if (s.op === 'resume') {
      if (s.ret !== null && waiting.length > 0) add(waiting.shift()!, s.ret, s.errno);
    } else if (s.ret === null && (s.paused || s.blocks)) waiting.push(keyOf(s));
    else if (CALLS.has(s.op) || SYSFS.has(s.op)) add(keyOf(s), s.ret, s.errno);
  }
  return out;
}

/** The run of a file; of a story, its scenario on that kernel (the one of that name, if given). */
function runJson(file: string, kernel?: string, name?: string): RunJson {
  const r = cli('run', '--json', file);
  expect([0, 1], r.err).toContain(r.code);
  const j = JSON.parse(r.out) as RunJson | RunJson[];
  return Array.isArray(j)
    ? j.find((x) => x.kernel === kernel && (name === undefined || x.scenario === name))!
    : j;
}

function importLog(log: string, ...args: string[]) {
  const out = join(dir, `${log.replace(/\W/g, '_')}.yaml`);
  const r = cli('import-strace', log, '-o', out, ...args);
  expect(r.code, r.err).toBe(0);
  return { file: out, yaml: readFileSync(out, 'utf8'), summary: r.err };
}

let inline = 0;
/** Imports a log given as text and runs the result: it must load whatever the log held. */
function importText(text: string, ...args: string[]) {
  const log = join(dir, `inline${inline++}.log`);
  writeFileSync(log, text);
  const r = cli('import-strace', log, ...args);
  expect(r.code, r.err).toBe(0);
  const file = `${log}.yaml`;
  writeFileSync(file, r.out);
  const run = cli('run', file);
  expect([0, 1], `${r.out}\n${run.err}`).toContain(run.code);
  return r.out;
}

const STRUCT_REQS = ['VFIO_GROUP_GET_DEVICE_FD', 'VHOST_SET_MEM_TABLE', 'TUNSETIFF', 'KVM_CREATE_DEVICE'];
const fdArb = fc.integer({ min: -2, max: 12 });
const numArb = fc.oneof(
  fc.bigInt({ min: -5n, max: 1n << 66n }),
  fc.constantFrom(0n, 1n, 256n, 0x7effffef0000n),
);
const hexArb = numArb.map((n) => (n < 0n ? `${n}` : `0x${n.toString(16)}`));
const resArb = fc.constantFrom(
  '0',
  '3',
  '-1 EFAULT (Bad address)',
  '-1 EAGAIN (Resource temporarily unavailable)',
  '?',
);
const pidArb = fc.constantFrom('', '[pid  41] ', '[pid  42] ', '43  ');
const bytesArb = fc
  .uint8Array({ maxLength: 80 })
  .map((b) => [...b].map((x) => `\\x${x.toString(16).padStart(2, '0')}`).join(''));
/** Pieces of logs: the calls the importer models, with fields and values anywhere in range or out of it. */
const LINE_PARTS = [
  fc
    .tuple(
      pidArb,
      fc.constantFrom(
        '/dev/vhost-vsock',
        '/dev/vhost-vdpa-0',
        '/dev/vfio/vfio',
        '/dev/vfio/8',
        '/dev/kvm',
        '/sys/bus/pci/drivers_probe',
        '/etc/x',
      ),
      fdArb,
    )
    .map(([p, path, fd]) => `${p}openat(AT_FDCWD, "${path}", O_RDWR) = ${fd}`),
  fc
    .tuple(
      pidArb,
      fdArb,
      fc.constantFrom(
        'VHOST_SET_VRING_NUM',
        'VHOST_SET_VRING_KICK',
        'VHOST_SET_VRING_ADDR',
        'VFIO_IOMMU_MAP_DMA',
        'KVM_SET_DEVICE_ATTR',
        '0x4008af10',
        '0x3b70',
      ),
      fc.constantFrom('index', 'num', 'fd', 'vaddr', 'size', 'addr', 'group', 'bogus'),
      hexArb,
      resArb,
    )
    .map(([p, fd, req, f, v, r]) => `${p}ioctl(${fd}, ${req}, {index=0, ${f}=${v}}) = ${r}`),
  fc
    .tuple(
      pidArb,
      fdArb,
      fc.constantFrom(
        'VHOST_SET_FEATURES',
        'VHOST_GET_FEATURES',
        'VFIO_GROUP_SET_CONTAINER',
        'VFIO_SET_IOMMU',
        'KVM_CREATE_VM',
        'VFIO_GROUP_GET_DEVICE_FD',
      ),
      hexArb,
      resArb,
    )
    .map(([p, fd, req, v, r]) => `${p}ioctl(${fd}, ${req}, [${v}]) = ${r}`),
  fc
    .tuple(
      pidArb,
      fdArb,
      fc.constantFrom(
        'VHOST_SET_MEM_TABLE',
        'TUNSETIFF',
        'VFIO_GROUP_GET_DEVICE_FD',
        'VFIO_IOMMU_GET_INFO',
        'VHOST_VDPA_SET_CONFIG',
        'KVM_CREATE_DEVICE',
        'VFIO_GROUP_GET_STATUS',
      ),
      resArb,
    )
    .map(([p, fd, req, r]) => `${p}ioctl(${fd}, ${req}, 0x7ffd0000) = ${r}`),
  fc
    .tuple(
      pidArb,
      fdArb,
      fc.constantFrom(
        '"0000:03:00.0"',
        '{nregions=2, regions=[{guest_phys_addr=0, memory_size=0x1000, userspace_addr=0x7f0000000000}]}',
        '{ifr_name="tap0", ifr_flags=IFF_TAP}',
        '{type=KVM_DEV_TYPE_VFIO, flags=0} => {fd=9}',
        '{off=0, len=4, buf="ab"}',
      ),
      resArb,
    )
    .map(([p, fd, a, r]) => `${p}ioctl(${fd}, ${STRUCT_REQS[fd & 3]}, ${a}) = ${r}`),
  fc
    .tuple(pidArb, fdArb, bytesArb, fc.nat(100), resArb)
    .map(([p, fd, b, n, r]) => `${p}write(${fd}, "${b}", ${n}) = ${r}`),
  fc
    .tuple(pidArb, fdArb, bytesArb, fc.nat(100), resArb)
    .map(([p, fd, b, n, r]) => `${p}read(${fd}, "${b}", ${n}) = ${r}`),
  fc.tuple(pidArb, fdArb, resArb).map(([p, fd, r]) => `${p}close(${fd}) = ${r}`),
  fc
    .tuple(pidArb, fc.constantFrom(41, 42, 43, 44))
    .map(([p, c]) => `${p}clone(child_stack=NULL, flags=SIGCHLD) = ${c}`),
  fc.tuple(pidArb).map(([p]) => `${p}+++ exited with 0 +++`),
  fc.string({ maxLength: 40 }),
];

interface Fixture {
  story: string;
  /** the story's scenario the log is a trace of: its kernel, patches and (where several share them) name */
  kernel: string;
  patches?: string[];
  name?: string;
  lines: number;
  steps: number;
  folded: number;
  comments: number;
  /** the calls whose ret/errno differ from the story's, in order */
  diverge: string[];
}

/** Each seed story's fixture log, the kernel it was recorded on, and the counts it imports to. */
const FIXTURES: Fixture[] = [
  {
    story: 'crosvm-vsock-access-platform',
    kernel: '6.1',
    lines: 26,
    steps: 20,
    folded: 0,
    comments: 6,
    diverge: [],
  },
  // the guest's ring writes (poke) are not syscalls: imported, the kick finds an empty ring
  {
    story: 'qemu-vsock-masked',
    kernel: '6.1',
    lines: 32,
    steps: 22,
    folded: 1,
    comments: 9,
    diverge: ['read'],
  },
  { story: 'vfio-unbind-window', kernel: '6.1', lines: 28, steps: 20, folded: 6, comments: 2, diverge: [] },
  // two processes (strace -f -p OLD -p NEW): the old QEMU hands the vdpa fd and two eventfds to
  // the new one with SCM_RIGHTS, which takes ownership and REMAPs the old one's memfd-backed RAM.
  // Both frames the story loops back are guest memory: imported, each call eventfd reads EAGAIN.
  {
    story: 'vdpa-live-update',
    kernel: '6.12',
    patches: ['vhost-iotlb-remap', 'vhost-new-owner'],
    name: 'vdpa live update with NEW_OWNER and REMAP (suspend / resume)',
    lines: 48,
    steps: 46,
    folded: 1,
    comments: 1,
    diverge: ['read', 'read'],
  },
  // strace cannot decode VFIO structs: INFO and HOT_RESET show only their pointers
  {
    story: 'qemu-hot-reset-groups',
    kernel: '6.1',
    lines: 24,
    steps: 14,
    folded: 8,
    comments: 2,
    diverge: [],
  },
];

describe('vioctl import-strace: the seed stories round-trip', () => {
  for (const f of FIXTURES) {
    test(f.story, () => {
      const log = `fixtures/strace/${f.story}.log`;
      const imp = importLog(log, '--kernel', f.kernel, ...(f.patches ?? []).flatMap((p) => ['--patch', p]));
      expect(imp.summary).toContain(
        `${f.lines} lines, ${f.steps} as steps, ${f.folded} folded, ${f.comments} kept as comments`,
      );
      expect(imp.yaml.match(/^ {2}# \d+(-\d+)?: /gm) ?? []).toHaveLength(f.comments);
      expect(imp.yaml).toMatch(/^# mmap is not traced, so guest memory cannot be reproduced/m);
      const original = calls(runJson(`fixtures/stories/${f.story}.yaml`, f.kernel, f.name));
      expect(original.length).toBeGreaterThan(5);
      const run = runJson(imp.file);
      expect(run.ok).toBe(f.diverge.length === 0); // every expectation the log gave held
      const imported = calls(run);
      expect(imported.map((c) => c.key)).toEqual(original.map((c) => c.key));
      const differ = imported.flatMap((c, i) =>
        c.ret === original[i]!.ret && c.errno === original[i]!.errno ? [] : [c.key],
      );
      expect(differ).toEqual(f.diverge);
    });
  }

  test('the QEMU divergence is the guest memory the trace cannot show', () => {
    const imported = calls(
      runJson(importLog('fixtures/strace/qemu-vsock-masked.log', '--kernel', '6.1').file),
    );
    expect(imported.at(-1)).toEqual({ key: 'read', ret: -1, errno: 'EAGAIN' });
  });
});

describe('vioctl import-strace: the live update and the hot reset keep their story', () => {
  test('vdpa live update: SCM_RIGHTS become pass: steps, B owns the device and REMAPs the same memory', () => {
    const imp = importLog(
      'fixtures/strace/vdpa-live-update.log',
      '--kernel',
      '6.12',
      '--patch',
      'vhost-iotlb-remap',
      '--patch',
      'vhost-new-owner',
    );
    expect(imp.yaml).toContain('patches: [vhost-iotlb-remap, vhost-new-owner]');
    expect(imp.yaml).toMatch(
      /- pass: vdpa0_3\n {4}to: p4100\n {4}as: vdpa0_3\n {4}note: "SCM_RIGHTS: fd 3 of the sender is fd 12/,
    );
    expect(imp.yaml).toMatch(/- pass: efd7\n {4}to: p4100/);
    // A's RAM becomes a memfd, and B maps that object where its REMAP names it
    expect(imp.yaml).toMatch(/- mmap: ram0\n {4}size: 0x100000\n {4}at: 0x7f3a40000000\n {4}memfd: true/);
    expect(imp.yaml).toMatch(
      /- mmap: ram2\n {4}process: p4100\n {4}size: 0x100000\n {4}at: 0x7f5c80000000\n {4}object: ram0/,
    );
    const run = runJson(imp.file);
    const by = (call: string, proc: string) =>
      run.steps
        .filter((s) => s.call === call && (s as { process?: string }).process === proc)
        .map((s) => [s.ret, s.errno]);
    expect(by('VHOST_SET_OWNER', 'p4100')).toEqual([[-1, 'EBUSY']]);
    expect(by('VHOST_NEW_OWNER', 'p4100')).toEqual([
      [0, null],
      [-1, 'EBUSY'],
    ]);
    expect(by('VHOST_VDPA_RESUME', 'p4100')).toEqual([[0, null]]);
    // every REMAP names memory of the entry's object: no remap diagnostic anywhere
    const diags = run.steps.flatMap((s) => (s as { diagnostics?: { code: string }[] }).diagnostics ?? []);
    expect(diags.map((d) => d.code)).toEqual([]);
    // without the patches the same log is the story's "series never merged" answer
    const plain = runJson(importLog('fixtures/strace/vdpa-live-update.log', '--kernel', '6.12').file);
    expect(plain.ok).toBe(false);
    expect(plain.steps.find((s) => s.call === 'VHOST_NEW_OWNER')).toMatchObject({ ret: -1 });
  });

  test('hot reset: INFO follows QEMU (header first, then the count it answered), RESET passes the groups', () => {
    const imp = importLog('fixtures/strace/qemu-hot-reset-groups.log', '--kernel', '6.1');
    expect(imp.yaml).toMatch(/arg: \{count: 0\}\n {4}save: \{device11_count: count\}\n {4}expect: ENOSPC/);
    expect(imp.yaml).toMatch(/arg: \{count: \$device11_count\}\n {4}expect: 0/);
    expect(imp.yaml).toMatch(
      /ioctl: VFIO_DEVICE_PCI_HOT_RESET\n.*\n.*\n {4}arg: \{group_fds: \[\$group6_10\]\}/,
    );
    const reset = runJson(imp.file).steps.filter((s) => s.call.startsWith('VFIO_DEVICE_'));
    expect(reset.map((s) => [s.call, s.ret, s.errno])).toEqual([
      ['VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', -1, 'ENOSPC'],
      ['VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', 0, null],
      ['VFIO_DEVICE_PCI_HOT_RESET', 0, null],
    ]);
    // the same log on 6.1 with the sibling left on its host driver is refused, as the story's variant is
    const lone = join(dir, 'lone.log');
    writeFileSync(
      lone,
      readFileSync('fixtures/strace/qemu-hot-reset-groups.log', 'utf8')
        .split('\n')
        .filter((_l, i) => i < 6 || i > 11)
        .join('\n'),
    );
    const r = runJson(importLog(lone, '--kernel', '6.1').file);
    expect(r.steps.find((s) => s.call === 'VFIO_DEVICE_PCI_HOT_RESET')?.errno).not.toBeNull();
  });
});

describe('vioctl import-strace: decoding', () => {
  test('VFIO numbers that collide are decided by the fd type', () => {
    const y = importText(
      [
        'openat(AT_FDCWD, "/dev/vfio/vfio", O_RDWR) = 3',
        'ioctl(3, 0x3b70, 0x7ffc1000) = -1 EINVAL (Invalid argument)',
        'ioctl(3, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO or VFIO_IOMMU_GET_INFO, 0x7ffc1000) = -1 EINVAL (x)',
        'ioctl(3, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, 0x7ffc1000) = -1 EINVAL (Invalid argument)',
        'openat(AT_FDCWD, "/dev/vfio/8", O_RDWR) = 4',
        'ioctl(4, VFIO_GROUP_GET_DEVICE_FD, "0000:03:00.0") = 5',
        'ioctl(5, 0x3b70, 0x7ffc1000) = -1 ENOSPC (No space left on device)',
      ].join('\n'),
    );
    expect(y.match(/ioctl: VFIO_IOMMU_GET_INFO\n/g)).toHaveLength(3);
    expect(y).toContain('strace named it VFIO_DEVICE_GET_PCI_HOT_RESET_INFO; on a vfio-container fd it is');
    expect(y).toMatch(/ioctl: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO\n {4}fd: device5\n/);
    expect(y).toContain('expect: ENOSPC');
  });

  test('unknown numbers stay raw, _IOC() is decoded, pointers are noted', () => {
    const y = importText(
      [
        'openat(AT_FDCWD, "/dev/vhost-vsock", O_RDWR|O_NONBLOCK) = 3',
        'ioctl(3, 0x4008af99, 0x7ffc1000) = -1 ENOTTY (Inappropriate ioctl for device)',
        'ioctl(3, _IOC(_IOC_READ, 0xaf, 0x26, 0x8), [0]) = 0',
        'ioctl(3, 0x4008af00, 0x7ffc1000) = 0',
      ].join('\n'),
    );
    expect(y).toMatch(
      /ioctl: "0x4008af99"\n {4}fd: vsock3\n {4}expect: ENOTTY\n {4}note: "0x4008af99: no ioctl/,
    );
    expect(y).toContain('kept raw; the log shows only the argument pointer');
    expect(y).toContain('ioctl: VHOST_GET_BACKEND_FEATURES');
    expect(y).toMatch(
      /ioctl: VHOST_SET_FEATURES\n {4}fd: vsock3\n {4}expect: 0\n {4}note: "the log shows only/,
    );
    expect(y).toContain('flags: [O_RDWR, O_NONBLOCK]');
  });

  test('IOTLB writes are decoded from their bytes; cut buffers and reads', () => {
    const b = Buffer.alloc(72);
    b.writeUInt32LE(2, 0); // VHOST_IOTLB_MSG_V2
    b.writeUInt32LE(1, 4); // asid
    b.writeBigUInt64LE(0x1000n, 8);
    b.writeBigUInt64LE(0x2000n, 16);
    b.writeBigUInt64LE(0x7f0000000000n, 24);
    b[32] = 3; // RW
    b[33] = 2; // UPDATE
    const esc = [...b].map((x) => `\\x${x.toString(16).padStart(2, '0')}`).join('');
    const y = importText(
      [
        'openat(AT_FDCWD, "/dev/vhost-vdpa-0", O_RDWR) = 3',
        `write(3, "${esc}", 72) = 72`,
        `write(3, "${esc.slice(0, 32 * 4)}"..., 72) = 72`,
        `write(3, "${esc.slice(0, 40 * 4)}", 40) = -1 EINVAL (Invalid argument)`,
        'read(3, 0x7ffc1000, 72) = -1 EAGAIN (Resource temporarily unavailable)',
      ].join('\n'),
    );
    expect(y).toContain(
      'iotlb: {type: UPDATE, iova: 4096, size: 8192, uaddr: 0x7f0000000000, perm: RW, asid: 1}',
    );
    expect(y).toMatch(/mmap: ram0\n {4}size: 8192\n {4}at: 0x7f0000000000/);
    expect(y).toContain('version: 2');
    expect(y).toContain('strace cut the buffer (-s): rerun with -s 256');
    expect(y).toMatch(/data: "0200000001000000/);
    expect(y).toMatch(/read: vdpa0_3\n {4}nonblock: true\n {4}expect: EAGAIN/);
  });

  test('hot reset structs in the symbolic form; a cdev-opened device resets with no groups', () => {
    const y = importText(
      [
        'openat(AT_FDCWD, "/dev/vfio/vfio", O_RDWR) = 3',
        'openat(AT_FDCWD, "/dev/vfio/6", O_RDWR) = 4',
        'ioctl(4, VFIO_GROUP_SET_CONTAINER, [3]) = 0',
        'ioctl(3, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) = 0',
        'ioctl(4, VFIO_GROUP_GET_DEVICE_FD, "0000:01:00.0") = 5',
        'ioctl(5, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, {argsz=12, flags=0, count=0} => {flags=0, count=2}) = -1 ENOSPC (No space left on device)',
        'ioctl(5, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, {argsz=28, flags=0, count=2} => {flags=0, count=2, devices=[{group_id=6, segment=0, bus=0x1, devfn=0}, {group_id=6, segment=0, bus=0x1, devfn=0x1}]}) = 0',
        'ioctl(5, VFIO_DEVICE_PCI_HOT_RESET, {argsz=16, flags=0, count=1, group_fds=[4, 99]}) = 0',
        'openat(AT_FDCWD, "/dev/vfio/devices/vfio0", O_RDWR) = 6',
        'ioctl(6, 0x3b71, 0x7ffd0000) = -1 EINVAL (Invalid argument)',
      ].join('\n'),
    );
    expect(y).toContain('arg: {argsz: 12, flags: 0, count: 0}\n    expect: ENOSPC');
    expect(y).toContain(
      'expect: {ret: 0, out: {flags: 0, count: 2, devices: [{group_id: 6, segment: 0, bus: 1, devfn: 0}, {group_id: 6, segment: 0, bus: 1, devfn: 1}]}}',
    );
    expect(y).toContain('arg: {argsz: 16, flags: 0, count: 1, group_fds: [$group6_4, 99]}');
    expect(y).toContain('fd 99 was not opened in the log: kept as a number');
    expect(y).toMatch(
      /fd: vfio0_6\n {4}arg: \{group_fds: \[\]\}\n {4}expect: EINVAL\n {4}note: "the log shows only the pointer: a cdev-opened/,
    );
  });

  test('SCM_RIGHTS: symbolic and raw cmsg fields; sends nobody receives and receives nobody sent stay comments', () => {
    const y = importText(
      [
        '7  openat(AT_FDCWD, "/dev/vhost-vsock", O_RDWR) = 3',
        '7  openat(AT_FDCWD, "/etc/hosts", O_RDONLY) = 4',
        '7  sendmsg(5, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=24, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[3, 4]}], msg_controllen=24, msg_flags=0}, 0) = 1',
        '8  recvmsg(6, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=24, cmsg_level=0x1, cmsg_type=0x1, cmsg_data=[9, 10]}], msg_controllen=24, msg_flags=0}, 0) = 1',
        '8  ioctl(9, VHOST_SET_OWNER, 0) = 0',
        '8  ioctl(10, VHOST_SET_OWNER, 0) = 0',
        '7  sendmsg(5, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=20, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[3]}], msg_controllen=24, msg_flags=0}, 0) = 1',
        '8  recvmsg(6, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_control=[{cmsg_len=24, cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[11, 12]}], msg_controllen=24, msg_flags=0}, 0) = 1',
        '8  sendmsg(6, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="x", iov_len=1}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 1',
      ].join('\n'),
    );
    expect(y).toMatch(
      /- spawn: p8\n.*\n {2}- pass: vsock3\n {4}to: p8\n {4}as: vsock3\n {4}note: "SCM_RIGHTS: fd 3 of the sender is fd 9/,
    );
    expect(y).toMatch(/- ioctl: VHOST_SET_OWNER\n {4}process: p8\n {4}fd: vsock3\n {4}expect: 0/);
    expect(y).toMatch(
      /# 6: 8 +ioctl\(10, VHOST_SET_OWNER, 0\) = 0 {2}\[fd not opened in the log\]/, // /etc/hosts is not passed
    );
    expect(y).toMatch(/# 7: .*\[fds sent, but no recvmsg in the log takes them\]/);
    expect(y).toMatch(/# 8: .*\[fds received from no send in the log\]/);
    expect(y).toMatch(/# 9: .*\[no fds in it \(SCM_RIGHTS\)\]/);
  });

  test('pids become processes: fork where the clone is in the log, else spawn', () => {
    const y = importText(
      [
        '100   openat(AT_FDCWD, "/dev/vhost-net", O_RDWR) = 3',
        '100   clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x7f00) = 101',
        '101   ioctl(3, VHOST_SET_OWNER, 0) = 0',
        '100   clone(child_stack=0x7f01, flags=0x3d0f00) = 102',
        '102   ioctl(3, VHOST_GET_FEATURES, [0x1]) = 0',
        '103   ioctl(3, VHOST_SET_OWNER, 0) = -1 EBADF (Bad file descriptor)',
        '101   +++ exited with 0 +++',
        'strace: Process 104 attached',
      ].join('\n'),
    );
    expect(y).toMatch(/- fork: p101\n {2}- ioctl: VHOST_SET_OWNER\n {4}process: p101\n {4}fd: net3/);
    expect(y).not.toContain('p102'); // CLONE_THREAD|CLONE_FILES: a thread of the parent, same fds
    expect(y).toMatch(/- spawn: p103\n {4}note: "no clone\/fork of pid 103/);
    expect(y).toMatch(/# 6: 103 +ioctl\(3, VHOST_SET_OWNER.*\[fd not opened in the log\]/);
    expect(y).toContain('- exit: p101');
    expect(y).toContain('# 8: strace: Process 104 attached  [not a syscall line]');
  });

  test('sysfs files become sysfs: steps; reads expect the text', () => {
    const y = importText(
      [
        'openat(AT_FDCWD, "/sys/bus/pci/devices/0000:02:00.0/driver_override", O_RDONLY) = 3',
        'read(3, "(null)\\n", 4096) = 7',
        'read(3, "", 4096) = 0',
        'close(3) = 0',
        'openat(AT_FDCWD, "/sys/bus/pci/devices/0000:02:00.0/driver_override", O_WRONLY|O_TRUNC) = 3',
        'write(3, "vfio-pci\\n", 9) = 9',
        'close(3) = 0',
      ].join('\n'),
    );
    expect(y).toContain('expect: {ret: 7, out: "(null)"}');
    expect(y).toMatch(/value: "vfio-pci\\n"\n {4}expect: 9/);
  });

  test('--name, stdout, an empty log, a missing file', () => {
    const y = importText('write(1, "hello\\n", 6) = 6\n', '--name', 'nothing here');
    expect(y).toContain('name: "nothing here"');
    expect(y).toContain('# 1: write(1, "hello\\n", 6) = 6  [fd not opened in the log]');
    expect(y).toContain('- inspect: fds');
    const r = cli('import-strace', join(dir, 'no-such.log'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no-such\.log:1:1: cannot read the file/);
    expect(r.out).toBe('');
  });
});

describe('vioctl import-strace: what a log holds never makes the output unloadable', () => {
  test('values too wide, paths that leave /sys, fds out of range, huge buffers', () => {
    const y = importText(
      [
        'openat(AT_FDCWD, "/sys/bus/pci/../../etc/passwd", O_WRONLY) = 3',
        'write(3, "x", 1) = 1',
        'openat(AT_FDCWD, "/dev/vhost-vsock", O_RDWR) = 4',
        `write(4, "${'\\x00'.repeat(5000)}", 5000) = -1 EINVAL (Invalid argument)`,
        'read(4, 0x7ff, 4294967295) = -1 EAGAIN (Resource temporarily unavailable)',
        'ioctl(4, VHOST_SET_VRING_NUM, {index=0x100000000, num=-5}) = -1 EINVAL (Invalid argument)',
        'ioctl(4, VHOST_SET_FEATURES, [0x1ffffffffffffffff]) = 0',
        'ioctl(4, VHOST_SET_VRING_KICK, {index=0, fd=99999999999}) = 0',
        'ioctl(4, _IOC(_IOC_READ, 0xaf, 0x26, 0x99999), 0) = 0',
        'ioctl(4, VHOST_SET_OWNER, 0) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)',
        'ioctl(4, VHOST_SET_OWNER, 0) = -1 EBOGUS (Made up)',
        '[pid 77] <... ioctl resumed>) = 0',
        'ioctl(4, VHOST_GET_FEATURES <unfinished ...>',
      ].join('\n'),
    );
    expect(y).toContain('# 1: openat(AT_FDCWD, "/sys/bus/pci/../../etc/passwd"');
    expect(y).toContain('index: 0x100000000 does not fit its u32: dropped');
    expect(y).toContain("strace's errno EBOGUS is unknown to vioctl");
    expect(y).toContain('[unfinished, never resumed]');
  });

  fcTest.prop([fc.array(fc.oneof(...LINE_PARTS), { maxLength: 25 })], { numRuns: 60 })(
    'random strace-like logs import to scenarios that load and run',
    (lines) => {
      const { yaml } = importStrace(lines.join('\n'), { file: 'random.log', kernel: '6.1' });
      const file = join(dir, 'random.yaml');
      writeFileSync(file, yaml);
      const scenarios = loadScenarios([file], {});
      for (const s of scenarios) expect(runScenario(s, { register: registerDrivers }).error).toBeUndefined();
    },
  );
});

// The errno paths of the vhost core that the oracle's scripts do not reach:
// faulting argument pointers, checks against running queues, and the VFS
// entry points. Each names the kernel function whose check decides.
import { describe, expect, test } from 'vitest';
import { O_WRONLY } from '../../../src/kernel/kernel.js';
import { vhost_vring_addr, vhost_vring_file } from '../../../src/uapi/vhost.js';
import {
  expectErrno,
  expectOk,
  type Fixture,
  ioctlInt,
  ioctlStruct,
  ioctlU64,
  makeKernel,
  nr,
  openFd,
} from '../../helpers/kernel.js';

type Dev = Fixture & { fd: number };

function ownedVsock(version = '6.1'): Dev {
  const f = makeKernel(version);
  const fd = openFd(f, '/dev/vhost-vsock');
  expectOk(f.k.ioctl(f.p, fd, nr('VHOST_SET_OWNER'), 0n));
  return { ...f, fd };
}

/** The last 4 bytes of a mapping: an index is readable there, a whole struct is not. */
function tailPointer(f: Fixture): bigint {
  const m = f.k.mmap(f.p, { size: 0x1000n, prot: 3, kind: 'anon', at: 0x100000n });
  if (m.ok !== true) throw new Error('mmap');
  return (m.ret as bigint) + 0x1000n - 4n;
}

/** A running device without an IOTLB (5.10): rings at valid addresses of a 1 MiB mapping. */
function runningVsock510(): Dev & { mem: bigint } {
  const f = ownedVsock('5.10');
  const m = f.k.mmap(f.p, { size: 0x100000n, prot: 3, kind: 'shared-anon' });
  const mem = (m as { ret: bigint }).ret;
  const table = new Uint8Array(40);
  const v = new DataView(table.buffer);
  v.setUint32(0, 1, true);
  v.setBigUint64(16, 0x100000n, true);
  v.setBigUint64(24, mem, true);
  expectOk(f.k.ioctl(f.p, f.fd, nr('VHOST_SET_MEM_TABLE'), f.k.stage(f.p, table)));
  for (const index of [0n, 1n]) {
    const base = mem + index * 0x10000n;
    const addr = {
      index,
      desc_user_addr: base,
      avail_user_addr: base + 0x1000n,
      used_user_addr: base + 0x2000n,
    };
    expectOk(ioctlStruct(f, f.fd, 'VHOST_SET_VRING_ADDR', vhost_vring_addr, addr));
  }
  expectOk(ioctlInt(f, f.fd, 'VHOST_VSOCK_SET_RUNNING', 1));
  return { ...f, mem };
}

describe('NULL argument pointers: copy_from_user / copy_to_user fail with EFAULT', () => {
  test.each([
    ['VHOST_SET_MEM_TABLE', 'vhost_set_memory'],
    ['VHOST_SET_LOG_BASE', 'vhost_dev_ioctl'],
    ['VHOST_SET_LOG_FD', 'vhost_dev_ioctl'],
    ['VHOST_SET_VRING_NUM', 'vhost_vring_ioctl'],
    ['VHOST_GET_FEATURES', 'vhost_vsock_dev_ioctl'],
    ['VHOST_SET_FEATURES', 'vhost_vsock_dev_ioctl'],
    ['VHOST_GET_BACKEND_FEATURES', 'vhost_vsock_dev_ioctl'],
    ['VHOST_SET_BACKEND_FEATURES', 'vhost_vsock_dev_ioctl'],
    ['VHOST_VSOCK_SET_GUEST_CID', 'vhost_vsock_dev_ioctl'],
    ['VHOST_VSOCK_SET_RUNNING', 'vhost_vsock_dev_ioctl'],
  ])('%s @ 6.1 with argp NULL is EFAULT in %s', (name, fn) => {
    const f = ownedVsock();
    expectErrno(f.k.ioctl(f.p, f.fd, nr(name), 0n), 'EFAULT', fn);
  });

  test.each([
    'VHOST_SET_VRING_NUM',
    'VHOST_SET_VRING_ADDR',
    'VHOST_SET_VRING_BASE',
    'VHOST_GET_VRING_BASE',
    'VHOST_SET_VRING_KICK',
    'VHOST_SET_VRING_BUSYLOOP_TIMEOUT',
    'VHOST_GET_VRING_BUSYLOOP_TIMEOUT',
  ])('vhost_vring_ioctl @ 6.1: %s reads the index, then faults on the struct (EFAULT)', (name) => {
    const f = ownedVsock();
    const r = f.k.ioctl(f.p, f.fd, nr(name), tailPointer(f));
    expectErrno(r, 'EFAULT');
    expect(r.ok === false && r.site.check).toMatch(/copy_(from|to)_user/);
  });
});

describe('checks against running queues', () => {
  test('vhost_set_memory @ 5.10: a table a running vq cannot reach is EFAULT and the old one stays', () => {
    const f = runningVsock510();
    const table = new Uint8Array(40);
    const v = new DataView(table.buffer);
    v.setUint32(0, 1, true);
    v.setBigUint64(16, 0x1000n, true);
    v.setBigUint64(24, 0xffff800000000000n, true);
    const r = f.k.ioctl(f.p, f.fd, nr('VHOST_SET_MEM_TABLE'), f.k.stage(f.p, table));
    expectErrno(r, 'EFAULT', 'vhost_set_memory');
    expect(r.ok === false && r.site.check).toBe('!memory_access_ok(d, newumem, 0)');
  });

  test('vhost_vring_set_addr @ 5.10: a running vq refuses rings outside user space (EINVAL)', () => {
    const f = runningVsock510();
    const bad = {
      index: 0n,
      desc_user_addr: f.mem,
      avail_user_addr: f.mem,
      used_user_addr: 0xffff800000000000n,
    };
    expectErrno(
      ioctlStruct(f, f.fd, 'VHOST_SET_VRING_ADDR', vhost_vring_addr, bad),
      'EINVAL',
      'vhost_vring_set_addr',
    );
  });

  test('vhost_vring_ioctl @ 5.10: NUM and BASE are EBUSY while running, ADDR is allowed', () => {
    const f = runningVsock510();
    expectErrno(
      ioctlStruct(f, f.fd, 'VHOST_SET_VRING_NUM', vhost_vring_file, { index: 0n, fd: 4n }),
      'EBUSY',
    );
    expectErrno(
      ioctlStruct(f, f.fd, 'VHOST_SET_VRING_BASE', vhost_vring_file, { index: 1n, fd: 0n }),
      'EBUSY',
    );
    const ok = {
      index: 0n,
      desc_user_addr: f.mem,
      avail_user_addr: f.mem + 0x1000n,
      used_user_addr: f.mem + 0x2000n,
    };
    expectOk(ioctlStruct(f, f.fd, 'VHOST_SET_VRING_ADDR', vhost_vring_addr, ok));
  });
});

describe('eventfd arguments (eventfd_ctx_fdget)', () => {
  test('VHOST_SET_LOG_FD: a closed fd is EBADF, a vhost fd is EINVAL, -1 unbinds', () => {
    const f = ownedVsock();
    expectErrno(ioctlInt(f, f.fd, 'VHOST_SET_LOG_FD', 77), 'EBADF');
    expectErrno(ioctlInt(f, f.fd, 'VHOST_SET_LOG_FD', f.fd), 'EINVAL', 'vhost_dev_ioctl');
    expectOk(ioctlInt(f, f.fd, 'VHOST_SET_LOG_FD', -1));
  });

  test('VHOST_SET_VRING_CALL: a non-eventfd is EINVAL, an eventfd is 0', () => {
    const f = ownedVsock();
    expectErrno(
      ioctlStruct(f, f.fd, 'VHOST_SET_VRING_CALL', vhost_vring_file, { index: 0n, fd: BigInt(f.fd) }),
      'EINVAL',
    );
    const e = f.k.eventfd(f.p);
    expectOk(
      ioctlStruct(f, f.fd, 'VHOST_SET_VRING_CALL', vhost_vring_file, {
        index: 0n,
        fd: BigInt(e.ok ? e.ret : 0),
      }),
    );
  });

  test('vhost_log_access_ok is not consulted without a running vq: LOG_ALL alone is accepted', () => {
    const f = ownedVsock();
    expectOk(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 1n << 26n).r);
  });
});

describe('the VFS entry points (ksys_read, vfs_read, ksys_write, vfs_write, do_mmap, __do_munmap)', () => {
  test('read and write of a closed fd are EBADF', () => {
    const f = makeKernel();
    expectErrno(f.k.read(f.p, 9, 0n, 8, true), 'EBADF', 'ksys_read');
    expectErrno(f.k.write(f.p, 9, 0n, 8), 'EBADF', 'ksys_write');
  });

  test('read of a file opened O_WRONLY is EBADF; a file without read is EINVAL (vhost-vsock on 5.10)', () => {
    const f = makeKernel('5.10');
    const w = f.k.open(f.p, '/dev/vhost-vsock', O_WRONLY);
    expectOk(w);
    expectErrno(f.k.read(f.p, (w as { ret: number }).ret, 0n, 72, true), 'EBADF', 'vfs_read');
    const rw = openFd(f, '/dev/vhost-vsock');
    expectErrno(f.k.read(f.p, rw, 0n, 72, true), 'EINVAL', 'vfs_read');
  });

  test('write of a file opened O_RDONLY is EBADF', () => {
    const f = makeKernel();
    const r = f.k.open(f.p, '/dev/vhost-vsock', 0);
    expectErrno(f.k.write(f.p, (r as { ret: number }).ret, 0n, 72), 'EBADF', 'vfs_write');
  });

  test('mmap of 0 bytes and a misaligned fixed address are EINVAL; munmap likewise', () => {
    const f = makeKernel();
    expectErrno(f.k.mmap(f.p, { size: 0n, prot: 3, kind: 'anon' }), 'EINVAL', 'do_mmap');
    expectErrno(f.k.mmap(f.p, { size: 0x1000n, prot: 3, kind: 'anon', at: 0x10001n }), 'EINVAL', 'do_mmap');
    expectErrno(f.k.munmap(f.p, 0x10001n, 0x1000n), 'EINVAL', '__do_munmap');
    expectErrno(f.k.munmap(f.p, 0x10000n, 0n), 'EINVAL', '__do_munmap');
  });

  test('eventfd_write: a short buffer EINVAL, an unreadable one EFAULT, an overflowing count EAGAIN', () => {
    const f = makeKernel();
    const e = (f.k.eventfd(f.p) as { ret: number }).ret;
    expectErrno(f.k.write(f.p, e, f.k.stage(f.p, new Uint8Array(8)), 4), 'EINVAL', 'eventfd_write');
    expectErrno(f.k.write(f.p, e, 0n, 8), 'EFAULT', 'eventfd_write');
    const big = new Uint8Array(8).fill(0xff);
    big[0] = 0xfe;
    expectOk(f.k.write(f.p, e, f.k.stage(f.p, big), 8), 8);
    const one = new Uint8Array(8);
    one[0] = 1;
    expectErrno(f.k.write(f.p, e, f.k.stage(f.p, one), 8), 'EAGAIN', 'eventfd_write');
  });

  test('eventfd_read into an unwritable buffer is EFAULT and keeps the count', () => {
    const f = makeKernel();
    const e = (f.k.eventfd(f.p, 5n) as { ret: number }).ret;
    expectErrno(f.k.read(f.p, e, 0n, 8, true), 'EFAULT', 'eventfd_read');
    expect(f.k.eventfdOf(f.p, e)?.count).toBe(5n);
  });
});

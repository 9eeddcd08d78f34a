import { describe, expect, test } from 'vitest';
import { MemObject, Mm, PROT_READ, PROT_WRITE } from '../../src/kernel/memory.js';
import { expectErrno, expectOk, makeKernel } from '../helpers/kernel.js';

describe('address spaces and copy_{from,to}_user', () => {
  test('copy_from_user of an unmapped or NULL pointer fails (the EFAULT of every caller)', () => {
    const mm = new Mm(1, 0x7f0000000000n);
    expect(mm.copyFromUser(0n, 8)).toBeUndefined();
    expect(mm.copyFromUser(0x1000n, 1)).toBeUndefined();
  });

  test('copy_to_user needs PROT_WRITE and writes nothing on a fault', () => {
    const mm = new Mm(1, 0x7f0000000000n);
    const ro = new MemObject('anon', 0x1000n, 1);
    mm.insert({ start: 0x10000n, end: 0x11000n, obj: ro, pgoff: 0n, prot: PROT_READ, shared: false });
    expect(mm.copyToUser(0x10000n, new Uint8Array([1]))).toBe(false);
    expect(mm.copyFromUser(0x10000n, 1)).toEqual(new Uint8Array([0]));
  });

  test('a copy crossing two mappings works only when both are there', () => {
    const mm = new Mm(1, 0x7f0000000000n);
    const a = new MemObject('anon', 0x1000n, 1);
    const b = new MemObject('anon', 0x1000n, 2);
    const rw = PROT_READ | PROT_WRITE;
    mm.insert({ start: 0x10000n, end: 0x11000n, obj: a, pgoff: 0n, prot: rw, shared: false });
    expect(mm.copyToUser(0x10ffen, new Uint8Array([1, 2, 3, 4]))).toBe(false);
    mm.insert({ start: 0x11000n, end: 0x12000n, obj: b, pgoff: 0n, prot: rw, shared: false });
    expect(mm.copyToUser(0x10ffen, new Uint8Array([1, 2, 3, 4]))).toBe(true);
    expect(mm.copyFromUser(0x10ffen, 4)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(b.read(0n, 2)).toEqual(new Uint8Array([3, 4]));
  });

  test('mmap places mappings top-down and deterministically; MAP_FIXED_NOREPLACE over one is EEXIST', () => {
    const f = makeKernel();
    const a = f.k.mmap(f.p, { size: 0x1000n, prot: 3, kind: 'anon' });
    const b = f.k.mmap(f.p, { size: 0x1000n, prot: 3, kind: 'anon' });
    expectOk(a);
    expectOk(b);
    expect((b as { ret: bigint }).ret).toBe((a as { ret: bigint }).ret - 0x1000n);
    expectErrno(
      f.k.mmap(f.p, { size: 0x1000n, prot: 3, kind: 'anon', at: (a as { ret: bigint }).ret }),
      'EEXIST',
    );
    const again = makeKernel();
    expect(again.k.mmap(again.p, { size: 0x1000n, prot: 3, kind: 'anon' })).toEqual(a);
  });

  test('do_mmap: a length past TASK_SIZE, or one whose PAGE_ALIGN wraps, is ENOMEM', () => {
    const f = makeKernel();
    expectErrno(
      f.k.mmap(f.p, { size: 0x800000000000n, prot: 3, kind: 'anon' }),
      'ENOMEM',
      'get_unmapped_area',
    );
    expectErrno(f.k.mmap(f.p, { size: 0xffffffffffffffffn, prot: 3, kind: 'anon' }), 'ENOMEM', 'do_mmap');
    expectOk(f.k.mmap(f.p, { size: 0x1000n, prot: 3, kind: 'anon' }));
  });

  test('fork copies private memory and shares shared memory', () => {
    const f = makeKernel();
    const priv = (f.k.mmap(f.p, { size: 0x1000n, prot: 3, kind: 'anon' }) as { ret: bigint }).ret;
    const shm = (f.k.mmap(f.p, { size: 0x1000n, prot: 3, kind: 'shared-anon' }) as { ret: bigint }).ret;
    const child = f.k.fork(f.p, 'child');
    child.mm.copyToUser(priv, new Uint8Array([7]));
    child.mm.copyToUser(shm, new Uint8Array([9]));
    expect(f.p.mm.copyFromUser(priv, 1)).toEqual(new Uint8Array([0]));
    expect(f.p.mm.copyFromUser(shm, 1)).toEqual(new Uint8Array([9]));
  });

  test('spawned processes get distinct address ranges', () => {
    const f = makeKernel();
    const q = f.k.spawn('other');
    const a = (f.k.mmap(f.p, { size: 0x1000n, prot: 3, kind: 'anon' }) as { ret: bigint }).ret;
    const b = (f.k.mmap(q, { size: 0x1000n, prot: 3, kind: 'anon' }) as { ret: bigint }).ret;
    expect(a).not.toBe(b);
  });
});

describe('fd tables and the release path', () => {
  test('fds are the lowest free number from 3; close of a closed fd is EBADF (close_fd)', () => {
    const f = makeKernel();
    const a = f.k.eventfd(f.p);
    const b = f.k.eventfd(f.p);
    expectOk(a, 3);
    expectOk(b, 4);
    expectOk(f.k.close(f.p, 3));
    expectOk(f.k.eventfd(f.p), 3);
    expectOk(f.k.close(f.p, 4));
    expectErrno(f.k.close(f.p, 4), 'EBADF', 'close_fd');
  });

  test('ksys_ioctl on a bad fd is EBADF; an eventfd has no ioctl: ENOTTY (vfs_ioctl)', () => {
    const f = makeKernel();
    expectErrno(f.k.ioctl(f.p, 99, 0, 0n), 'EBADF', 'ksys_ioctl');
    expectOk(f.k.eventfd(f.p), 3);
    expectErrno(f.k.ioctl(f.p, 3, 0xaf01, 0n), 'ENOTTY', 'vfs_ioctl');
  });

  test('open of a node the machine lacks is ENOENT', () => {
    const f = makeKernel();
    expectErrno(f.k.open(f.p, '/dev/nonexistent', 2), 'ENOENT');
  });

  test('a file shared by fork is released only when the last process closes it', () => {
    const f = makeKernel();
    expectOk(f.k.open(f.p, '/dev/vhost-vsock', 2), 3);
    const child = f.k.fork(f.p, 'child');
    const file = f.p.fds.get(3)!;
    expect(file.refs).toBe(2);
    f.k.close(f.p, 3);
    expect(file.released).toBe(false);
    f.k.exit(child);
    expect(file.released).toBe(true);
    expect(f.k.files.size).toBe(0);
  });
});

describe('eventfd (fs/eventfd.c)', () => {
  test('eventfd_read: EAGAIN at 0, the counter then 0 again; short buffer EINVAL', () => {
    const f = makeKernel();
    expectOk(f.k.eventfd(f.p), 3);
    const buf = f.k.stage(f.p, new Uint8Array(8));
    expectErrno(f.k.read(f.p, 3, buf, 8, true), 'EAGAIN', 'eventfd_read');
    const one = new Uint8Array(8);
    one[0] = 2;
    expectOk(f.k.write(f.p, 3, f.k.stage(f.p, one), 8), 8);
    expectOk(f.k.read(f.p, 3, buf, 8, true), 8);
    expect(f.p.mm.copyFromUser(buf, 1)).toEqual(new Uint8Array([2]));
    expectErrno(f.k.read(f.p, 3, buf, 4, true), 'EINVAL', 'eventfd_read');
  });

  test('eventfd_write of ULLONG_MAX is EINVAL', () => {
    const f = makeKernel();
    expectOk(f.k.eventfd(f.p), 3);
    expectErrno(
      f.k.write(f.p, 3, f.k.stage(f.p, new Uint8Array(8).fill(0xff)), 8),
      'EINVAL',
      'eventfd_write',
    );
  });
});

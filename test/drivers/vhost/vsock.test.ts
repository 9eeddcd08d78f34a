// drivers/vhost/vsock.c and the vhost core as vhost-vsock reaches it.
import { describe, expect, test } from 'vitest';
import { vhostVsockDriver } from '../../../src/drivers/vhost/vsock.js';
import type { StateTables } from '../../../src/kernel/registry.js';
import { encodeStruct } from '../../../src/uapi/struct.js';
import { vhost_memory, vhost_vring_addr, vhost_vring_state } from '../../../src/uapi/vhost.js';
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

const AP = 1n << 33n;
const V1 = 1n << 32n;

function vsock(version = '6.1'): Fixture & { fd: number } {
  const f = makeKernel(version);
  return { ...f, fd: openFd(f, '/dev/vhost-vsock') };
}

function owned(version = '6.1') {
  const f = vsock(version);
  expectOk(f.k.ioctl(f.p, f.fd, nr('VHOST_SET_OWNER'), 0n));
  return f;
}

function msg(type: number, iova: bigint, size: bigint, uaddr: bigint, perm: number, version = 1): Uint8Array {
  const b = new Uint8Array(72);
  const v = new DataView(b.buffer);
  v.setUint32(0, version, true);
  v.setBigUint64(8, iova, true);
  v.setBigUint64(16, size, true);
  v.setBigUint64(24, uaddr, true);
  b[32] = perm;
  b[33] = type;
  return b;
}

function write(f: Fixture & { fd: number }, bytes: Uint8Array, len = bytes.length) {
  return f.k.write(f.p, f.fd, f.k.stage(f.p, bytes), len);
}

describe('VHOST_GET_FEATURES per release (VHOST_VSOCK_FEATURES)', () => {
  test.each([
    ['5.10', 0x13d000000n],
    ['5.15', 0x33d000002n],
    ['6.1', 0x33d000002n],
    ['6.12', 0x33d000002n],
  ])('vhost_vsock_dev_ioctl @ %s offers %s, without an owner', (ver, want) => {
    const f = vsock(ver);
    const { r, out } = ioctlU64(f, f.fd, 'VHOST_GET_FEATURES');
    expectOk(r, 0);
    expect(out).toBe(want);
  });

  test('vhost_vsock_set_features @ 5.10: ACCESS_PLATFORM is not offered: EOPNOTSUPP', () => {
    const f = vsock('5.10');
    expectErrno(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', AP).r, 'EOPNOTSUPP', 'vhost_vsock_set_features');
  });

  test('vhost_vsock_set_features @ 6.1: an unknown bit is EOPNOTSUPP, VERSION_1|ACCESS_PLATFORM is 0', () => {
    const f = vsock();
    expectErrno(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 1n << 50n).r, 'EOPNOTSUPP');
    expectOk(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', V1 | AP).r, 0);
  });

  test('vhost_vsock_dev_ioctl @ 5.10: GET_BACKEND_FEATURES takes the unknown-ioctl path (EPERM, then ENOTTY)', () => {
    const f = vsock('5.10');
    expectErrno(ioctlU64(f, f.fd, 'VHOST_GET_BACKEND_FEATURES').r, 'EPERM', 'vhost_dev_check_owner');
    expectOk(f.k.ioctl(f.p, f.fd, nr('VHOST_SET_OWNER'), 0n));
    expectErrno(ioctlU64(f, f.fd, 'VHOST_GET_BACKEND_FEATURES').r, 'ENOTTY');
  });

  test('vhost_vsock_dev_ioctl @ 6.1: backend features are MSG_V2 only', () => {
    const f = vsock();
    const g = ioctlU64(f, f.fd, 'VHOST_GET_BACKEND_FEATURES');
    expect(g.out).toBe(2n);
    expectErrno(ioctlU64(f, f.fd, 'VHOST_SET_BACKEND_FEATURES', 4n).r, 'EOPNOTSUPP');
    expectOk(ioctlU64(f, f.fd, 'VHOST_SET_BACKEND_FEATURES', 2n).r);
  });
});

describe('ownership (vhost_dev_set_owner, vhost_dev_check_owner)', () => {
  test('vhost_dev_set_owner: a second SET_OWNER is EBUSY', () => {
    const f = owned();
    expectErrno(f.k.ioctl(f.p, f.fd, nr('VHOST_SET_OWNER'), 0n), 'EBUSY', 'vhost_dev_set_owner');
  });

  test('vhost_dev_check_owner: a forked child is not the owner (EPERM); RESET_OWNER with NULL is EFAULT', () => {
    const f = owned();
    const child = f.k.fork(f.p, 'child');
    expectErrno(f.k.ioctl(child, f.fd, nr('VHOST_RESET_OWNER'), 0n), 'EPERM');
    expectErrno(f.k.ioctl(f.p, f.fd, nr('VHOST_RESET_OWNER'), 0n), 'EFAULT', 'vhost_vring_ioctl');
    expectErrno(f.k.ioctl(f.p, f.fd, nr('VHOST_RESET_OWNER'), f.k.stage(f.p, new Uint8Array(4))), 'ENOTTY');
  });
});

describe('vhost_vsock_set_cid', () => {
  test.each([0n, 1n, 2n, 0xffffffffn, 0x100000000n])('cid %s is EINVAL', (cid) => {
    const f = vsock();
    expectErrno(ioctlU64(f, f.fd, 'VHOST_VSOCK_SET_GUEST_CID', cid).r, 'EINVAL', 'vhost_vsock_set_cid');
  });

  test('a CID held by another instance is EADDRINUSE until that one closes; the same instance may repeat it', () => {
    const f = vsock();
    const other = openFd(f, '/dev/vhost-vsock');
    expectOk(ioctlU64(f, f.fd, 'VHOST_VSOCK_SET_GUEST_CID', 3n).r);
    expectOk(ioctlU64(f, f.fd, 'VHOST_VSOCK_SET_GUEST_CID', 3n).r);
    expectErrno(ioctlU64(f, other, 'VHOST_VSOCK_SET_GUEST_CID', 3n).r, 'EADDRINUSE');
    expectOk(f.k.close(f.p, f.fd));
    expectOk(ioctlU64(f, other, 'VHOST_VSOCK_SET_GUEST_CID', 3n).r);
  });
});

describe('vhost_set_memory and vhost_vring_ioctl', () => {
  test('vhost_set_memory: padding is EOPNOTSUPP, 65 regions E2BIG, a wrapping region EFAULT', () => {
    const f = owned();
    expectErrno(
      ioctlStruct(f, f.fd, 'VHOST_SET_MEM_TABLE', vhost_memory, { nregions: 0n, padding: 1n }),
      'EOPNOTSUPP',
    );
    expectErrno(ioctlStruct(f, f.fd, 'VHOST_SET_MEM_TABLE', vhost_memory, { nregions: 65n }), 'E2BIG');
    const b = new Uint8Array(8 + 32);
    const v = new DataView(b.buffer);
    v.setUint32(0, 1, true);
    v.setBigUint64(8, 0x1000n, true);
    v.setBigUint64(16, 0xfffffffffffff001n, true);
    expectErrno(
      f.k.ioctl(f.p, f.fd, nr('VHOST_SET_MEM_TABLE'), f.k.stage(f.p, b)),
      'EFAULT',
      'vhost_set_memory',
    );
  });

  test('vhost_vring_ioctl: index >= nvqs is ENOBUFS; vhost_vring_set_num refuses 0, 3 and 65536', () => {
    const f = owned();
    expectErrno(
      ioctlStruct(f, f.fd, 'VHOST_SET_VRING_NUM', vhost_vring_state, { index: 2n, num: 256n }),
      'ENOBUFS',
    );
    for (const num of [0n, 3n, 65536n]) {
      expectErrno(
        ioctlStruct(f, f.fd, 'VHOST_SET_VRING_NUM', vhost_vring_state, { index: 0n, num }),
        'EINVAL',
      );
    }
    expectOk(ioctlStruct(f, f.fd, 'VHOST_SET_VRING_NUM', vhost_vring_state, { index: 0n, num: 32768n }));
  });

  test('vhost_vring_set_addr: unknown flags EOPNOTSUPP, misaligned avail/used EINVAL, desc unchecked', () => {
    const f = owned();
    const a = (x: Record<string, bigint>) =>
      ioctlStruct(f, f.fd, 'VHOST_SET_VRING_ADDR', vhost_vring_addr, x);
    expectErrno(a({ index: 0n, flags: 2n }), 'EOPNOTSUPP');
    expectErrno(a({ index: 0n, avail_user_addr: 1n }), 'EINVAL');
    expectErrno(a({ index: 0n, used_user_addr: 2n }), 'EINVAL');
    expectOk(a({ index: 0n, desc_user_addr: 1n }));
  });

  test('vhost_vsock_start: no memory table is EFAULT at vq_memory_access_ok (!umem); not owner EPERM', () => {
    const f = vsock();
    expectErrno(ioctlInt(f, f.fd, 'VHOST_VSOCK_SET_RUNNING', 1), 'EPERM');
    expectOk(f.k.ioctl(f.p, f.fd, nr('VHOST_SET_OWNER'), 0n));
    const r = ioctlInt(f, f.fd, 'VHOST_VSOCK_SET_RUNNING', 1);
    expectErrno(r, 'EFAULT');
    expect(r.ok === false && r.site).toEqual({
      function: 'vq_memory_access_ok',
      check: '!umem',
      errno: 'EFAULT',
    });
  });
});

describe('IOTLB messages (vhost_chr_write_iter, vhost_process_iotlb_msg, vhost_chr_read_iter)', () => {
  test('vhost_chr_write_iter: 39 bytes EINVAL, 40 bytes return 72, header type 3 EINVAL', () => {
    const f = vsock();
    ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', AP);
    const m = msg(2, 0x1000n, 0x1000n, 0x7f0000000000n, 3);
    expectErrno(write(f, m, 39), 'EINVAL', 'vhost_chr_write_iter');
    expectOk(write(f, m, 40), 72);
    expectErrno(write(f, msg(2, 0x2000n, 0x1000n, 0n, 3, 3)), 'EINVAL');
  });

  test('vhost_process_iotlb_msg: UPDATE without a device IOTLB is EFAULT (inner EFAULT); BATCH_BEGIN is EFAULT (inner EINVAL)', () => {
    const f = vsock();
    const r = write(f, msg(2, 0n, 0x1000n, 0x10000n, 3));
    expectErrno(r, 'EFAULT');
    expect(r.ok === false && r.site.check).toBe('VHOST_IOTLB_UPDATE: !dev->iotlb');
    ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', AP);
    const b = write(f, msg(5, 0n, 0n, 0n, 0));
    expectErrno(b, 'EFAULT', 'EINVAL');
  });

  test('vhost_chr_write_iter @ 6.1: size-0 UPDATE is EINVAL before the handler; size-0 INVALIDATE reaches it', () => {
    const f = vsock('6.1');
    ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', AP);
    expectErrno(write(f, msg(2, 0x1000n, 0n, 0x10000n, 3)), 'EINVAL', 'vhost_chr_write_iter');
    expectOk(write(f, msg(3, 0x1000n, 0n, 0n, 0)), 72);
  });

  test('vhost_process_iotlb_msg @ 5.15: size-0 UPDATE at iova 0 stores the whole 2^64 range as one entry', () => {
    const f = vsock('5.15');
    ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', AP);
    expectOk(write(f, msg(2, 0n, 0n, 0x10000n, 0)), 72);
    const dev = (f.p.fds.get(f.fd)!.priv as { dev: { iotlb: { maps(): { size: bigint }[] } } }).dev;
    expect(dev.iotlb.maps().map((m) => m.size)).toEqual([1n << 64n]);
  });

  test('vhost_chr_read_iter: < 72 bytes returns 0; nonblocking EAGAIN; blocking without IOTLB EBADFD', () => {
    const f = vsock();
    const buf = f.k.stage(f.p, new Uint8Array(72), 0x8000n);
    expectOk(f.k.read(f.p, f.fd, buf, 71, true), 0);
    expectErrno(f.k.read(f.p, f.fd, buf, 72, true), 'EAGAIN');
    expectErrno(f.k.read(f.p, f.fd, buf, 72, false), 'EBADFD');
    ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', AP);
    expect(f.k.read(f.p, f.fd, buf, 72, false).ok).toBe('blocked');
  });

  test('vhost_vsock_set_features @ 6.1: the device IOTLB is sticky, clearing ACCESS_PLATFORM keeps it', () => {
    const f = vsock();
    ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', AP);
    ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 0n);
    expectOk(write(f, msg(2, 0x1000n, 0x1000n, 0x10000n, 3)), 72);
  });

  test('vhost_vsock_set_features @ 6.12: clearing ACCESS_PLATFORM drops the device IOTLB (UPDATE EFAULT, read EBADFD)', () => {
    const f = vsock('6.12');
    ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', AP);
    ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 0n);
    expectErrno(write(f, msg(2, 0x1000n, 0x1000n, 0x10000n, 3)), 'EFAULT', 'vhost_process_iotlb_msg');
    expectErrno(f.k.read(f.p, f.fd, f.k.stage(f.p, new Uint8Array(72), 0x8000n), 72, false), 'EBADFD');
  });

  test('vhost_chr_write_iter @ 5.10: vsock has no write method before 5.11 (EINVAL from vfs_write)', () => {
    const f = vsock('5.10');
    expectErrno(write(f, msg(2, 0n, 0x1000n, 0n, 3)), 'EINVAL', 'vfs_write');
  });

  test('vhost_iotlb_miss: SET_RUNNING through an empty IOTLB queues one MISS for vq 0 used ring, read once', () => {
    const f = owned();
    ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', V1 | AP);
    const region = new Uint8Array(8 + 32);
    const v = new DataView(region.buffer);
    v.setUint32(0, 1, true);
    v.setBigUint64(16, 0x100000n, true);
    v.setBigUint64(24, 0x7f0000000000n, true);
    expectOk(f.k.ioctl(f.p, f.fd, nr('VHOST_SET_MEM_TABLE'), f.k.stage(f.p, region)));
    expectOk(
      ioctlStruct(f, f.fd, 'VHOST_SET_VRING_ADDR', vhost_vring_addr, { index: 0n, used_user_addr: 0x12000n }),
    );
    expectErrno(ioctlInt(f, f.fd, 'VHOST_VSOCK_SET_RUNNING', 1), 'EFAULT', 'vhost_update_used_flags');
    const buf = f.k.stage(f.p, new Uint8Array(72), 0x8000n);
    expectOk(f.k.read(f.p, f.fd, buf, 72, true), 72);
    const got = f.p.mm.copyFromUser(buf, 72)!;
    const gv = new DataView(got.buffer);
    expect(gv.getUint32(0, true)).toBe(1); // v1: MSG_V2 not acked
    expect(gv.getBigUint64(8, true)).toBe(0x12000n);
    expect([got[32], got[33]]).toEqual([1, 1]); // perm RO, type MISS
    expectErrno(f.k.read(f.p, f.fd, buf, 72, true), 'EAGAIN');
    expect(encodeStruct(vhost_vring_state, { index: 0n }).length).toBe(8);
  });
});

describe('vhost_vsock_set_features: seqpacket_allow', () => {
  const SEQPACKET = 1n << 1n; // VIRTIO_VSOCK_F_SEQPACKET
  // vsock->seqpacket_allow is read only by vhost_transport_seqpacket_allow (a host SOCK_SEQPACKET
  // connect, which vioctl does not model): no ioctl shows it, so the state row does
  const row = (f: Fixture) => {
    const tables: StateTables = {};
    vhostVsockDriver.state!(f.k, tables);
    return tables.vhost![0]!;
  };

  test.each(['6.1', '6.12'])(
    '@ %s each SET_FEATURES sets it from the features: clearing SEQPACKET clears it',
    (ver) => {
      const f = owned(ver);
      expect(row(f).seqpacket_allow).toBe(false); // vhost_vsock_dev_open
      expectOk(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', V1 | SEQPACKET).r, 0);
      expect(row(f).seqpacket_allow).toBe(true);
      expectOk(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', V1).r, 0);
      expect(row(f).seqpacket_allow).toBe(false);
    },
  );

  test('@ 6.1 a SET_FEATURES that fails at vhost_init_device_iotlb (goto err, -EFAULT) leaves it as it was', () => {
    const f = owned('6.1');
    expectOk(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', V1 | SEQPACKET).r, 0);
    // point 1: copy_from_user of the features; point 2: vhost_init_device_iotlb's iotlb_alloc
    f.k.fault.armRun(f.k.fault.points + 2);
    expectErrno(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', V1 | AP).r, 'EFAULT', 'vhost_vsock_set_features');
    expect(f.k.fault.injected.map((x) => x.site)).toEqual([
      'vhost_init_device_iotlb: iotlb_alloc (vhost_iotlb_alloc kzalloc)',
    ]);
    expect(row(f).seqpacket_allow).toBe(true);
  });

  test('@ 5.10 (before 5.14) there is no seqpacket_allow column', () => {
    expect(row(owned('5.10'))).not.toHaveProperty('seqpacket_allow');
  });
});

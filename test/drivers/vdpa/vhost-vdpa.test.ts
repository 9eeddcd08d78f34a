// drivers/vhost/vdpa.c: open/release, the VHOST_VDPA_* ioctls and the generic ones as vhost-vdpa answers.
import { describe, expect, test } from 'vitest';
import { O_RDWR } from '../../../src/kernel/kernel.js';
import { PROT_WRITE } from '../../../src/kernel/memory.js';
import { encodeStruct } from '../../../src/uapi/struct.js';
import { vhost_vdpa_config, vhost_vring_addr } from '../../../src/uapi/vhost.js';
import { expectErrno, expectOk, ioctlInt, ioctlStruct, ioctlU64, nr } from '../../helpers/kernel.js';
import { bf, io, kernel, owned, status, vdpa, vstate } from './fixture.js';

const S_ACK = 1;
const S_DRIVER = 2;
const S_DRIVER_OK = 4;
const S_FEATURES_OK = 8;
const ALL = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
const bit = (n: number): bigint => 1n << BigInt(n);

function config(f: ReturnType<typeof vdpa>, name: string, off: number, len: number) {
  const b = new Uint8Array(8 + 128);
  encodeStruct(vhost_vdpa_config, { off: BigInt(off), len: BigInt(len) }, b);
  const addr = f.k.stage(f.p, b);
  const r = f.k.ioctl(f.p, f.fd, nr(name), addr);
  return { r, data: f.p.mm.copyFromUser(addr + 8n, len) };
}

describe('vhost_vdpa_open / release', () => {
  test('vhost_vdpa_open @ 6.1: a second open is EBUSY until the first file is released', () => {
    const f = vdpa('6.1');
    expectErrno(f.k.open(f.p, '/dev/vhost-vdpa-0', O_RDWR), 'EBUSY', 'vhost_vdpa_open');
    expectOk(f.k.close(f.p, f.fd));
    expectOk(f.k.open(f.p, '/dev/vhost-vdpa-0', O_RDWR));
  });

  test("vhost_vdpa_open @ 6.1: a node past the machine's vdpa list does not exist (ENOENT)", () => {
    const f = kernel('6.1');
    expectErrno(f.k.open(f.p, '/dev/vhost-vdpa-2', O_RDWR), 'ENOENT');
  });

  test('vhost_vdpa_probe @ 5.10: no vdpa_sim_blk, so vdpa1 has no node', () => {
    const f = kernel('5.10');
    expectErrno(f.k.open(f.p, '/dev/vhost-vdpa-1', O_RDWR), 'ENOENT');
  });

  test('vhost_vdpa_probe @ 6.1: a platform-IOMMU parent with 2 address spaces is refused (no node)', () => {
    const f = kernel('6.1', [], { vdpa: [{ name: 'vdpa0', type: 'net', mapping: 'platform' }] });
    expectErrno(f.k.open(f.p, '/dev/vhost-vdpa-0', O_RDWR), 'ENOENT');
  });

  test('vhost_vdpa_release @ 6.1: close resets the device (status back to 0)', () => {
    const f = vdpa('6.1');
    expectOk(status(f, S_ACK));
    f.k.close(f.p, f.fd);
    const g = { ...f, fd: Number((f.k.open(f.p, '/dev/vhost-vdpa-0', O_RDWR) as { ret: number }).ret) };
    expect(ioctlU64(g, g.fd, 'VHOST_VDPA_GET_STATUS').out & 0xffn).toBe(0n);
  });

  test('vfs_read @ 6.1: vhost-vdpa has no read method (EINVAL); poll is the default mask', () => {
    const f = vdpa('6.1');
    expectErrno(f.k.read(f.p, f.fd, f.k.scratch(f.p), 72, true), 'EINVAL', 'vfs_read');
    expect(f.k.poll(f.p, f.fd, 0x5).revents).toBe(0x5);
  });
});

describe('getters', () => {
  test('vhost_vdpa_get_features @ 6.1 / 6.12: 0x308820028, then + NET_F_STATUS', () => {
    expect(ioctlU64(vdpa('6.1'), 3, 'VHOST_GET_FEATURES').out).toBe(0x308820028n);
    expect(ioctlU64(vdpa('6.12'), 3, 'VHOST_GET_FEATURES').out).toBe(0x308830028n);
    expect(ioctlU64(vdpa('6.1', 1), 3, 'VHOST_GET_FEATURES').out).toBe(0x308007646n);
    expect(ioctlU64(vdpa('5.15'), 3, 'VHOST_GET_FEATURES').out).toBe(0x308000020n);
  });

  test('VHOST_GET_BACKEND_FEATURES @ 5.15 / 6.1 / 6.6 / 6.12: 0x6, 0x1e, 0x7e, 0x17e', () => {
    expect(ioctlU64(vdpa('5.15'), 3, 'VHOST_GET_BACKEND_FEATURES').out).toBe(0x6n);
    expect(ioctlU64(vdpa('6.1'), 3, 'VHOST_GET_BACKEND_FEATURES').out).toBe(0x1en);
    expect(ioctlU64(vdpa('6.6'), 3, 'VHOST_GET_BACKEND_FEATURES').out).toBe(0x7en);
    expect(ioctlU64(vdpa('6.12'), 3, 'VHOST_GET_BACKEND_FEATURES').out).toBe(0x17en);
  });

  test('VHOST_VDPA_GET_CONFIG_SIZE @ 5.15: not yet an ioctl (unknown path: EPERM without an owner)', () => {
    const f = vdpa('5.15');
    expectErrno(io(f, 'VHOST_VDPA_GET_CONFIG_SIZE', f.k.scratch(f.p)), 'EPERM');
    expect(ioctlU64(vdpa('6.1', 1), 3, 'VHOST_VDPA_GET_CONFIG_SIZE').out & 0xffffffffn).toBe(72n);
    expect(ioctlU64(vdpa('6.12', 1), 3, 'VHOST_VDPA_GET_CONFIG_SIZE').out & 0xffffffffn).toBe(96n);
  });

  test('vhost_vdpa_get_device_id @ 6.1: EFAULT on an unwritable argument', () => {
    const f = vdpa('6.1');
    expectErrno(io(f, 'VHOST_VDPA_GET_DEVICE_ID', 0n), 'EFAULT', 'vhost_vdpa_get_device_id');
  });

  test('vhost_vdpa_get_config @ 6.1: mac, link up, mtu 1500; len 0, off > size, len past the end are EINVAL', () => {
    const f = vdpa('6.1');
    const c = config(f, 'VHOST_VDPA_GET_CONFIG', 0, 24);
    expectOk(c.r);
    expect(Buffer.from(c.data!).toString('hex')).toBe('52540012345601000000dc05000000000000000000000000');
    expectErrno(config(f, 'VHOST_VDPA_GET_CONFIG', 0, 0).r, 'EINVAL', 'vhost_vdpa_get_config');
    expectErrno(config(f, 'VHOST_VDPA_GET_CONFIG', 25, 1).r, 'EINVAL');
    expectErrno(config(f, 'VHOST_VDPA_GET_CONFIG', 20, 8).r, 'EINVAL');
    expectErrno(io(f, 'VHOST_VDPA_GET_CONFIG', 0n), 'EFAULT', 'vhost_vdpa_get_config');
  });

  test('vhost_vdpa_set_config @ 6.1: a new MAC shows in the config; blk config is rebuilt on every read', () => {
    const f = vdpa('6.1');
    const b = new Uint8Array(8 + 6);
    encodeStruct(vhost_vdpa_config, { off: 0n, len: 6n }, b);
    b.set([2, 0, 0, 0, 0, 1], 8);
    expectOk(f.k.ioctl(f.p, f.fd, nr('VHOST_VDPA_SET_CONFIG'), f.k.stage(f.p, b)));
    expect(Array.from(config(f, 'VHOST_VDPA_GET_CONFIG', 0, 6).data!)).toEqual([2, 0, 0, 0, 0, 1]);
    expectErrno(config(f, 'VHOST_VDPA_SET_CONFIG', 0, 0).r, 'EINVAL', 'vhost_vdpa_set_config');
  });
});

describe('status and features', () => {
  test('vhost_vdpa_set_status @ 6.1: clearing bits without writing 0 is EINVAL', () => {
    const f = vdpa('6.1');
    expectOk(status(f, S_ACK | S_DRIVER));
    expectErrno(status(f, S_ACK), 'EINVAL', 'vhost_vdpa_set_status');
    expectOk(status(f, 0));
    expectErrno(io(f, 'VHOST_VDPA_SET_STATUS', 0n), 'EFAULT', 'vhost_vdpa_set_status');
  });

  test('vhost_vdpa_set_features @ 6.1: ACCESS_PLATFORM required (EINVAL), EBUSY after FEATURES_OK', () => {
    const f = vdpa('6.1');
    expectErrno(
      ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 0x300000000n & ~bit(33)).r,
      'EINVAL',
      'vhost_vdpa_set_features',
    );
    expectOk(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 0x308820028n | bit(50)).r);
    expectOk(status(f, S_ACK | S_DRIVER | S_FEATURES_OK));
    expectErrno(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 0x308820028n).r, 'EBUSY', 'vhost_vdpa_set_features');
  });

  test('vhost_vdpa_set_features @ 6.1: EFAULT on an unreadable argument', () => {
    const f = vdpa('6.1');
    expectErrno(io(f, 'VHOST_SET_FEATURES', 0n), 'EFAULT', 'vhost_vdpa_set_features');
  });
});

describe('backend features', () => {
  test('VHOST_SET_BACKEND_FEATURES @ 6.1: RESUME and ENABLE_AFTER_DRIVER_OK are EOPNOTSUPP', () => {
    const f = vdpa('6.1');
    expectErrno(bf(f, bit(5)), 'EOPNOTSUPP');
    expectErrno(bf(f, bit(6)), 'EOPNOTSUPP');
    expectOk(bf(f, 0x1en));
  });

  test('VHOST_SET_BACKEND_FEATURES @ 6.12: DESC_ASID without IOTLB_ASID is EINVAL, with it EOPNOTSUPP', () => {
    const f = vdpa('6.12');
    expectErrno(bf(f, bit(7)), 'EINVAL');
    expectErrno(bf(f, bit(7) | bit(3)), 'EOPNOTSUPP');
    expectOk(bf(f, 0x17en));
  });

  test('VHOST_SET_BACKEND_FEATURES @ 6.12: SUSPEND on a parent without suspend is EOPNOTSUPP', () => {
    const f = vdpa('6.12', 0, [], { vdpa: [{ name: 'v', type: 'net', suspend: false, resume: false }] });
    expectErrno(bf(f, bit(4)), 'EOPNOTSUPP');
    expectErrno(bf(f, bit(5)), 'EOPNOTSUPP');
  });

  test('VHOST_SET_BACKEND_FEATURES @ 6.12: IOTLB_PERSIST on a dma_map parent without reset_map is fine (6.7 has reset_map)', () => {
    expectOk(bf(vdpa('6.12', 0, [], { vdpa: [{ name: 'v', type: 'net', mapping: 'dma_map' }] }), bit(8)));
  });

  test('VHOST_SET_BACKEND_FEATURES @ 6.1: EFAULT on an unreadable argument', () => {
    expectErrno(io(vdpa('6.1'), 'VHOST_SET_BACKEND_FEATURES', 0n), 'EFAULT');
  });
});

describe('vhost_vdpa_vring_ioctl', () => {
  test('vhost_dev_check_owner @ 6.1: per-queue VHOST_VDPA_* ioctls are EPERM before SET_OWNER', () => {
    const f = vdpa('6.1');
    expectErrno(vstate(f, 'VHOST_VDPA_GET_VRING_GROUP', 0), 'EPERM', 'vhost_dev_check_owner');
    expectErrno(vstate(f, 'VHOST_VDPA_SET_VRING_ENABLE', 0, 1), 'EPERM');
  });

  test('vhost_vdpa_vring_ioctl @ 6.1: index >= nvqs is ENOBUFS, a NULL argument EFAULT', () => {
    const f = owned('6.1');
    expectErrno(vstate(f, 'VHOST_VDPA_GET_VRING_GROUP', 3), 'ENOBUFS', 'vhost_vdpa_vring_ioctl');
    expectErrno(io(f, 'VHOST_VDPA_GET_VRING_GROUP', 0n), 'EFAULT', 'vhost_vdpa_vring_ioctl');
  });

  test('vhost_vdpa_vring_ioctl @ 6.1: GET_VRING_DESC_GROUP is not known yet (ENOTTY); @ 6.12 EOPNOTSUPP', () => {
    expectErrno(vstate(owned('6.1'), 'VHOST_VDPA_GET_VRING_DESC_GROUP', 0), 'ENOTTY');
    expectErrno(vstate(owned('6.12'), 'VHOST_VDPA_GET_VRING_DESC_GROUP', 0), 'EOPNOTSUPP');
  });

  test('vhost_vdpa_vring_ioctl @ 6.9: GET_VRING_SIZE is EOPNOTSUPP on set_map parents, the num on dma_map ones', () => {
    expectErrno(vstate(owned('6.9'), 'VHOST_VDPA_GET_VRING_SIZE', 0), 'EOPNOTSUPP', 'vhost_vdpa_vring_ioctl');
    const f = owned('6.9', 0, [], { vdpa: [{ name: 'v', type: 'net', mapping: 'dma_map' }] });
    expectOk(vstate(f, 'VHOST_VDPA_GET_VRING_SIZE', 0));
    expectErrno(vstate(owned('6.6'), 'VHOST_VDPA_GET_VRING_SIZE', 0), 'ENOTTY');
  });

  test('vhost_vdpa_vring_ioctl @ 6.1: SET_GROUP_ASID group >= ngroups is EINVAL (vdpa-group-bound-check)', () => {
    const f = owned('6.1');
    expectErrno(vstate(f, 'VHOST_VDPA_SET_GROUP_ASID', 2, 0), 'EINVAL', 'vhost_vdpa_vring_ioctl');
    expectErrno(vstate(f, 'VHOST_VDPA_SET_GROUP_ASID', 0, 2), 'EINVAL');
    expectOk(vstate(f, 'VHOST_VDPA_SET_GROUP_ASID', 1, 1));
  });

  test('vdpasim_set_group_asid @ 6.9: the off-by-one lets group == ngroups through as a no-op', () => {
    const f = owned('6.9');
    expectOk(vstate(f, 'VHOST_VDPA_SET_GROUP_ASID', 2, 1));
    expectErrno(vstate(f, 'VHOST_VDPA_SET_GROUP_ASID', 0, 2), 'EINVAL', 'vhost_vdpa_vring_ioctl');
  });

  test('vhost_vdpa_vring_ioctl @ 6.12: SET_VRING_NUM above the maximum is EINVAL; @ 6.1 accepted', () => {
    expectErrno(vstate(owned('6.12'), 'VHOST_SET_VRING_NUM', 0, 512), 'EINVAL', 'vhost_vdpa_vring_ioctl');
    expectOk(vstate(owned('6.1'), 'VHOST_SET_VRING_NUM', 0, 512));
  });

  test('vhost_vdpa_vring_ioctl @ 6.12: SET_VRING_BASE / ADDR after DRIVER_OK is EINVAL unless suspended', () => {
    const f = owned('6.12');
    expectOk(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 0x308830028n).r);
    expectOk(status(f, ALL));
    expectErrno(vstate(f, 'VHOST_SET_VRING_BASE', 0, 5), 'EINVAL', 'vhost_vdpa_vring_ioctl');
    const addr = {
      index: 0n,
      flags: 0n,
      desc_user_addr: 0n,
      used_user_addr: 0n,
      avail_user_addr: 0n,
      log_guest_addr: 0n,
    };
    expectErrno(ioctlStruct(f, f.fd, 'VHOST_SET_VRING_ADDR', vhost_vring_addr, addr), 'EINVAL');
    expectOk(io(f, 'VHOST_VDPA_SUSPEND'));
    expectOk(vstate(f, 'VHOST_SET_VRING_BASE', 0, 5));
  });

  test('VHOST_SET_LOG_BASE @ 6.1: ENOTTY on vhost-vdpa without an owner check', () => {
    expectErrno(io(vdpa('6.1'), 'VHOST_SET_LOG_BASE', 0n), 'ENOTTY');
  });

  test('vhost_vring_ioctl @ 6.1: VHOST_RESET_OWNER falls through: EFAULT with NULL, ENOTTY with a pointer', () => {
    const f = owned('6.1');
    expectErrno(io(f, 'VHOST_RESET_OWNER', 0n), 'EFAULT');
    expectErrno(io(f, 'VHOST_RESET_OWNER', f.k.scratch(f.p)), 'ENOTTY');
  });
});

describe('suspend / resume', () => {
  test('vhost_vdpa_suspend @ 6.1: RESUME is not an ioctl yet (EFAULT / ENOTTY as unknown)', () => {
    const f = owned('6.1');
    expectOk(io(f, 'VHOST_VDPA_SUSPEND'));
    expectErrno(io(f, 'VHOST_VDPA_RESUME', 0n), 'EFAULT');
  });

  test('vhost_vdpa_suspend @ 6.12: a parent without suspend is EOPNOTSUPP once DRIVER_OK, 0 before', () => {
    const f = owned('6.12', 0, [], { vdpa: [{ name: 'v', type: 'net', suspend: false, resume: false }] });
    expectOk(io(f, 'VHOST_VDPA_SUSPEND'));
    expectOk(status(f, ALL));
    expectErrno(io(f, 'VHOST_VDPA_SUSPEND'), 'EOPNOTSUPP', 'vhost_vdpa_suspend');
    expectErrno(io(f, 'VHOST_VDPA_RESUME'), 'EOPNOTSUPP', 'vhost_vdpa_resume');
  });

  test('vhost_vdpa_suspend @ 6.6: without DRIVER_OK the parent is still called (no-op rule is 6.9)', () => {
    const f = owned('6.6', 0, [], { vdpa: [{ name: 'v', type: 'net', suspend: false }] });
    expectErrno(io(f, 'VHOST_VDPA_SUSPEND'), 'EOPNOTSUPP');
  });
});

describe('config call and mmap', () => {
  test('vhost_vdpa_set_config_call @ 6.1: EBADF for a closed fd, EINVAL for a non-eventfd, EFAULT for NULL', () => {
    const f = vdpa('6.1');
    expectErrno(ioctlInt(f, f.fd, 'VHOST_VDPA_SET_CONFIG_CALL', 99), 'EBADF', 'vhost_vdpa_set_config_call');
    expectErrno(ioctlInt(f, f.fd, 'VHOST_VDPA_SET_CONFIG_CALL', f.fd), 'EINVAL');
    expectErrno(io(f, 'VHOST_VDPA_SET_CONFIG_CALL', 0n), 'EFAULT');
    expectOk(ioctlInt(f, f.fd, 'VHOST_VDPA_SET_CONFIG_CALL', -1));
  });

  test('vhost_vdpa_mmap @ 6.1: size, MAP_SHARED and PROT_READ are EINVAL; a valid doorbell leaks ENOTSUPP (524)', () => {
    const f = vdpa('6.1');
    expectErrno(f.k.mmapFile(f.p, f.fd, 0n, 0x2000n, PROT_WRITE, true), 'EINVAL', 'vhost_vdpa_mmap');
    expectErrno(f.k.mmapFile(f.p, f.fd, 0n, 0x1000n, PROT_WRITE, false), 'EINVAL');
    expectErrno(f.k.mmapFile(f.p, f.fd, 0n, 0x1000n, PROT_WRITE | 1, true), 'EINVAL');
    expectErrno(f.k.mmapFile(f.p, f.fd, 0n, 0x1000n, PROT_WRITE, true), 'ENOTSUPP', 'vhost_vdpa_mmap');
  });

  test('do_mmap @ 6.1: a file without an mmap method is ENODEV, a bad fd EBADF', () => {
    const f = vdpa('6.1');
    const e = f.k.eventfd(f.p);
    expectErrno(
      f.k.mmapFile(f.p, Number((e as { ret: number }).ret), 0n, 0x1000n, PROT_WRITE, true),
      'ENODEV',
    );
    expectErrno(f.k.mmapFile(f.p, 77, 0n, 0x1000n, PROT_WRITE, true), 'EBADF');
  });
});

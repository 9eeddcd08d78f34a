// Hot reset for group and cdev users (vfio_pci_core.c @ 6.1 / 6.6 / 6.12; vfio.md §14).
import { describe, expect, test } from 'vitest';
import { iommufdNr } from '../../../src/uapi/iommufd.js';
import { attached, bindTo, errnoOf, getDeviceFd, io, open, type VF, vfioKernel } from './helpers.js';

function info(f: VF, fd: number, slots: number): { r: unknown; flags: number; count: number; ids: number[] } {
  const b = new Uint8Array(12 + 8 * slots);
  new DataView(b.buffer).setUint32(0, 12 + 8 * slots, true);
  const a = f.k.stage(f.p, b);
  const r = errnoOf(io(f, fd, 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', a));
  const d = new DataView(f.p.mm.copyFromUser(a, 12 + 8 * slots)!.buffer);
  const ids = [...Array(slots).keys()].map((i) => d.getUint32(12 + 8 * i, true));
  return { r, flags: d.getUint32(4, true), count: d.getUint32(8, true), ids };
}

function reset(f: VF, fd: number, fds: number[]): unknown {
  const b = new Uint8Array(12 + 4 * fds.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, b.length, true);
  v.setUint32(8, fds.length, true);
  for (const [i, x] of fds.entries()) v.setInt32(12 + 4 * i, x, true);
  return errnoOf(io(f, fd, 'VFIO_DEVICE_PCI_HOT_RESET', f.k.stage(f.p, b)));
}

/** 01:00.0 bound through its cdev to a fresh iommufd (sibling bound to vfio-pci when asked) */
function cdevUser(version: string, sibling: boolean): VF & { dev: number; ictx: number } {
  const f = vfioKernel(version);
  expect(bindTo(f, '0000:01:00.0', 'vfio-pci').ok).toBe(true);
  if (sibling) expect(bindTo(f, '0000:01:00.1', 'vfio-pci').ok).toBe(true);
  const ictx = open(f, '/dev/iommu');
  const dev = open(f, '/dev/vfio/devices/vfio0');
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(0, 16, true);
  new DataView(b.buffer).setInt32(8, ictx, true);
  expect(errnoOf(f.k.ioctl(f.p, dev, iommufdNr('VFIO_DEVICE_BIND_IOMMUFD'), f.k.stage(f.p, b)))).toBe(0);
  return { ...f, dev, ictx };
}

describe('vfio_pci_ioctl_get_pci_hot_reset_info', () => {
  test('@ 6.1: ENOSPC writes the count only, flags 0; a root-bus device is ENODEV', () => {
    const f = vfioKernel('6.1');
    expect(bindTo(f, '0000:01:00.1', 'vfio-pci').ok).toBe(true);
    const { g } = attached(f, '0000:01:00.0', 6);
    const d = Number((getDeviceFd(f, g, '0000:01:00.0') as { ret: number }).ret);
    expect(info(f, d, 1)).toMatchObject({ r: 'ENOSPC', flags: 0, count: 2, ids: [0] });
    expect(info(f, d, 2)).toMatchObject({ r: 0, flags: 0, count: 2, ids: [6, 6] });
  });
  test('@ 6.6 (b56b7aabcf3c): partial fill, ENOSPC with DEV_ID|DEV_ID_OWNED though the sibling is NOT_OWNED', () => {
    const f = cdevUser('6.6', false);
    expect(info(f, f.dev, 1)).toMatchObject({ r: 'ENOSPC', flags: 3, count: 2, ids: [1] });
    expect(info(f, f.dev, 2)).toMatchObject({ r: 0, flags: 1, count: 2, ids: [1, 0xffffffff] });
  });
  test('@ 6.12 (5a88a3f67e37): ENOSPC is the count alone again; owned siblings are devid 0', () => {
    const f = cdevUser('6.12', true);
    expect(info(f, f.dev, 1)).toMatchObject({ r: 'ENOSPC', flags: 0, count: 2, ids: [0] });
    expect(info(f, f.dev, 2)).toMatchObject({ r: 0, flags: 3, count: 2, ids: [1, 0] });
  });
});

describe('vfio_pci_ioctl_pci_hot_reset', () => {
  test('@ 6.12: a cdev user passes the empty list; any fd in it is EINVAL', () => {
    const f = cdevUser('6.12', true);
    expect(reset(f, f.dev, [f.ictx])).toBe('EINVAL');
    expect(reset(f, f.dev, [])).toBe(0);
  });
  test('@ 6.12: the sibling outside the dev_set refuses the cdev reset (vfio_pci_dev_set_resettable)', () => {
    const f = cdevUser('6.12', false);
    expect(reset(f, f.dev, [])).toBe('EINVAL');
  });
  test('@ 6.12: a group user with an empty list is EINVAL before the root-bus ENODEV', () => {
    const f = vfioKernel('6.12');
    const { g } = attached(f, '0000:00:06.0', 4);
    const d = Number((getDeviceFd(f, g, '0000:00:06.0') as { ret: number }).ret);
    expect(reset(f, d, [])).toBe('EINVAL');
    expect(reset(f, d, [g])).toBe('ENODEV');
    const f1 = vfioKernel('6.1');
    const a1 = attached(f1, '0000:00:06.0', 4);
    const d1 = Number((getDeviceFd(f1, a1.g, '0000:00:06.0') as { ret: number }).ret);
    expect(reset(f1, d1, [])).toBe('ENODEV');
  });
  test('@ 6.1: group fds — bad fd EBADF, container EINVAL, duplicates fine, extra fd beyond count EINVAL', () => {
    const f = vfioKernel('6.1');
    expect(bindTo(f, '0000:01:00.1', 'vfio-pci').ok).toBe(true);
    const { c, g } = attached(f, '0000:01:00.0', 6);
    const d = Number((getDeviceFd(f, g, '0000:01:00.0') as { ret: number }).ret);
    expect(reset(f, d, [999])).toBe('EBADF');
    expect(reset(f, d, [c])).toBe('EINVAL');
    expect(reset(f, d, [d])).toBe('EINVAL');
    expect(reset(f, d, [g, g])).toBe(0);
    expect(reset(f, d, [g, g, g])).toBe('EINVAL');
    expect(f.k.diagnostics.map((x) => x.code)).not.toContain('hot-reset-outside-dev-set');
  });
});

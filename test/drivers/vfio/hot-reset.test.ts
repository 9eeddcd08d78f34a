// Hot reset for group and cdev users (vfio_pci_core.c read @ 6.1, @ 6.6 and @ 6.12; vfio.md §14):
// INFO's buffer handling in its three eras, and PCI_HOT_RESET's forms and counts.
import { describe, expect, test } from 'vitest';
import { SCRATCH_SIZE } from '../../../src/kernel/kernel.js';
import { iommufdNr } from '../../../src/uapi/iommufd.js';
import { attached, bindTo, errnoOf, getDeviceFd, io, open, type VF, vfioKernel } from './helpers.js';

const SENTINEL = 0xaaaaaaaa;

/**
 * INFO with a buffer of `slots` entries, argsz saying `room` of them fit; the entry words start as
 * SENTINEL so that untouched ones show. `at` places the buffer in the scratch pages.
 */
function info(f: VF, fd: number, slots: number, room = slots, at = 0n) {
  const size = 12 + 8 * slots;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint32(0, 12 + 8 * room, true);
  for (let i = 0; i < slots; i++) v.setUint32(12 + 8 * i, SENTINEL, true);
  const a = f.k.stage(f.p, b, at);
  const out = io(f, fd, 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', a);
  const d = new DataView(f.p.mm.copyFromUser(a, size)!.buffer);
  const ids = [...Array(slots).keys()].map((i) => d.getUint32(12 + 8 * i, true));
  const site = out.ok === false ? out.site.function : null;
  return { r: errnoOf(out), site, flags: d.getUint32(4, true), count: d.getUint32(8, true), ids };
}

/** PCI_HOT_RESET with `count` in the header and the fds after it */
function resetCount(f: VF, fd: number, count: number, fds: number[]) {
  const b = new Uint8Array(12 + 4 * fds.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, b.length, true);
  v.setUint32(8, count, true);
  for (const [i, x] of fds.entries()) v.setInt32(12 + 4 * i, x, true);
  const out = io(f, fd, 'VFIO_DEVICE_PCI_HOT_RESET', f.k.stage(f.p, b));
  return { r: errnoOf(out), site: out.ok === false ? out.site.function : null };
}

function reset(f: VF, fd: number, fds: number[]): unknown {
  return resetCount(f, fd, fds.length, fds).r;
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

/** 01:00.0 opened through group 6 (its sibling on no driver, or on vfio-pci) */
function groupUser(version: string, sibling = true): VF & { c: number; g: number; d: number } {
  const f = vfioKernel(version);
  if (sibling) expect(bindTo(f, '0000:01:00.1', 'vfio-pci').ok).toBe(true);
  const { c, g } = attached(f, '0000:01:00.0', 6);
  const d = Number((getDeviceFd(f, g, '0000:01:00.0') as { ret: number }).ret);
  return { ...f, c, g, d };
}

describe('vfio_pci_ioctl_get_pci_hot_reset_info: the front end', () => {
  test.each(['6.1', '6.6', '6.12'])('@ %s: argsz < minsz EINVAL; a root-bus device ENODEV', (v) => {
    const f = vfioKernel(v);
    const { g } = attached(f, '0000:00:06.0', 4);
    const d = Number((getDeviceFd(f, g, '0000:00:06.0') as { ret: number }).ret);
    const small = new Uint8Array(12);
    new DataView(small.buffer).setUint32(0, 11, true);
    expect(errnoOf(io(f, d, 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', f.k.stage(f.p, small)))).toBe('EINVAL');
    expect(info(f, d, 2).r).toBe('ENODEV');
  });
});

describe('vfio_pci_ioctl_get_pci_hot_reset_info: count first (v3.12 – v6.5, read @ 6.1)', () => {
  test.each(['6.1', '6.5'])('@ %s: ENOSPC writes the header only (count 2, flags 0), no entry', (v) => {
    const f = groupUser(v);
    expect(info(f, f.d, 2, 1)).toMatchObject({ r: 'ENOSPC', flags: 0, count: 2, ids: [SENTINEL, SENTINEL] });
    expect(info(f, f.d, 2)).toMatchObject({ r: 0, flags: 0, count: 2, ids: [6, 6] });
  });
  test('@ 6.1: at reset_info_exit the header is copied before the entries: EFAULT with the count written', () => {
    const f = groupUser('6.1');
    // the header ends the scratch pages; the entries would lie beyond them
    const r = info(f, f.d, 0, 2, SCRATCH_SIZE - 12n);
    expect(r).toMatchObject({ r: 'EFAULT', count: 2, flags: 0 });
  });
});

describe('vfio_pci_fill_devs into the user buffer (b56b7aabcf3c, v6.6 – v6.9, read @ 6.6)', () => {
  test.each(['6.6', '6.9'])(
    '@ %s group mode: the entry that fits is written, the next slot untouched, ENOSPC',
    (v) => {
      const f = groupUser(v);
      expect(info(f, f.d, 2, 1)).toMatchObject({
        r: 'ENOSPC',
        site: 'vfio_pci_ioctl_get_pci_hot_reset_info',
      });
      expect(info(f, f.d, 2, 1)).toMatchObject({ flags: 0, count: 2, ids: [6, SENTINEL] });
      expect(info(f, f.d, 2)).toMatchObject({ r: 0, flags: 0, count: 2, ids: [6, 6] });
    },
  );
  test.each(['6.6', '6.9'])(
    '@ %s cdev mode: DEV_ID|DEV_ID_OWNED on ENOSPC, the NOT_OWNED sibling not yet examined',
    (v) => {
      const f = cdevUser(v, false);
      expect(info(f, f.dev, 0)).toMatchObject({ r: 'ENOSPC', flags: 3, count: 2 });
      expect(info(f, f.dev, 2, 1)).toMatchObject({ r: 'ENOSPC', flags: 3, count: 2, ids: [1, SENTINEL] });
      expect(info(f, f.dev, 2)).toMatchObject({ r: 0, flags: 1, count: 2, ids: [1, 0xffffffff] });
    },
  );
  test('@ 6.6: a failed entry copy ends the walk before the header is written (EFAULT, count untouched)', () => {
    const f = groupUser('6.6');
    const r = info(f, f.d, 0, 2, SCRATCH_SIZE - 12n);
    expect(r).toMatchObject({ r: 'EFAULT', site: 'vfio_pci_fill_devs', count: 0 });
  });
});

describe('vfio_pci_ioctl_get_pci_hot_reset_info with a kernel buffer (f6944d4a0b87 + 5a88a3f67e37, v6.10, read @ 6.12)', () => {
  test.each(['6.10', '6.12'])(
    '@ %s: ENOSPC is the count alone again (flags 0, no entry); owned siblings are devid 0',
    (v) => {
      const f = cdevUser(v, true);
      expect(info(f, f.dev, 2, 1)).toMatchObject({
        r: 'ENOSPC',
        flags: 0,
        count: 2,
        ids: [SENTINEL, SENTINEL],
      });
      expect(info(f, f.dev, 2)).toMatchObject({ r: 0, flags: 3, count: 2, ids: [1, 0] });
    },
  );
  test('@ 6.12: the entries are copied before the header: EFAULT with the header untouched', () => {
    const f = groupUser('6.12');
    const r = info(f, f.d, 0, 2, SCRATCH_SIZE - 12n);
    expect(r).toMatchObject({ r: 'EFAULT', count: 0 });
  });
});

describe('vfio_pci_ioctl_pci_hot_reset', () => {
  test('@ 6.12: a cdev user passes the empty list; any fd in it is EINVAL', () => {
    const f = cdevUser('6.12', true);
    expect(reset(f, f.dev, [f.ictx])).toBe('EINVAL');
    expect(reset(f, f.dev, [])).toBe(0);
  });
  test('vfio_pci_dev_set_resettable @ 6.12: the sibling outside the dev_set refuses the cdev reset', () => {
    const f = cdevUser('6.12', false);
    expect(resetCount(f, f.dev, 0, [])).toEqual({ r: 'EINVAL', site: 'vfio_pci_dev_set_hot_reset' });
  });
  test('@ 6.12: a group user with an empty list is EINVAL before the root-bus ENODEV; @ 6.1 ENODEV first', () => {
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
    const f = groupUser('6.1');
    expect(reset(f, f.d, [999])).toBe('EBADF');
    expect(reset(f, f.d, [f.c])).toBe('EINVAL');
    expect(reset(f, f.d, [f.d])).toBe('EINVAL');
    expect(reset(f, f.d, [f.g, f.g])).toBe(0);
    expect(reset(f, f.d, [f.g, f.g, f.g])).toBe('EINVAL');
    expect(f.k.diagnostics.map((x) => x.code)).not.toContain('hot-reset-outside-dev-set');
  });
  test.each([
    ['6.1', 'EINVAL', 'vfio_pci_ioctl_pci_hot_reset'],
    ['6.6', 'ENOMEM', 'vfio_pci_ioctl_pci_hot_reset_groups'],
    ['6.10', 'ENOMEM', 'vfio_pci_ioctl_pci_hot_reset_groups'],
    ['6.12', 'EINVAL', 'vfio_pci_ioctl_pci_hot_reset_groups'],
  ])(
    'vfio_pci_ioctl_pci_hot_reset_groups @ %s: a count of 0x80000000 is %s (int array_count until 6.12)',
    (v, e, fn) => {
      const f = groupUser(v);
      expect(resetCount(f, f.d, 0x80000000, [f.g])).toEqual({ r: e, site: fn });
      expect(resetCount(f, f.d, 3, [f.g, f.g, f.g])).toEqual({ r: 'EINVAL', site: fn });
    },
  );

  test.each(['6.1', '6.12'])(
    'pci_bridge_wait_for_secondary_bus @ %s: the bus reset of the emulated e1000e ENOTTY (its link does not come back)',
    (v) => {
      const f = vfioKernel(v);
      // 02:00.0 is bound to e1000e at boot: unbind it, then the group path
      expect(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers/e1000e/unbind', '0000:02:00.0').ok).toBe(true);
      const { g } = attached(f, '0000:02:00.0', 7);
      const d = Number((getDeviceFd(f, g, '0000:02:00.0') as { ret: number }).ret);
      // alone on bus 2, no slot reset: __pci_reset_bus, whose wait for the link fails
      expect(info(f, d, 1)).toMatchObject({ r: 0, count: 1 });
      expect(resetCount(f, d, 1, [g])).toEqual({ r: 'ENOTTY', site: 'pci_bridge_wait_for_secondary_bus' });
      // the edu alone behind the next bridge resets fine: the failure is the e1000e link's
      const e = vfioKernel(v);
      const eg = attached(e, '0000:03:00.0', 8).g;
      const ed = Number((getDeviceFd(e, eg, '0000:03:00.0') as { ret: number }).ret);
      expect(resetCount(e, ed, 1, [eg])).toEqual({ r: 0, site: null });
    },
  );
});

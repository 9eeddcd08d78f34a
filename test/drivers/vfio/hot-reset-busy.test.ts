// Resets of busy devices (drivers/pci/pci.c and vfio_pci_core.c @ 6.1 / 6.12, vfio_pci.c @ 5.10):
// a vfio-pci unbind waiting for the device's fds holds the device lock, so the trylocks of
// pci_try_reset_function and pci_reset_bus fail with EAGAIN; a dev_set device another process
// holds cannot be covered by the caller's group fds (EINVAL in every era).
import { describe, expect, test } from 'vitest';
import { registerDrivers } from '../../../src/drivers/index.js';
import { Kernel } from '../../../src/kernel/kernel.js';
import { DEFAULT_MACHINE } from '../../../src/kernel/machine.js';
import { type KernelProfile, makeProfile } from '../../../src/kernel/profile.js';
import type { SysfsOutcome } from '../../../src/kernel/registry.js';
import { iommufdNr } from '../../../src/uapi/iommufd.js';
import { attached, bindTo, errnoOf, fdOf, getDeviceFd, io, open, type VF, vfioKernel } from './helpers.js';

const UNBIND = '/sys/bus/pci/drivers/vfio-pci/unbind';

function hotReset(f: VF, fd: number, fds: number[]) {
  const b = new Uint8Array(12 + 4 * fds.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, b.length, true);
  v.setUint32(8, fds.length, true);
  for (const [i, x] of fds.entries()) v.setInt32(12 + 4 * i, x, true);
  return site(io(f, fd, 'VFIO_DEVICE_PCI_HOT_RESET', f.k.stage(f.p, b)));
}

function site(r: SysfsOutcome) {
  return { r: errnoOf(r), fn: r.ok === false ? r.site.function : null };
}

function diagCodes(f: VF): string[] {
  return f.k.diagnostics.map((d) => d.code);
}

describe('__pci_reset_bus: pci_bus_trylock fails while a sibling unbind waits (EAGAIN)', () => {
  test.each([
    ['5.10', 'vfio_pci_get_unused_devs'],
    ['6.1', 'vfio_pci_dev_set_hot_reset'],
    ['6.12', 'vfio_pci_dev_set_hot_reset'],
  ])('@ %s: EAGAIN during the unbind of 01:00.1, then EINVAL (%s) once it is gone', (v, after) => {
    const f = vfioKernel(v);
    expect(bindTo(f, '0000:01:00.1', 'vfio-pci').ok).toBe(true);
    const { g } = attached(f, '0000:01:00.0', 6);
    const d0 = fdOf(getDeviceFd(f, g, '0000:01:00.0'));
    const d1 = fdOf(getDeviceFd(f, g, '0000:01:00.1'));
    expect(hotReset(f, d0, [g])).toEqual({ r: 0, fn: null });
    const ub = f.k.sysfsWrite(f.p, UNBIND, '0000:01:00.1');
    expect(ub.ok).toBe('blocked');
    expect(hotReset(f, d0, [g])).toEqual({ r: 'EAGAIN', fn: '__pci_reset_bus' });
    expect(diagCodes(f)).toContain('hot-reset-device-locked');
    f.k.close(f.p, d1);
    if (ub.ok === 'blocked') expect(ub.retry().ok).toBe(true);
    // 01:00.1 has no driver now: outside the dev_set (5.15+), not a vfio device (5.10)
    expect(hotReset(f, d0, [g])).toEqual({ r: 'EINVAL', fn: after });
  });
});

describe('pci_try_reset_function: VFIO_DEVICE_RESET while the device is being unbound', () => {
  test.each([
    ['5.10', 'blocked'],
    ['6.1', true],
    ['6.6', true],
    ['6.12', true],
  ])('@ %s: 0 before, EAGAIN while its own unbind waits for the fd', (v, afterClose) => {
    const f = vfioKernel(v);
    const { c, g } = attached(f, '0000:03:00.0', 8);
    const d = fdOf(getDeviceFd(f, g, '0000:03:00.0'));
    expect(site(io(f, d, 'VFIO_DEVICE_RESET'))).toEqual({ r: 0, fn: null });
    const ub = f.k.sysfsWrite(f.p, UNBIND, '0000:03:00.0');
    expect(ub.ok).toBe('blocked');
    expect(site(io(f, d, 'VFIO_DEVICE_RESET'))).toEqual({ r: 'EAGAIN', fn: 'pci_try_reset_function' });
    f.k.close(f.p, d);
    if (ub.ok !== 'blocked') return;
    // 5.10 (container_q): the last device's unbind then waits for the group to leave its container
    const next = ub.retry();
    expect(next.ok).toBe(afterClose);
    f.k.close(f.p, g);
    f.k.close(f.p, c);
    if (next.ok === 'blocked') expect(next.retry().ok).toBe(true);
  });
});

/** The default machine with 01:00.1 in its own group 9 (ACS between the functions). */
function twoGroups(version: string): Kernel {
  const prof = makeProfile(version, []) as KernelProfile;
  const pci = DEFAULT_MACHINE.pci.map((d) => (d.bdf === '0000:01:00.1' ? { ...d, group: 9 } : d));
  const k = new Kernel(prof, { ...DEFAULT_MACHINE, pci });
  registerDrivers(k);
  return k;
}

describe('a dev_set device opened by another process', () => {
  test.each([
    ['5.10', 'vfio_pci_validate_devs'],
    ['6.1', 'vfio_pci_dev_set_hot_reset'],
    ['6.12', 'vfio_pci_dev_set_hot_reset'],
  ])(
    "@ %s: its group is not the caller's to pass, EINVAL (%s); the diagnostic names the other fd",
    (v, fn) => {
      const k = twoGroups(v);
      const a: VF = { k, p: k.spawn('qemu') };
      const b: VF = { k, p: k.spawn('other') };
      expect(bindTo(a, '0000:01:00.1', 'vfio-pci').ok).toBe(true);
      const ga = attached(a, '0000:01:00.0', 6).g;
      const gb = attached(b, '0000:01:00.1', 9).g;
      const da = fdOf(getDeviceFd(a, ga, '0000:01:00.0'));
      fdOf(getDeviceFd(b, gb, '0000:01:00.1'));
      expect(errnoOf(k.open(a.p, '/dev/vfio/9', 2))).toBe('EBUSY');
      expect(hotReset(a, da, [ga])).toEqual({ r: 'EINVAL', fn });
      if (v !== '5.10') {
        const m = k.diagnostics.find((d) => d.code === 'hot-reset-unowned-member')?.message;
        expect(m).toMatch(
          /0000:01:00\.1 of its dev_set is in none of the groups passed; it is in use: fd \d+ of process other/,
        );
      }
    },
  );

  test('@ 6.12 cdev: the other process bound 01:00.1 to its own iommufd, NOT_OWNED and EINVAL', () => {
    const k = twoGroups('6.12');
    const a: VF = { k, p: k.spawn('qemu') };
    const b: VF = { k, p: k.spawn('other') };
    expect(bindTo(a, '0000:01:00.0', 'vfio-pci').ok).toBe(true);
    expect(bindTo(a, '0000:01:00.1', 'vfio-pci').ok).toBe(true);
    const bind = (f: VF, n: number) => {
      const ictx = open(f, '/dev/iommu');
      const dev = open(f, `/dev/vfio/devices/vfio${n}`);
      const arg = new Uint8Array(16);
      new DataView(arg.buffer).setUint32(0, 16, true);
      new DataView(arg.buffer).setInt32(8, ictx, true);
      expect(errnoOf(k.ioctl(f.p, dev, iommufdNr('VFIO_DEVICE_BIND_IOMMUFD'), k.stage(f.p, arg)))).toBe(0);
      return dev;
    };
    const da = bind(a, 0);
    bind(b, 1);
    expect(hotReset(a, da, [])).toEqual({ r: 'EINVAL', fn: 'vfio_pci_dev_set_hot_reset' });
    const m = k.diagnostics.find((d) => d.code === 'hot-reset-unowned-member')?.message;
    expect(m).toMatch(
      /neither bound to the caller's iommufd nor in a group it owns; it is in use: fd \d+ of process other/,
    );
  });
});

// A sysfs probe or bind of a device whose remove waits in vfio-pci's ->remove() for the last device
// fd (drivers/base/bus.c, dd.c at Debian 6.12 and 4.0): drivers_probe does not wait and binds
// nothing, a bind waiting on the device lock finds the device dead. The fuzz's seed 12345 (sysfs
// family, 6.12-iommufd-vfio-container and 6.1) reached a remove followed by a `bind:` of
// uio_pci_generic (driver_override, then drivers_probe): the model's drivers_probe waited for the
// remove and then probed uio_pci_generic into the removed device, whose DMA ownership left group 6
// non-viable with only vfio-pci on its devices (the group-status invariant).
import { describe, expect, test } from 'vitest';
import { pciBus } from '../../../src/drivers/pci/bus.js';
import type { SysfsOutcome } from '../../../src/kernel/registry.js';
import { attached, errnoOf, fdOf, getDeviceFd, groupFlags, io, site, vfioKernel } from '../vfio/helpers.js';

const A = '0000:01:00.0';
const B = '0000:01:00.1';
const REMOVE = `/sys/bus/pci/devices/${B}/remove`;

function resumed(r: SysfsOutcome): SysfsOutcome {
  if (r.ok !== 'blocked') throw new Error(`expected a blocked call, got ${JSON.stringify(r)}`);
  return r.retry();
}

/** group 6 (01:00.0, 01:00.1) in a type1 container, 01:00.1's device fd open, its remove waiting */
function removing(version: string) {
  const f = vfioKernel(version);
  const { c, g } = attached(f, A, 6);
  expect(errnoOf(f.k.sysfsWrite(f.p, `/sys/bus/pci/devices/${B}/driver_override`, 'vfio-pci'))).toBe(8);
  expect(errnoOf(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers_probe', B))).toBe(12);
  const dev = fdOf(getDeviceFd(f, g, B));
  const rm = f.k.sysfsWrite(f.p, REMOVE, '1');
  expect(rm.ok).toBe('blocked');
  return { f, c, g, dev, rm };
}

describe('bus_rescan_devices_helper / __driver_probe_device during a remove', () => {
  test.each(['6.1', '6.12-iommufd-vfio-container'])(
    'bus_rescan_devices_helper @ %s: drivers_probe of a device whose remove waits returns at once (dev->driver still set) and probes nothing',
    (version) => {
      const { f, c, g, dev, rm } = removing(version);
      // the fuzz's sequence: drivers_probe, then an override naming a DMA driver
      expect(errnoOf(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers_probe', B))).toBe(12);
      expect(
        errnoOf(f.k.sysfsWrite(f.p, `/sys/bus/pci/devices/${B}/driver_override`, 'uio_pci_generic')),
      ).toBe(15);
      f.k.close(f.p, dev);
      expect(errnoOf(resumed(rm))).toBe(1);
      const b = pciBus(f.k).devs.find((d) => d.bdf === B)!;
      expect([b.present, b.driver]).toEqual([false, null]);
      expect(groupFlags(f, g)).toBe(3);
      expect(errnoOf(io(f, g, 'VFIO_GROUP_UNSET_CONTAINER'))).toBe(0);
      // vfio_group_ioctl_get_status: no DMA owner claimed, so VIABLE without a container
      expect(groupFlags(f, g)).toBe(1);
      f.k.close(f.p, g);
      f.k.close(f.p, c);
    },
  );

  test('__driver_probe_device @ 6.12: a bind waiting on the device lock of a remove ends ENODEV (dev->p->dead)', () => {
    const { f, dev, rm } = removing('6.12');
    const bind = f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers/vfio-pci/bind', B);
    expect(bind.ok).toBe('blocked');
    f.k.close(f.p, dev);
    expect(errnoOf(resumed(rm))).toBe(1);
    const r = resumed(bind);
    expect(site(r)).toEqual(['ENODEV', '__driver_probe_device']);
    if (r.ok === false) expect(r.site.check).toBe('dev->p->dead || !device_is_registered(dev)');
    expect(pciBus(f.k).devs.find((d) => d.bdf === B)?.driver).toBe(null);
  });

  test('bind_store @ 4.0: dev->driver is tested before the device lock, so a bind during the remove is ENODEV at once', () => {
    const { f, dev, rm } = removing('4.0');
    const r = f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers/vfio-pci/bind', B);
    expect(site(r)).toEqual(['ENODEV', 'bind_store']);
    if (r.ok === false) expect(r.site.check).toBe('dev->driver != NULL');
    f.k.close(f.p, dev);
    expect(errnoOf(resumed(rm))).toBe(1);
  });
});

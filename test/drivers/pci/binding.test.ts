// Binding host drivers into groups in use: the BUG_ON before 5.19, EBUSY / EINVAL / EPERM after
// (vfio.md §8), and the sysfs errnos of bind_store / unbind_store / drivers_probe_store.
import { describe, expect, test } from 'vitest';
import { KVM_DEV_VFIO_GROUP_ADD } from '../../../src/uapi/kvm.js';
import {
  attached,
  bindTo,
  errnoOf,
  fdOf,
  groupFlags,
  kvmGroup,
  kvmVfio,
  open,
  setContainer,
  vfioKernel,
} from '../vfio/helpers.js';

const SIB = '0000:01:00.1';

describe('vfio_iommu_group_notifier / iommu_device_use_default_domain', () => {
  test('vfio_iommu_group_notifier @ 4.0: a DMA driver probed into a group in a container is a kernel BUG', () => {
    const f = vfioKernel('4.0');
    attached(f, '0000:01:00.0', 6);
    const r = bindTo(f, SIB, 'uio_pci_generic');
    expect(r.ok).toBe('bug');
    if (r.ok === 'bug') {
      expect(r.site.function).toBe('vfio_iommu_group_notifier');
      expect(r.stack.slice(0, 1)).toEqual(['vfio_iommu_group_notifier']);
      expect(r.stack).toContain('drivers_probe_store');
    }
  });

  test('vfio_iommu_group_notifier @ 3.19: a kvm-vfio external user alone keeps the group in use', () => {
    const f = vfioKernel('3.19', true);
    const { c, g } = attached(f, '0000:01:00.0', 6);
    const { dev } = kvmVfio(f);
    expect(errnoOf(kvmGroup(f, dev, KVM_DEV_VFIO_GROUP_ADD, g))).toBe(0);
    f.k.close(f.p, g);
    f.k.close(f.p, c);
    expect(f.k.sysfsWrite(f.p, `/sys/bus/pci/devices/${SIB}/driver_override`, 'uio_pci_generic').ok).toBe(
      true,
    );
    expect(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers/uio_pci_generic/bind', SIB).ok).toBe('bug');
  });

  test('pci-stub is allowed in a live group @ 4.0 (no BUG)', () => {
    const f = vfioKernel('4.0');
    const { g } = attached(f, '0000:01:00.0', 6);
    expect(errnoOf(bindTo(f, SIB, 'pci-stub'))).toBe(12);
    expect(groupFlags(f, g)).toBe(3);
  });

  test('iommu_device_use_default_domain @ 6.1: bind EBUSY, drivers_probe EINVAL, the device stays driverless', () => {
    const f = vfioKernel('6.1');
    attached(f, '0000:01:00.0', 6);
    expect(f.k.sysfsWrite(f.p, `/sys/bus/pci/devices/${SIB}/driver_override`, 'uio_pci_generic').ok).toBe(
      true,
    );
    expect(errnoOf(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers/uio_pci_generic/bind', SIB))).toBe('EBUSY');
    expect(errnoOf(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers_probe', SIB))).toBe('EINVAL');
    expect(f.k.readlink(f.p, `/sys/bus/pci/devices/${SIB}/driver`).ok).toBe(false);
  });

  test('iommu_group_claim_dma_owner @ 6.1: SET_CONTAINER EPERM with a DMA driver in the group', () => {
    const f = vfioKernel('6.1');
    expect(bindTo(f, '0000:01:00.0', 'vfio-pci').ok).toBe(true);
    expect(bindTo(f, SIB, 'uio_pci_generic').ok).toBe(true);
    const c = open(f, '/dev/vfio/vfio');
    const g = open(f, '/dev/vfio/6');
    expect(groupFlags(f, g)).toBe(0);
    expect(errnoOf(setContainer(f, g, c))).toBe('EPERM');
  });
});

describe('bind_store / unbind_store / drivers_probe_store', () => {
  test('bind_store @ 6.1: twice EBUSY; a forbidding driver_override ENODEV; unbind twice ENODEV', () => {
    const f = vfioKernel('6.1');
    const bind = (drv: string, bdf: string) => f.k.sysfsWrite(f.p, `/sys/bus/pci/drivers/${drv}/bind`, bdf);
    expect(f.k.sysfsWrite(f.p, '/sys/bus/pci/devices/0000:03:00.0/driver_override', 'vfio-pci').ok).toBe(
      true,
    );
    expect(errnoOf(bind('vfio-pci', '0000:03:00.0'))).toBe(12);
    expect(errnoOf(bind('vfio-pci', '0000:03:00.0'))).toBe('EBUSY');
    expect(f.k.ls(f.p, '/dev/vfio')).toMatchObject({ out: ['8', 'vfio'] });
    const un = (bdf: string) => f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers/e1000e/unbind', bdf);
    expect(f.k.sysfsWrite(f.p, '/sys/bus/pci/devices/0000:02:00.0/driver_override', 'vfio-pci').ok).toBe(
      true,
    );
    expect(errnoOf(un('0000:02:00.0'))).toBe(12);
    expect(errnoOf(un('0000:02:00.0'))).toBe('ENODEV');
    expect(errnoOf(bind('e1000e', '0000:02:00.0'))).toBe('ENODEV');
  });

  test('bind_store @ 5.10: a bound device is ENODEV (before probe errors flowed through)', () => {
    const f = vfioKernel('5.10');
    expect(errnoOf(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers/e1000e/bind', '0000:02:00.0'))).toBe('ENODEV');
  });

  test('vfio_pci_probe @ 6.1: a bridge is refused with EINVAL', () => {
    const f = vfioKernel('6.1');
    expect(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers/pcieport/unbind', '0000:00:05.0').ok).toBe(true);
    expect(f.k.sysfsWrite(f.p, '/sys/bus/pci/devices/0000:00:05.0/driver_override', 'vfio-pci').ok).toBe(
      true,
    );
    expect(errnoOf(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers/vfio-pci/bind', '0000:00:05.0'))).toBe('EINVAL');
    // drivers_probe ignores a probe's own error (__device_attach_driver)
    expect(errnoOf(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers_probe', '0000:00:05.0'))).toBe(12);
  });

  test('readlink of driver and iommu_group, and driver_override read back', () => {
    const f = vfioKernel('6.1');
    expect(f.k.readlink(f.p, '/sys/bus/pci/devices/0000:02:00.0/driver')).toMatchObject({
      out: '../../../../bus/pci/drivers/e1000e',
    });
    expect(f.k.readlink(f.p, '/sys/bus/pci/devices/0000:00:06.0/iommu_group')).toMatchObject({
      out: '../../../kernel/iommu_groups/4',
    });
    expect(f.k.sysfsRead(f.p, '/sys/bus/pci/devices/0000:00:06.0/driver_override')).toMatchObject({
      out: '(null)\n',
    });
    expect(fdOf(f.k.sysfsWrite(f.p, '/sys/bus/pci/devices/0000:00:06.0/driver_override', '\n'))).toBe(1);
  });
});

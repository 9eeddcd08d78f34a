// The fuzz's counterexamples for seed 12345 (`npm run fuzz -- --seed 12345 --vfio-runs 200000`),
// minimised, run through the checker of vfio-model.ts: each names the kernel function whose answer
// the failure was about; none may break an invariant now.
import { describe, expect, test } from 'vitest';
import type { VStep } from './vfio-arbitraries.js';
import { runVfioCase } from './vfio-model.js';

const main = (s: Record<string, unknown>): VStep => ({ p: 0, s });
const bind = (device: string, driver: string) => main({ bind: { device, driver } });

describe('fuzz seed 12345, minimised', () => {
  test('bus_rescan_devices_helper @ 6.12-iommufd-vfio-container: a bind: (driver_override, drivers_probe) of uio_pci_generic while the remove waits leaves group 6 viable (group-status)', () => {
    const o = runVfioCase({
      family: 'sysfs',
      profile: '6.12-iommufd-vfio-container',
      steps: [
        bind('0000:01:00.0', 'vfio-pci'),
        bind('0000:01:00.1', 'vfio-pci'),
        main({ open: '/dev/vfio/vfio' }),
        main({ open: '/dev/vfio/6' }),
        main({ ioctl: 'VFIO_GROUP_SET_CONTAINER', fd: 4, arg: 3 }),
        main({ ioctl: 'VFIO_GROUP_GET_DEVICE_FD', fd: 4, arg: '0000:01:00.0' }),
        main({ sysfs: '/sys/bus/pci/devices/0000:01:00.0/remove', value: '1' }),
        bind('0000:01:00.0', 'uio_pci_generic'),
        main({ sysfs: '/sys/bus/pci/drivers_probe', value: '0000:01:00.0' }),
      ],
    });
    expect(o.blocked).toBeGreaterThan(0); // the remove waited for the device fd
    expect(o.violations).toEqual([]);
  });

  test('vfio_group_ioctl_get_status @ 6.1: a rebind re-creates group 8 while its old file is open; GET_STATUS on the new file is checked against its own vfio_groups row (inspect-group)', () => {
    const o = runVfioCase({
      family: 'kvm',
      profile: '6.1',
      steps: [
        bind('0000:03:00.0', 'vfio-pci'),
        main({ open: '/dev/vfio/vfio' }),
        main({ open: '/dev/vfio/8' }),
        main({ close: 3 }),
        bind('0000:03:00.0', 'vfio-pci'),
        main({ open: '/dev/vfio/8' }),
        main({ ioctl: 'VFIO_GROUP_GET_STATUS', fd: 3 }),
      ],
    });
    expect(o.yaml).toContain('VFIO_GROUP_GET_STATUS');
    expect(o.violations).toEqual([]);
  });

  test('iommufd_device_attach @ 6.12-iommufd-vfio-container: EADDRINUSE over the MSI window is an errno VFIO_DEVICE_ATTACH_IOMMUFD_PT has (errno-path)', () => {
    const o = runVfioCase({
      family: 'iommufd',
      profile: '6.12-iommufd-vfio-container',
      steps: [
        bind('0000:03:00.0', 'vfio-pci'),
        main({ open: '/dev/iommu' }),
        main({ open: '/dev/vfio/devices/vfio0' }),
        main({ ioctl: 'VFIO_DEVICE_BIND_IOMMUFD', fd: 4, arg: { iommufd: 3 } }),
        main({ ioctl: 'IOMMU_IOAS_ALLOC', fd: 3 }),
        main({
          ioctl: 'IOMMU_IOAS_MAP',
          fd: 3,
          arg: { flags: 3, ioas_id: 2, user_va: 0, length: 0xfee00000n, iova: 0x700000n },
        }),
        main({ ioctl: 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', fd: 4, arg: { pt_id: 2 } }),
      ],
    });
    expect(o.errnos.get('ioctl vfio-device EADDRINUSE')).toBe(1);
    expect(o.violations).toEqual([]);
  });
});

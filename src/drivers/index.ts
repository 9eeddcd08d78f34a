// The one list of driver families: everything else reaches drivers through
// the kernel's registry.
import type { Kernel } from '../kernel/kernel.js';
import type { Family } from '../kernel/profile.js';
import type { DriverModule } from '../kernel/registry.js';
import { iommufdDriver } from './iommufd/iommufd.js';
import { kvmDriver } from './kvm/kvm.js';
import { pciBusDriver } from './pci/pci.js';
import { tunDriver } from './tun/tun.js';
import { vfioCdevDriver } from './vfio/cdev.js';
import { vfioDriver } from './vfio/vfio.js';
import { vhostNetDriver } from './vhost/net.js';
import { vhostVdpaDriver } from './vhost/vdpa.js';
import { vhostVsockDriver } from './vhost/vsock.js';

export const DRIVERS: readonly DriverModule[] = [
  vhostNetDriver,
  vhostVsockDriver,
  vhostVdpaDriver,
  tunDriver,
  vfioDriver,
  pciBusDriver,
  kvmDriver,
  iommufdDriver,
  vfioCdevDriver,
];

export function registerDrivers(k: Kernel): void {
  for (const d of DRIVERS) k.drivers.register(d);
}

/** The family owning a device node path, for the loader's profile check. */
export function nodeFamily(path: string): Family | undefined {
  return DRIVERS.find((d) => d.claims(path))?.family;
}

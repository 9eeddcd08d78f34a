// Which kernel function holds a vfio-pci device ioctl's checks, per era (vfio_pci.c, vfio_pci_core.c).
import type { Kernel } from '../../kernel/kernel.js';

/**
 * Its own vfio_pci_ioctl_* from 6.1 (vfio-pci-ioctl-split); before that the one big
 * vfio_pci_core_ioctl (5.15, vfio_pci_core.c) or vfio_pci_ioctl (vfio_pci.c).
 */
export function pciIoctlFn(k: Kernel, split: string): string {
  if (k.profile.has('vfio-pci-ioctl-split')) return split;
  return k.profile.has('vfio-pci-core') ? 'vfio_pci_core_ioctl' : 'vfio_pci_ioctl';
}

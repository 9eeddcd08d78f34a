// Classic-era viability (v3.6 – v5.18, vfio.md §8.1) and vfio's iommu-group notifier: a host
// driver bound into a group in use hits the BUG_ON in vfio_iommu_group_notifier. From v5.19 the
// iommu core's DMA ownership replaced all of it (bus.ts refuses the probe instead).
import type { Kernel } from '../../kernel/kernel.js';
import type { KernelBug } from '../../kernel/registry.js';
import type { ProbeEntry } from '../pci/bus.js';
import { isBridge, type PciDev } from '../pci/topology.js';
import { maybeFreeGroup, type VfioGroup, vfio } from './state.js';

/** vfio_dev_viable: may this member of the iommu group be bound as it is while the group is used? */
export function deviceViable(k: Kernel, g: VfioGroup, d: PciDev): boolean {
  if (k.profile.has('vfio-unbound-list') && g.unbound.includes(d)) return true;
  if (d.driver === null) return true;
  if (k.profile.has('vfio-viable-bridges')) {
    // @ v4.12 / v5.10: the allow-list is pci-stub alone, and any non-normal header is fine.
    if (d.driver === 'pci-stub' || isBridge(d)) return true;
  } else if (d.driver === 'pci-stub' || d.driver === 'pcieport') {
    // @ v3.19.8 / v4.0.0: vfio_driver_whitelist[] = { "pci-stub", "pcieport" }
    return true;
  }
  return g.devices.some((v) => v.pci === d);
}

/** vfio_group_viable: every device of the iommu group is viable. */
export function groupViable(k: Kernel, g: VfioGroup): boolean {
  return (g.iommu?.devices ?? []).every((d) => deviceViable(k, g, d));
}

/** The first member that makes the group non-viable, for diagnostics. */
export function nonViableMember(k: Kernel, g: VfioGroup): PciDev | undefined {
  return (g.iommu?.devices ?? []).find((d) => !deviceViable(k, g, d));
}

const WRITE_TAIL = [
  'sysfs_kf_write',
  'kernfs_fop_write_iter',
  'vfs_write',
  'ksys_write',
  'do_syscall_64',
  'entry_SYSCALL_64_after_hwframe',
];

/** The call trace printed with "kernel BUG at drivers/vfio/vfio.c", innermost first. */
function bugStack(entry: ProbeEntry): string[] {
  const notifier = [
    'vfio_iommu_group_notifier',
    'notifier_call_chain',
    'blocking_notifier_call_chain',
    'iommu_bus_notifier',
    'notifier_call_chain',
    'blocking_notifier_call_chain',
    'driver_bound',
    'really_probe',
    'driver_probe_device',
  ];
  if (entry === 'bind')
    return [...notifier, 'device_driver_attach', 'bind_store', 'drv_attr_store', ...WRITE_TAIL];
  return [
    ...notifier,
    '__device_attach_driver',
    'bus_for_each_drv',
    '__device_attach',
    'device_attach',
    'bus_rescan_devices_helper',
    'drivers_probe_store',
    'bus_attr_store',
    ...WRITE_TAIL,
  ];
}

/**
 * IOMMU_GROUP_NOTIFY_BOUND_DRIVER (before v5.19): BUG_ON(vfio_group_nb_verify(group, dev)) —
 * a group in use (container_users > 0, kvm external users included) gained a non-viable device.
 */
export function vfioNotifyBound(k: Kernel, dev: PciDev, entry: ProbeEntry): KernelBug | null {
  if (k.profile.has('vfio-dma-ownership') || entry === 'boot') return null;
  const g = vfio(k).groups.get(dev.group.id);
  if (!g || g.containerUsers === 0 || deviceViable(k, g, dev)) return null;
  return {
    ok: 'bug',
    site: {
      function: 'vfio_iommu_group_notifier',
      check: `BUG_ON(vfio_group_nb_verify(group, dev)): ${dev.bdf} bound to ${dev.driver} in group ${g.id} in use`,
      errno: 'EINVAL',
    },
    stack: bugStack(entry),
  };
}

/** IOMMU_GROUP_NOTIFY_UNBOUND_DRIVER (v4.0 – v5.18): the unbind completed; leave the unbound_list. */
export function vfioNotifyUnbound(k: Kernel, dev: PciDev): void {
  if (k.profile.has('vfio-dma-ownership')) return;
  for (const g of vfio(k).all) {
    const i = g.unbound.indexOf(dev);
    if (i < 0) continue;
    g.unbound.splice(i, 1);
    maybeFreeGroup(k, g);
  }
}

// drivers/vfio/pci/vfio_pci.c + vfio_pci_core.c: probe (registering the vfio device into its
// group) and remove (unregistering it, waiting for its fds: vfio.md §9), with the named points
// of scenario.md ("Races") in the order each release passes them.
import type { Kernel } from '../../kernel/kernel.js';
import { type Fail, fail } from '../../kernel/result.js';
import type { OpStep } from '../../kernel/tasks.js';
import { isBridge, type PciDev } from '../pci/topology.js';
import { detachGroup } from './container.js';
import { groupDropIommufd } from './group-iommufd.js';
import { groupFor, maybeFreeGroup, type VfioDevice, type VfioGroup, vfio } from './state.js';

export const POINT_DEVICE_REMOVED = 'unbind:device-removed';
export const POINT_WAITING = 'unbind:waiting-for-release';
export const POINT_CONTAINER = 'unbind:waiting-for-container';

/** The points a vfio-pci unbind passes on this release, in order (when no fd is open). */
export function unbindPoints(k: Kernel): string[] {
  const p = [POINT_DEVICE_REMOVED, POINT_WAITING];
  if (k.profile.has('vfio-container-q-stall')) p.push(POINT_CONTAINER);
  return p;
}

/** vfio_pci_probe → vfio_pci_core_register_device → vfio_register_group_dev */
export function vfioPciProbe(k: Kernel, dev: PciDev): Fail | null {
  if (isBridge(dev)) return fail('EINVAL', 'vfio_pci_probe', 'pdev->hdr_type != PCI_HEADER_TYPE_NORMAL');
  const g = groupFor(k, dev.group);
  const vd: VfioDevice = {
    pci: dev,
    group: g,
    listed: true,
    registered: true,
    openCount: 0,
    files: new Set(),
    resetWorks: false,
    kvm: null,
  };
  g.devices.push(vd);
  vfio(k).devices.set(dev, vd);
  if (k.profile.has('vfio-device-cdev')) allocCdev(k, dev);
  return null;
}

/** The vfio device ida: the lowest free N of /dev/vfio/devices/vfioN (machine.md). */
function cdevs(k: Kernel): Map<PciDev, number> {
  let m = k.globals.get('vfio-cdev') as Map<PciDev, number> | undefined;
  if (!m) {
    m = new Map();
    k.globals.set('vfio-cdev', m);
  }
  return m;
}

function allocCdev(k: Kernel, dev: PciDev): void {
  const used = new Set(cdevs(k).values());
  let n = 0;
  while (used.has(n)) n++;
  cdevs(k).set(dev, n);
}

export function cdevOf(k: Kernel, dev: PciDev): number | null {
  return cdevs(k).get(dev) ?? null;
}

/** Takes the device off the group's list (and, 4.0 – 5.18, keeps it viable on the unbound_list). */
function unlist(k: Kernel, vd: VfioDevice): void {
  const g = vd.group;
  const i = g.devices.indexOf(vd);
  if (i >= 0) g.devices.splice(i, 1);
  vd.listed = false;
  cdevs(k).delete(vd.pci);
}

/**
 * vfio_pci_remove → vfio_unregister_group_dev. From 6.6 the device leaves the list (and its
 * cdev goes) first, then the kernel waits for its fds; before, it leaves the list when its last
 * reference goes: at once with no fd open, else in the step that closes the last one.
 */
export function* vfioPciRemove(k: Kernel, dev: PciDev): Generator<OpStep, void, void> {
  const s = vfio(k);
  const vd = s.devices.get(dev);
  if (!vd) return;
  const g = vd.group;
  const released = () => vd.files.size === 0;
  if (k.profile.has('vfio-unbound-list')) g.unbound.push(dev);
  vd.registered = false;
  if (k.profile.has('vfio-unbind-removes-first') || released()) {
    unlist(k, vd);
    yield POINT_DEVICE_REMOVED;
    yield { wait: released, point: POINT_WAITING };
  } else {
    yield { wait: released, point: POINT_WAITING };
    unlist(k, vd);
    yield POINT_DEVICE_REMOVED;
  }
  s.devices.delete(dev);
  if (k.profile.has('vfio-group-disassociate')) {
    // vfio_device_remove_group: refcount_dec_and_mutex_lock(&group->drivers) counts the devices
    // that have not finished vfio_unregister_group_dev, so one still waiting for its fds (off the
    // list already from 6.6) keeps the group, its container and its iommu_group
    if (![...s.devices.values()].some((d) => d.group === g)) disassociate(k, g);
  } else if (g.devices.length === 0) {
    if (k.profile.has('vfio-container-q-stall')) {
      // wait_event(group->container_q, !group->container): uninterruptible (vfio.md §9.3)
      yield { wait: () => g.container === null, point: POINT_CONTAINER };
    }
  }
  maybeFreeGroup(k, g);
}

/** vfio_device_remove_group (6.1+): the node goes, the container is force-detached. */
function disassociate(k: Kernel, g: VfioGroup): void {
  const s = vfio(k);
  if (s.groups.get(g.id) === g) s.groups.delete(g.id);
  g.node = false;
  if (g.container) detachGroup(k, g);
  groupDropIommufd(k, g);
  g.iommu = null;
}

const TOKEN = /^vf_token=([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/;

/**
 * vfio_device_get_from_name: the device whose name matches (vfio_pci_core_match from 5.7: the BDF,
 * then optional whitespace and one vf_token=UUID). A device being unregistered is skipped.
 */
export function matchDevice(k: Kernel, g: VfioGroup, name: string): VfioDevice | Fail {
  for (const vd of g.devices) {
    if (k.profile.has('vfio-device-registration-ref') && !vd.registered) continue;
    if (!k.profile.has('vfio-pci-match-op')) {
      if (vd.pci.bdf === name) return vd;
      continue;
    }
    if (!name.startsWith(vd.pci.bdf)) continue;
    const rest = name.slice(vd.pci.bdf.length);
    if (rest === '') return vd;
    if (!/^\s/.test(rest)) continue;
    const opt = rest.trimStart();
    if (opt === '') return vd;
    const m = TOKEN.exec(opt);
    if (!m || opt.slice(m[0].length).trim() !== '')
      return fail('EINVAL', 'vfio_pci_core_match', 'unknown option or malformed vf_token');
    // A token for a device that is neither a VF nor a PF with VFs (none on this machine).
    return fail('EINVAL', 'vfio_pci_validate_vf_token', 'vf_token given for a device without SR-IOV');
  }
  return fail('ENODEV', 'vfio_device_get_from_name', 'no device of the group matches the name');
}

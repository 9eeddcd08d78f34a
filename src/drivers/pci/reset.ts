// What the PCI core can reset (drivers/pci/pci.c): a function reset for VFIO_DEVICE_RESET, and
// the slot or bus reset behind VFIO's hot reset, with the devices it affects (vfio.md §13, §14).
import type { Kernel } from '../../kernel/kernel.js';
import { type Fail, fail } from '../../kernel/result.js';
import { pciBus } from './bus.js';
import { isBridge, type PciDev } from './topology.js';

function busPeers(k: Kernel, d: PciDev): PciDev[] {
  return pciBus(k).devs.filter((x) => x.present && x.bus === d.bus);
}

/** pci_probe_reset_slot(pdev->slot) == 0: the machine gave the device a slot reset */
export function canResetSlot(d: PciDev): boolean {
  return d.reset.includes('slot');
}

/** pci_probe_reset_bus(pdev->bus) == 0: not the root bus, a bridge above that can reset it */
export function canResetBus(d: PciDev): boolean {
  return d.bus !== 0 && d.parent !== null && (d.reset.includes('bus') || d.reset.includes('slot'));
}

/**
 * pci_try_reset_function at first open decides reset_works: flr or pm, or a slot / bus reset
 * when the device is alone on its bus (pci_parent_bus_reset refuses a shared bus).
 */
export function functionResetWorks(k: Kernel, d: PciDev): boolean {
  if (d.reset.includes('flr') || d.reset.includes('pm')) return true;
  if (canResetSlot(d)) return true;
  return canResetBus(d) && busPeers(k, d).length === 1 && !isBridge(d);
}

/** vfio_pci_for_each_slot_or_bus: the devices a hot reset of `d` affects, in walk order. */
export function affectedDevices(k: Kernel, d: PciDev, slot: boolean): PciDev[] {
  const out: PciDev[] = [];
  const walk = (bus: number) => {
    for (const x of pciBus(k).devs.filter((y) => y.present && y.bus === bus)) {
      if (!slot || x === d || x.reset.includes('slot')) out.push(x);
      if (x.bridge) walk(x.bridge.secondary);
    }
  };
  walk(d.bus);
  return out;
}

/**
 * pci_dev_trylock: a driver unbind in progress holds the device lock (device_release_driver),
 * for as long as vfio-pci's remove waits for the device's fds.
 */
export function deviceLocked(d: PciDev): boolean {
  return d.unbinding;
}

/** pci_try_reset_function (VFIO_DEVICE_RESET): EAGAIN while the device lock is taken. */
export function tryResetFunction(d: PciDev): Fail | null {
  if (deviceLocked(d))
    return fail(
      'EAGAIN',
      'pci_try_reset_function',
      '!pci_dev_trylock(dev): held by the driver unbind in progress',
    );
  return null;
}

/**
 * pci_reset_bus → __pci_reset_slot / __pci_reset_bus: every device of the slot or bus (and the
 * buses below) is trylocked first (EAGAIN), then the reset; QEMU's emulated e1000e link does not
 * come back after it (the oracle's ENOTTY).
 */
export function resetBus(k: Kernel, d: PciDev): Fail | null {
  const slot = canResetSlot(d);
  const devs = affectedDevices(k, d, slot);
  const held = devs.find(deviceLocked);
  if (held)
    return fail(
      'EAGAIN',
      slot ? '__pci_reset_slot' : '__pci_reset_bus',
      `!${slot ? 'pci_slot_trylock(slot)' : 'pci_bus_trylock(bus)'}: ${held.bdf} is locked by its driver unbind`,
    );
  if (devs.some((x) => x.id === '8086:10d3'))
    return fail(
      'ENOTTY',
      'pci_bridge_wait_for_secondary_bus',
      'Data Link Layer Link Active not set in 1000 msec',
    );
  return null;
}

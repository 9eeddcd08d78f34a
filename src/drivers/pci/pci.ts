// The PCI bus as a driver family of the registry: no device node of its own, the sysfs tree,
// and the `pci` state rows (scenario.md, "What a run prints").
import type { Kernel } from '../../kernel/kernel.js';
import type { DriverModule, StateTables } from '../../kernel/registry.js';
import { fail } from '../../kernel/result.js';
import { cdevOf } from '../vfio/vfio-pci.js';
import { pciBus } from './bus.js';
import { PCI_SYSFS } from './sysfs.js';

function state(k: Kernel, t: StateTables): void {
  const rows = (t.pci ??= []);
  // Only a scenario that reached the PCI / vfio paths lists the machine's devices: the vhost
  // stories' `pci: []` stays as it was.
  if (!k.globals.has('pci')) return;
  for (const d of pciBus(k).devs) {
    if (!d.present) continue;
    const cdev = cdevOf(k, d);
    rows.push({
      bdf: d.bdf,
      id: d.id,
      driver: d.driver,
      driver_override: d.override,
      group: d.group.id,
      cdev: cdev === null ? null : `vfio${cdev}`,
    });
  }
}

export const pciBusDriver: DriverModule = {
  name: 'pci',
  family: 'vfio',
  claims: () => false,
  exists: () => false,
  open: () => fail('ENOENT', 'do_sys_open', 'no device node'),
  state,
  sysfs: PCI_SYSFS,
};

// The PCI drivers a machine can bind (machine.md): their id tables, probe and remove, and
// whether they set driver_managed_dma (v5.19, vfio.md §8.2). vfio-pci's own work lives in
// drivers/vfio/vfio-pci.ts; the driver core calls it through this table.
import type { Kernel } from '../../kernel/kernel.js';
import { type Fail, fail } from '../../kernel/result.js';
import type { OpStep } from '../../kernel/tasks.js';
import { vfioPciProbe, vfioPciRemove } from '../vfio/vfio-pci.js';
import { isBridge, type PciDev } from './topology.js';

export interface PciDriver {
  readonly name: string;
  /** struct pci_driver.driver_managed_dma: the driver never uses the DMA API (v5.19+) */
  readonly driverManagedDma: boolean;
  /** the static id table (pci_match_id without driver_override) */
  idMatch(dev: PciDev): boolean;
  /** ->probe(): null on success */
  probe(k: Kernel, dev: PciDev): Fail | null;
  /** ->remove(): may wait (vfio-pci waits for the device's fds) */
  remove?(k: Kernel, dev: PciDev): Generator<OpStep, void, void>;
}

function noIds(): boolean {
  // pci-stub, vfio-pci and uio_pci_generic have no static ids here: they bind through
  // driver_override or new_id (the oracle's way).
  return false;
}

/** The drivers in registration order (the order device_attach tries them). */
export function pciDrivers(): readonly PciDriver[] {
  return [
    {
      name: 'pcieport',
      driverManagedDma: true,
      idMatch: isBridge,
      // pcie_portdrv_probe: only root ports and switch ports
      probe: (_k, d) =>
        isBridge(d) ? null : fail('ENODEV', 'pcie_portdrv_probe', '!pci_is_pcie(dev) || type'),
    },
    {
      name: 'e1000e',
      driverManagedDma: false,
      idMatch: (d) => d.id === '8086:10d3',
      // e1000_probe on a device forced on it by driver_override (pci_match_device hands it
      // pci_device_id_any: driver_data 0, board_82571). Reachable: test/drivers/pci/sysfs.test.ts.
      // The errno is UNVERIFIED: it is whatever the first failing register access of the foreign
      // device gives (on QEMU's edu probably the PHY id read in e1000_init_phy_params_82571,
      // -E1000_ERR_PHY = -2), which needs the device model, not the kernel source, to settle.
      probe: (_k, d) => (d.id === '8086:10d3' ? null : fail('ENODEV', 'e1000_probe', 'no board for device')),
    },
    { name: 'pci-stub', driverManagedDma: true, idMatch: noIds, probe: () => null },
    { name: 'uio_pci_generic', driverManagedDma: false, idMatch: noIds, probe: () => null },
    {
      name: 'vfio-pci',
      driverManagedDma: true,
      idMatch: noIds,
      probe: vfioPciProbe,
      remove: vfioPciRemove,
    },
  ];
}

export function pciDriver(name: string): PciDriver | undefined {
  return pciDrivers().find((d) => d.name === name);
}

/** pci_match_device: driver_override names the only driver that may bind; it matches any id. */
export function driverMatches(drv: PciDriver, dev: PciDev): boolean {
  if (dev.override !== null) return dev.override === drv.name;
  return drv.idMatch(dev);
}

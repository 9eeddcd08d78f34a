// The PCI devices, buses and IOMMU groups of the machine (machine.md), as the PCI core and the
// IOMMU core see them: struct pci_dev with its bound driver and driver_override, and struct
// iommu_group with the DMA-ownership counters of v5.19 (drivers/iommu/iommu.c).
import type { Kernel } from '../../kernel/kernel.js';
import type { PciDeviceSpec } from '../../kernel/machine.js';

/** struct iommu_group: its devices and who owns its DMA (owner_cnt / owner, v5.19+) */
export interface IommuGroup {
  readonly id: number;
  readonly devices: PciDev[];
  /** kernel drivers using the DMA API, or user claims (iommu_group_claim_dma_owner) */
  ownerCnt: number;
  /** the user owner (a vfio group), or null: kernel-driver use only */
  owner: object | null;
}

export interface PciDev {
  readonly bdf: string;
  readonly id: string;
  readonly bus: number;
  readonly devfn: number;
  readonly bridge?: { readonly secondary: number };
  /** the bridge above it, or null on the root bus */
  readonly parent: PciDev | null;
  readonly group: IommuGroup;
  /** reset methods the PCI core would find (flr, pm, slot, bus) */
  readonly reset: readonly string[];
  /** the driver bound at boot (bound once, when the bus is first looked at) */
  readonly bootDriver: string | null;
  /** dev->driver */
  driver: string | null;
  /** dev->driver_override */
  override: string | null;
  /** still on the bus (sysfs `remove` takes it off) */
  present: boolean;
  /** a driver unbind is in progress (paused or waiting) */
  unbinding: boolean;
}

export interface PciBus {
  readonly devs: PciDev[];
  readonly groups: Map<number, IommuGroup>;
}

const GLOBAL = 'pci';

function parse(spec: PciDeviceSpec): { bus: number; devfn: number } {
  const bus = Number.parseInt(spec.bdf.slice(5, 7), 16);
  const dev = Number.parseInt(spec.bdf.slice(8, 10), 16);
  const fn = Number.parseInt(spec.bdf.slice(11, 12), 16);
  return { bus, devfn: (dev << 3) | fn };
}

/** The machine's PCI devices in bus order (the kernel's walk order: bus, then devfn). */
function build(k: Kernel): PciBus {
  const groups = new Map<number, IommuGroup>();
  const specs = [...k.machine.pci].sort((a, b) => a.bdf.localeCompare(b.bdf));
  const byBus = new Map<number, PciDev>();
  const devs: PciDev[] = [];
  // Bridges first, bus by bus, so a device's parent exists when it is built.
  const ordered = [...specs].sort((a, b) => parse(a).bus - parse(b).bus);
  for (const s of ordered) {
    const { bus, devfn } = parse(s);
    let g = groups.get(s.group);
    if (!g) {
      g = { id: s.group, devices: [], ownerCnt: 0, owner: null };
      groups.set(s.group, g);
    }
    const d: PciDev = {
      bdf: s.bdf,
      id: s.id,
      bus,
      devfn,
      ...(s.bridge ? { bridge: s.bridge } : {}),
      parent: bus === 0 ? null : (byBus.get(bus) ?? null),
      group: g,
      reset: s.reset,
      bootDriver: s.driver,
      driver: null,
      override: null,
      present: true,
      unbinding: false,
    };
    if (s.bridge) byBus.set(s.bridge.secondary, d);
    g.devices.push(d);
    devs.push(d);
  }
  devs.sort((a, b) => a.bdf.localeCompare(b.bdf));
  return { devs, groups };
}

/** The bus as built (drivers not yet bound at boot); bus.ts's pciBus() binds the boot drivers. */
export function rawBus(k: Kernel): { bus: PciBus; fresh: boolean } {
  const have = k.globals.get(GLOBAL) as PciBus | undefined;
  if (have) return { bus: have, fresh: false };
  const bus = build(k);
  k.globals.set(GLOBAL, bus);
  return { bus, fresh: true };
}

export function isBridge(d: PciDev): boolean {
  return d.bridge !== undefined;
}

/** The device's directory under /sys/devices: one level per bridge above it. */
export function devicesPath(d: PciDev): string {
  const chain: string[] = [];
  for (let p: PciDev | null = d; p; p = p.parent) chain.unshift(p.bdf);
  return `/sys/devices/pci0000:00/${chain.join('/')}`;
}

/** `../` from the device's directory back to /sys */
export function toSysRoot(d: PciDev): string {
  const depth = devicesPath(d).split('/').length - 2;
  return '../'.repeat(depth);
}

// The machine a scenario runs on (machine.md): PCI devices with IOMMU groups
// and drivers, simulated vDPA devices, /dev/kvm, limits. `machine:` in a
// scenario merges into the default key by key; a list given replaces the list.

export interface PciDeviceSpec {
  /** "0000:01:00.0" */
  readonly bdf: string;
  readonly id: string;
  /** the driver bound at boot, or null */
  readonly driver: string | null;
  readonly group: number;
  /** reset methods: flr, pm, slot, bus */
  readonly reset: readonly string[];
  /** a bridge or root port and the bus behind it */
  readonly bridge?: { readonly secondary: number };
  readonly acs?: boolean;
}

export type VdpaMapping = 'set_map' | 'dma_map' | 'platform';

/** A simulated vDPA device; fields left out take the profile's vdpa_sim defaults. */
export interface VdpaSpec {
  readonly name: string;
  readonly type: 'net' | 'blk';
  readonly features?: bigint;
  readonly vqs?: number;
  readonly groups?: number;
  readonly address_spaces?: number;
  readonly suspend?: boolean;
  readonly resume?: boolean;
  readonly mapping?: VdpaMapping;
  readonly use_va?: boolean;
  readonly backend_features?: bigint;
  readonly mac?: string;
  readonly mtu?: number;
}

/**
 * The emulated VT-d unit's capability registers, as its DMAR_CAP_REG / DMAR_ECAP_REG read (what
 * intel_iommu's iommu->cap / ->ecap hold and IOMMU_GET_HW_INFO reports).
 */
export interface IommuSpec {
  readonly cap: bigint;
  readonly ecap: bigint;
}

/**
 * QEMU 7.2's intel-iommu with the oracle's options (`-device intel-iommu,intremap=on`, TCG;
 * hw/i386/intel_iommu.c vtd_init, which 7.2 has not yet split into vtd_cap_init):
 * cap = FRO (0x220 << 20) | NFR (DMAR_FRCD_REG_NR 1, so 0) | ND (6: 16-bit domain ids)
 *     | MAMV (18 << 48) | PSI (bit 39) | SLLPS (bits 34, 35) | MGAW(39) ((39 - 1) << 16)
 *     | DRAIN (bits 54, 55: dma-drain defaults on) | SAGAW_39bit (0x2 << 8: aw-bits defaults to 39)
 *     = 0x00d2008c22260206;
 * ecap = QI (bit 1) | IRO (0xf0 << 4) | IR (bit 3) and MHMV (15 << 20) for intremap=on
 *      | PT (bit 6: "pt" defaults on) = 0x0000000000f00f4a.
 * Off by default and so absent: caching-mode (CM), x-scalable-mode (SMTS, SRS, SLTS), snoop-control
 * (SC), x-pasid-mode (PASID), device-iotlb (DT). EIM (bit 4) is uncertain: vtd_decide_config turns
 * eim=auto on only when kvm_irqchip_in_kernel(); the oracle runs under TCG (README: nested KVM
 * hangs), which leaves it off; its KVM mode (kernel-irqchip=split) would read 0xf00f5a.
 */
export const QEMU_VTD: IommuSpec = { cap: 0x00d2008c22260206n, ecap: 0x0000000000f00f4an };

export interface Machine {
  readonly pci: readonly PciDeviceSpec[];
  readonly vdpa: readonly VdpaSpec[];
  readonly kvm: boolean;
  readonly limits: {
    readonly memlock: bigint;
    readonly dma_entry_limit: number;
    /** the max_iotlb_entries module parameter of vhost, vhost_vdpa and vdpa_sim (each 2048 by default) */
    readonly max_iotlb_entries: number;
  };
  /** the VT-d unit every PCI device sits behind (one DRHD with INCLUDE_ALL, as QEMU's q35 builds) */
  readonly iommu: IommuSpec;
}

const dev = (
  bdf: string,
  id: string,
  driver: string | null,
  group: number,
  reset: string[] = [],
): PciDeviceSpec => ({
  bdf: `0000:${bdf}`,
  id,
  driver,
  group,
  reset,
});

/** The default machine: the one the oracle boots under QEMU (machine.md). */
export const DEFAULT_MACHINE: Machine = {
  pci: [
    dev('00:00.0', '8086:29c0', null, 0),
    { ...dev('00:03.0', '1b36:000c', 'pcieport', 1), bridge: { secondary: 1 }, acs: true },
    { ...dev('00:04.0', '1b36:000c', 'pcieport', 2), bridge: { secondary: 2 } },
    { ...dev('00:05.0', '1b36:000c', 'pcieport', 3), bridge: { secondary: 3 } },
    dev('00:06.0', '1234:11e8', null, 4),
    dev('00:1f.0', '8086:2918', null, 5),
    dev('00:1f.2', '8086:2922', null, 5),
    dev('00:1f.3', '8086:2930', null, 5),
    dev('01:00.0', '1234:11e8', null, 6, ['bus']),
    dev('01:00.1', '1234:11e8', null, 6, ['bus']),
    dev('02:00.0', '8086:10d3', 'e1000e', 7, ['pm', 'bus']),
    dev('03:00.0', '1234:11e8', null, 8, ['bus']),
  ],
  vdpa: [
    { name: 'vdpa0', type: 'net', mac: '52:54:00:12:34:56', mtu: 1500 },
    { name: 'vdpa1', type: 'blk' },
  ],
  kvm: false,
  limits: { memlock: 8n << 20n, dma_entry_limit: 65535, max_iotlb_entries: 2048 },
  iommu: QEMU_VTD,
};

export type MachinePath = readonly (string | number)[];

/** Why a `machine:` value is wrong, and where inside `machine:`. */
export interface MachineError {
  readonly path: MachinePath;
  readonly message: string;
}

type Raw = Record<string, unknown>;
const isMap = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

const SIZE = /^(\d+)([KMGT])?$/;
const MULT: Record<string, bigint> = { K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };

function size(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v !== 'string') return undefined;
  if (/^0x[0-9a-fA-F]+$/.test(v)) return BigInt(v);
  const m = SIZE.exec(v);
  return m ? BigInt(m[1]!) * (m[2] ? MULT[m[2]]! : 1n) : undefined;
}

const BDF = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const PCI_KEYS = ['bdf', 'id', 'driver', 'group', 'reset', 'bridge', 'acs'];
const VDPA_KEYS = [
  'name',
  'type',
  'features',
  'vqs',
  'groups',
  'address_spaces',
  'suspend',
  'resume',
  'mapping',
  'use_va',
  'backend_features',
  'mac',
  'mtu',
];

class Bad extends Error {
  constructor(
    readonly path: MachinePath,
    message: string,
  ) {
    super(message);
  }
}

function keys(m: Raw, path: MachinePath, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(m)) {
    if (!allowed.includes(k))
      throw new Bad([...path, k], `unknown key "${k}" in ${what} (expected one of: ${allowed.join(', ')})`);
  }
}

function int(v: unknown, path: MachinePath, what: string, max = 0xffffffff): number {
  if (typeof v !== 'bigint' || v < 0n || v > BigInt(max))
    throw new Bad(path, `${what}: expected an integer from 0 to ${max}`);
  return Number(v);
}

function bool(v: unknown, path: MachinePath, what: string): boolean {
  if (typeof v !== 'boolean') throw new Bad(path, `${what}: expected true or false`);
  return v;
}

function pciDevice(v: unknown, path: MachinePath): PciDeviceSpec {
  if (!isMap(v)) throw new Bad(path, 'a PCI device: expected a map {bdf, id, driver, group, reset}');
  keys(v, path, PCI_KEYS, 'a PCI device');
  if (typeof v.bdf !== 'string' || !BDF.test(v.bdf)) {
    throw new Bad([...path, 'bdf'], 'bdf: expected a PCI address such as "0000:01:00.0"');
  }
  const id = v.id ?? (v.bridge ? '1b36:000c' : '1234:11e8');
  if (typeof id !== 'string' || !/^[0-9a-f]{4}:[0-9a-f]{4}$/.test(id)) {
    throw new Bad([...path, 'id'], 'id: expected "vendor:device" in hex, such as "1234:11e8"');
  }
  const driver = v.driver === undefined || v.driver === 'none' || v.driver === null ? null : v.driver;
  if (driver !== null && typeof driver !== 'string')
    throw new Bad([...path, 'driver'], 'driver: expected a driver name or none');
  if (v.group === undefined) throw new Bad(path, 'a PCI device needs "group:" (its IOMMU group)');
  const group = int(v.group, [...path, 'group'], 'group');
  const reset = v.reset ?? [];
  if (!Array.isArray(reset) || !reset.every((r) => ['flr', 'pm', 'slot', 'bus'].includes(r as string))) {
    throw new Bad([...path, 'reset'], 'reset: expected a list of flr, pm, slot, bus');
  }
  const out: PciDeviceSpec = { bdf: v.bdf, id, driver, group, reset: reset as string[] };
  if (v.bridge !== undefined) {
    if (!isMap(v.bridge)) throw new Bad([...path, 'bridge'], 'bridge: expected {secondary: BUS}');
    keys(v.bridge, [...path, 'bridge'], ['secondary'], 'a bridge');
    (out as { bridge?: { secondary: number } }).bridge = {
      secondary: int(v.bridge.secondary, [...path, 'bridge', 'secondary'], 'secondary', 255),
    };
  }
  if (v.acs !== undefined) (out as { acs?: boolean }).acs = bool(v.acs, [...path, 'acs'], 'acs');
  return out;
}

function vdpaDevice(v: unknown, path: MachinePath): VdpaSpec {
  if (!isMap(v)) throw new Bad(path, 'a vDPA device: expected a map {name, type, ...}');
  keys(v, path, VDPA_KEYS, 'a vDPA device');
  if (typeof v.name !== 'string' || !/^[a-z0-9_]+$/.test(v.name))
    throw new Bad([...path, 'name'], 'name: expected a name such as vdpa0');
  if (v.type !== 'net' && v.type !== 'blk') throw new Bad([...path, 'type'], 'type: expected net or blk');
  const out: Record<string, unknown> = { name: v.name, type: v.type };
  for (const k of ['features', 'backend_features'] as const) {
    if (v[k] === undefined) continue;
    const x = size(v[k]);
    if (x === undefined || x >= 1n << 64n) throw new Bad([...path, k], `${k}: expected a 64-bit integer`);
    out[k] = x;
  }
  for (const k of ['vqs', 'groups', 'address_spaces', 'mtu'] as const)
    if (v[k] !== undefined) out[k] = int(v[k], [...path, k], k, 0xffff);
  for (const k of ['suspend', 'resume', 'use_va'] as const)
    if (v[k] !== undefined) out[k] = bool(v[k], [...path, k], k);
  if (v.mapping !== undefined) {
    if (!['set_map', 'dma_map', 'platform'].includes(v.mapping as string)) {
      throw new Bad([...path, 'mapping'], 'mapping: expected set_map, dma_map or platform');
    }
    out.mapping = v.mapping;
  }
  if (v.mac !== undefined) {
    if (typeof v.mac !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(v.mac))
      throw new Bad([...path, 'mac'], 'mac: expected aa:bb:cc:dd:ee:ff');
    out.mac = v.mac;
  }
  return out as unknown as VdpaSpec;
}

/** The machine a scenario describes: the default with `machine:` merged in, checked for consistency. */
export function buildMachine(raw: unknown): Machine | MachineError {
  try {
    if (raw === undefined || raw === null) return DEFAULT_MACHINE;
    if (!isMap(raw)) throw new Bad([], 'machine: expected a map');
    keys(raw, [], ['pci', 'vdpa', 'kvm', 'limits', 'iommu'], 'machine');
    let pci = DEFAULT_MACHINE.pci;
    if (raw.pci !== undefined) {
      if (!Array.isArray(raw.pci)) throw new Bad(['pci'], 'pci: expected a list of devices');
      pci = raw.pci.map((d, i) => pciDevice(d, ['pci', i]));
    }
    let vdpa = DEFAULT_MACHINE.vdpa;
    if (raw.vdpa !== undefined) {
      if (!Array.isArray(raw.vdpa)) throw new Bad(['vdpa'], 'vdpa: expected a list of devices');
      vdpa = raw.vdpa.map((d, i) => vdpaDevice(d, ['vdpa', i]));
    }
    const kvm = raw.kvm === undefined ? DEFAULT_MACHINE.kvm : bool(raw.kvm, ['kvm'], 'kvm');
    let limits = DEFAULT_MACHINE.limits;
    if (raw.limits !== undefined) {
      if (!isMap(raw.limits))
        throw new Bad(['limits'], 'limits: expected {memlock, dma_entry_limit, max_iotlb_entries}');
      keys(raw.limits, ['limits'], ['memlock', 'dma_entry_limit', 'max_iotlb_entries'], 'limits');
      const memlock = raw.limits.memlock === undefined ? limits.memlock : size(raw.limits.memlock);
      if (memlock === undefined) throw new Bad(['limits', 'memlock'], 'memlock: expected a size such as 8M');
      const del =
        raw.limits.dma_entry_limit === undefined
          ? limits.dma_entry_limit
          : int(raw.limits.dma_entry_limit, ['limits', 'dma_entry_limit'], 'dma_entry_limit');
      const mie =
        raw.limits.max_iotlb_entries === undefined
          ? limits.max_iotlb_entries
          : int(raw.limits.max_iotlb_entries, ['limits', 'max_iotlb_entries'], 'max_iotlb_entries');
      // the modules refuse to load with less (vhost_vdpa: <= 0; vdpa_sim: < 2)
      if (mie < 2) throw new Bad(['limits', 'max_iotlb_entries'], 'max_iotlb_entries: expected at least 2');
      limits = { memlock, dma_entry_limit: del, max_iotlb_entries: mie };
    }
    let iommu = DEFAULT_MACHINE.iommu;
    if (raw.iommu !== undefined) {
      if (!isMap(raw.iommu)) throw new Bad(['iommu'], 'iommu: expected {cap, ecap}');
      keys(raw.iommu, ['iommu'], ['cap', 'ecap'], 'iommu');
      const reg = (k: 'cap' | 'ecap'): bigint => {
        const v = (raw.iommu as Raw)[k];
        if (v === undefined) return iommu[k];
        const x = size(v);
        if (x === undefined || x >= 1n << 64n)
          throw new Bad(['iommu', k], `${k}: expected a 64-bit register value`);
        return x;
      };
      iommu = { cap: reg('cap'), ecap: reg('ecap') };
    }
    checkTopology(pci, raw.pci === undefined ? undefined : ['pci']);
    checkUnique(
      vdpa.map((d) => d.name),
      raw.vdpa === undefined ? undefined : ['vdpa'],
      'vDPA device name',
    );
    return { pci, vdpa, kvm, limits, iommu };
  } catch (e) {
    if (e instanceof Bad) return { path: e.path, message: e.message };
    throw e;
  }
}

function checkUnique(names: readonly string[], path: MachinePath | undefined, what: string): void {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) throw new Bad(path ? [...path, i] : [], `two devices with the ${what} ${n}`);
    seen.add(n);
  });
}

/** Every device sits on bus 0 or on a bus a bridge provides; BDFs are unique. */
function checkTopology(pci: readonly PciDeviceSpec[], path: MachinePath | undefined): void {
  checkUnique(
    pci.map((d) => d.bdf),
    path,
    'BDF',
  );
  const buses = new Set<number>([0]);
  for (const d of pci) if (d.bridge) buses.add(d.bridge.secondary);
  pci.forEach((d, i) => {
    const bus = Number.parseInt(d.bdf.slice(5, 7), 16);
    if (!buses.has(bus))
      throw new Bad(path ? [...path, i, 'bdf'] : [], `${d.bdf} sits on bus ${bus}, which no bridge provides`);
  });
}

export function isMachineError(m: Machine | MachineError): m is MachineError {
  return 'message' in m;
}

// The objects of the VFIO core (vfio.md §4): vfio_group, vfio_device and vfio_container, kept
// per kernel. Who holds what is explicit here so that diagnostics can say why something cannot
// be released (refs.ts).
import type { OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { IommufdCtx } from '../iommufd/iommufd.js';
import type { IommuGroup, PciDev } from '../pci/topology.js';
import type { Type1 } from './type1.js';

/** A holder of a group reference the kernel keeps on behalf of a VM (kvm-vfio, vfio.md §10). */
export interface KvmHolder {
  /** "the kvm-vfio device (file 7, fd 6 of process main) of VM 1 (VM fd 5 of process main)" */
  describe(k: Kernel): string;
  /** the kvm-vfio device's VM (group->kvm / device->kvm) */
  readonly vm: object;
}

export interface VfioDevice {
  readonly pci: PciDev;
  readonly group: VfioGroup;
  /** on group->device_list */
  listed: boolean;
  /** the driver's registration reference is still held (not yet dropped by unregister) */
  registered: boolean;
  /** open_count: opens through the group (the driver sees the first and the last) */
  openCount: number;
  readonly files: Set<OpenFile>;
  resetWorks: boolean;
  kvm: object | null;
}

export interface VfioGroup {
  readonly id: number;
  /** the iommu group; cleared when the last device leaves (v6.1, 3dd59a7dcb97) */
  iommu: IommuGroup | null;
  readonly devices: VfioDevice[];
  /** the unbound_list (v4.0 – v5.18): devices whose vfio-pci unbind has not completed */
  readonly unbound: PciDev[];
  /** the file number of the one open group file (classic: the opened flag; v5.19+: opened_file) */
  openedFile: number | null;
  container: Container | null;
  /** group->iommufd (6.2+): SET_CONTAINER was given an iommufd file, held here by reference */
  iommufd: { readonly ictx: IommufdCtx; readonly file: OpenFile } | null;
  /** SET_CONTAINER's 1, plus one per device fd, plus (classic) one per kvm external user */
  containerUsers: number;
  /** group->kvm, published by kvm-vfio GROUP_ADD */
  kvm: object | null;
  /** kvm-vfio devices holding this group (external user, or the group file from v5.19) */
  readonly kvmHolders: Set<KvmHolder>;
  /** /dev/vfio/N exists for this group object */
  node: boolean;
}

export interface Container {
  readonly id: number;
  readonly groups: VfioGroup[];
  iommu: Type1 | null;
  /** the /dev/vfio/vfio file is still open (the container outlives it while groups hold it) */
  fileOpen: boolean;
}

export interface VfioState {
  /** the group objects with a node, by iommu group id */
  readonly groups: Map<number, VfioGroup>;
  /** every group object still referenced (stale ones of v6.1+ included) */
  readonly all: Set<VfioGroup>;
  readonly devices: Map<PciDev, VfioDevice>;
  readonly containers: Set<Container>;
  nextContainer: number;
  /** the vfio files (groups from 5.19, device files from 6.6) kvm-vfio devices hold a reference to */
  readonly kvmFiles: Map<OpenFile, Set<KvmHolder>>;
}

export function vfio(k: Kernel): VfioState {
  let s = k.globals.get('vfio') as VfioState | undefined;
  if (!s) {
    s = {
      groups: new Map(),
      all: new Set(),
      devices: new Map(),
      containers: new Set(),
      nextContainer: 1,
      kvmFiles: new Map(),
    };
    k.globals.set('vfio', s);
  }
  return s;
}

/** vfio_group_find_or_alloc: the group object for this iommu group, made on first registration. */
export function groupFor(k: Kernel, iommu: IommuGroup): VfioGroup {
  const s = vfio(k);
  const have = s.groups.get(iommu.id);
  if (have) return have;
  const g: VfioGroup = {
    id: iommu.id,
    iommu,
    devices: [],
    unbound: [],
    openedFile: null,
    container: null,
    iommufd: null,
    containerUsers: 0,
    kvm: null,
    kvmHolders: new Set(),
    node: true,
  };
  s.groups.set(iommu.id, g);
  s.all.add(g);
  return g;
}

/**
 * Before v6.1 a vfio_group lives while anything references it (devices, the open file, device fds
 * through container_users, kvm external users); its node goes with it.
 */
export function maybeFreeGroup(k: Kernel, g: VfioGroup): void {
  if (k.profile.has('vfio-group-disassociate')) {
    if (!g.node && !g.openedFile && g.kvmHolders.size === 0 && g.containerUsers === 0) vfio(k).all.delete(g);
    return;
  }
  const held =
    g.devices.length > 0 ||
    g.openedFile !== null ||
    g.containerUsers > 0 ||
    g.kvmHolders.size > 0 ||
    g.unbound.length > 0;
  if (held) return;
  const s = vfio(k);
  if (s.groups.get(g.id) === g) s.groups.delete(g.id);
  g.node = false;
  s.all.delete(g);
}

/** kvm-vfio took a reference to `f` (kvm_vfio_file_add / kvm_vfio_group_add with get_file). */
export function kvmHoldFile(k: Kernel, f: OpenFile, h: KvmHolder): void {
  const m = vfio(k).kvmFiles;
  const set = m.get(f) ?? new Set<KvmHolder>();
  set.add(h);
  m.set(f, set);
}

/** ... and dropped it (FILE_DEL, or the kvm-vfio device going away). */
export function kvmDropFile(k: Kernel, f: OpenFile, h: KvmHolder): void {
  const m = vfio(k).kvmFiles;
  m.get(f)?.delete(h);
  if (m.get(f)?.size === 0) m.delete(f);
}

export function kvmHoldersOf(k: Kernel, f: OpenFile): KvmHolder[] {
  return [...(vfio(k).kvmFiles.get(f) ?? [])];
}

export function deviceFds(d: VfioDevice): number {
  return d.files.size;
}

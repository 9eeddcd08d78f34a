// struct vhost_vdpa (drivers/vhost/vdpa.c): the character device's state beside its parent, the
// per-ASID IOTLBs (struct vhost_vdpa_as), and the pinned-page accounting (mm->pinned_vm).

import type { OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { MemObject, Mm } from '../../kernel/memory.js';
import { type Fail, fail } from '../../kernel/result.js';
import { VdpaSim } from '../vdpa/sim.js';
import { SIM_BLK } from '../vdpa/sim-blk.js';
import { SIM_NET } from '../vdpa/sim-net.js';
import type { VhostDev } from './dev.js';
import { VhostIotlb } from './iotlb.js';

export const U64_MAX = (1n << 64n) - 1n;
export const PAGE_SHIFT = 12n;

/** What an IOTLB entry holds beside its address (map->opaque, and vioctl's bookkeeping). */
export interface VdpaMapCtx {
  /** PA parents: the pinned pages' object and first offset; VA parents: struct vdpa_map_file */
  readonly obj: MemObject;
  readonly offset: bigint;
  readonly pinned: boolean;
  /** the address space whose uaddr this entry names (vioctl only: REMAP / NEW_OWNER diagnostics) */
  mm: Mm | null;
}

/** struct vhost_vdpa */
export interface VhostVdpa {
  readonly index: number;
  readonly path: string;
  readonly sim: VdpaSim;
  /** atomic_t opened */
  opened: boolean;
  dev: VhostDev | null;
  file: OpenFile | null;
  /** v->as[]: the vhost-side IOTLB of each allocated ASID */
  readonly as: Map<number, VhostIotlb>;
  inBatch: boolean;
  batchAsid: number;
  range: { first: bigint; last: bigint };
  /** 6.8+ */
  suspended: boolean;
  /** 6.12 (vdpa-vring-num-max): get_vq_num_max cached at reset */
  vqNumMax: number;
  configCtx: OpenFile | null;
  configFd: number;
  /** the platform IOMMU domain's mappings (parents with neither set_map nor dma_map) */
  domain: VhostIotlb | null;
  /** V2 1/7 v->pinned_vm: pages this device pinned (PA parents) */
  pinnedVm: number;
  /** NEW_OWNER happened since open (diagnostics) */
  ownerChanged: boolean;
}

/**
 * vhost_iotlb_init(&as->iotlb, max_iotlb_entries, 0): no RETIRE, so before 'iotlb-limit-enospc' the limit
 * is never enforced; with it, a full address space refuses UPDATEs with ENOSPC.
 */
export function newAsIotlb(k: Kernel): VhostIotlb {
  const enforceLimit = k.profile.has('iotlb-limit-enospc');
  return new VhostIotlb({
    limit: enforceLimit ? k.machine.limits.max_iotlb_entries : 0,
    retire: false,
    splitFullRange: k.profile.has('iotlb-split-full-range'),
    enforceLimit,
  });
}

/** the platform IOMMU domain's mappings (iommu_map: no entry limit) */
export function newDomain(k: Kernel): VhostIotlb {
  return new VhostIotlb({ limit: 0, retire: false, splitFullRange: k.profile.has('iotlb-split-full-range') });
}

/** mm->pinned_vm, per address space */
const pinnedVm = new WeakMap<Mm, { pages: number }>();
export function mmPinned(mm: Mm): { pages: number } {
  let p = pinnedVm.get(mm);
  if (!p) {
    p = { pages: 0 };
    pinnedVm.set(mm, p);
  }
  return p;
}

/** The vhost-vdpa devices of this machine: the N-th vdpa entry is /dev/vhost-vdpa-N (probe order). */
export function vdpaDevices(k: Kernel): VhostVdpa[] {
  let list = k.globals.get('vhost-vdpa') as VhostVdpa[] | undefined;
  if (list) return list;
  list = [];
  for (const spec of k.machine.vdpa) {
    if (spec.type === 'blk' && !k.profile.has('vdpa-sim-blk')) continue;
    const sim = new VdpaSim(k, spec, spec.type === 'net' ? SIM_NET : SIM_BLK);
    // vhost_vdpa_probe: a platform-IOMMU parent with more than one group or AS is refused (no node)
    if (!sim.ops.setMap && !sim.ops.dmaMap && (sim.ngroups > 1 || sim.nas > 1)) continue;
    list.push({
      index: list.length,
      path: `/dev/vhost-vdpa-${list.length}`,
      sim,
      opened: false,
      dev: null,
      file: null,
      as: new Map(),
      inBatch: false,
      batchAsid: 0,
      range: { first: 0n, last: U64_MAX },
      suspended: false,
      vqNumMax: 0,
      configCtx: null,
      configFd: -1,
      domain: null,
      pinnedVm: 0,
      ownerChanged: false,
    });
  }
  k.globals.set('vhost-vdpa', list);
  return list;
}

/** should_fail() of an allocation in the task whose address space is `mm` (fault.ts); none without one. */
export function mmAllocFails(mm: Mm | null | undefined, site: string): boolean {
  return mm?.fault?.alloc(mm, site) ?? false;
}

/**
 * vhost_vdpa_alloc_as (5.17+): the kmalloc of the vhost_vdpa_as, in vhost_vdpa_process_iotlb_msg after
 * vhost_dev_check_owner, so in the owner's task. NULL is "can't find and alloc asid": -EINVAL.
 */
export function asAllocFails(k: Kernel, v: VhostVdpa): boolean {
  return k.profile.has('vdpa-asid') && mmAllocFails(v.dev?.owner, 'vhost_vdpa_alloc_as: kmalloc as');
}

/** vhost_vdpa_va_map: kzalloc of the vdpa_map_file, -ENOMEM (break: what was mapped is unmapped). */
export function mapFileFails(mm: Mm): Fail | null {
  return mmAllocFails(mm, 'vhost_vdpa_va_map: kzalloc map_file')
    ? fail('ENOMEM', 'vhost_vdpa_va_map', '!map_file (kzalloc)')
    : null;
}

// drivers/vdpa/vdpa_sim/vdpa_sim.c (+ the vdpa core's vdpa_device fields, include/linux/vdpa.h): the
// simulated parent behind /dev/vhost-vdpa-N (vhost.md §12.16). vhost-vdpa reaches it only through the
// config ops below; which ops exist (set_map or dma_map, suspend, resume, reset_map, ...) decides
// vhost-vdpa's answers, so they are explicit flags.
import type { Kernel } from '../../kernel/kernel.js';
import type { VdpaMapping, VdpaSpec } from '../../kernel/machine.js';
import type { Mm } from '../../kernel/memory.js';
import type { KernelProfile } from '../../kernel/profile.js';
import { type Fail, fail } from '../../kernel/result.js';
import { type IotlbMap, VhostIotlb } from '../vhost/iotlb.js';
import { type DmaView, dmaView } from './dma.js';
import type { Vringh } from './vringh.js';

export const VIRTIO_CONFIG_S_DRIVER_OK = 0x4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 0x8;
export const VIRTIO_F_ACCESS_PLATFORM = 33;
export const VIRTIO_F_VERSION_1 = 32;
/** VDPASIM_QUEUE_MAX */
export const VDPASIM_QUEUE_MAX = 256;
const U64_MAX = (1n << 64n) - 1n;
/** VHOST_MAP_RW */
const RW = 0x3;
/** VDPA_RESET_F_CLEAN_MAP */
export const VDPA_RESET_F_CLEAN_MAP = 0x1;

export const VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK = 6;
export const VHOST_BACKEND_F_NEW_OWNER = 9;
export const VHOST_BACKEND_F_IOTLB_REMAP = 10;

/** What differs between vdpa_sim_net and vdpa_sim_blk (sim-net.ts, sim-blk.ts). */
export interface SimClass {
  readonly id: number;
  /** VDPASIM_*_FEATURES of the release */
  features(p: KernelProfile): bigint;
  /** nvqs, ngroups, nas of the release */
  shape(p: KernelProfile): { nvqs: number; ngroups: number; nas: number };
  configSize(p: KernelProfile): number;
  /** the parent's config space at creation (vdpasim_*_setup_config) */
  setupConfig(sim: VdpaSim): void;
  /** dev_attr.get_config: refreshes fields before every read */
  getConfig?(sim: VdpaSim): void;
  /** dev_attr.work_fn, run synchronously where the kernel schedules the work */
  work(sim: VdpaSim): void;
  /** vdpasim_get_vq_group (net: cvq 2 is group 1) */
  vqGroup(sim: VdpaSim, idx: number): number;
}

/** The config ops a parent provides, as vhost-vdpa tests them (ops->x != NULL). */
export interface SimOps {
  readonly setMap: boolean;
  readonly dmaMap: boolean;
  readonly suspend: boolean;
  readonly resume: boolean;
  /** reset_map and compat_reset (6.7) */
  readonly resetMap: boolean;
  readonly getVqSize: boolean;
  readonly bindMm: boolean;
  /** never provided by vdpa_sim: doorbell mmap and DESC_ASID */
  readonly getVqNotification: boolean;
  readonly getVqDescGroup: boolean;
  readonly setGroupAsid: boolean;
  readonly getVqGroup: boolean;
}

/** struct vdpasim_virtqueue */
export interface SimVq {
  ready: boolean;
  descAddr: bigint;
  driverAddr: bigint;
  deviceAddr: bigint;
  num: number;
  /** the vringh the device works on; its indices are the device's vq state */
  vring: Vringh;
  /** vq->cb: vhost-vdpa's vhost_vdpa_virtqueue_cb for this vq, or null */
  cb: (() => void) | null;
  /** the address space vringh_set_iotlb pointed this vq at */
  asid: number;
}

const newVring = (): Vringh => ({
  num: VDPASIM_QUEUE_MAX,
  desc: 0n,
  avail: 0n,
  used: 0n,
  lastAvailIdx: 0,
  lastUsedIdx: 0,
});

/**
 * k.fault.alloc(mm, site) as a callback. Its own function: a closure made inside #mapFails would have V8
 * allocate #mapFails' context on every call, even on the calls that reuse a callback.
 */
function faultPoint(k: Kernel, mm: Mm, site: string): () => boolean {
  return () => k.fault.alloc(mm, site);
}

export class VdpaSim {
  /** vdpa->nvqs, ngroups, nas */
  readonly nvqs: number;
  readonly ngroups: number;
  readonly nas: number;
  readonly supported: bigint;
  readonly ops: SimOps;
  readonly useVa: boolean;
  /** vdpasim_get_backend_features (6.6+), plus the machine's extra bits */
  readonly parentBackendFeatures: bigint;
  readonly config: Uint8Array;
  readonly vqs: SimVq[];
  /** vdpasim->iommu[asid] and iommu_pt[asid] */
  readonly iommu: VhostIotlb[];
  readonly iommuPt: boolean[];
  status = 0;
  features = 0n;
  running = false;
  pendingKick = false;
  generation = 0;
  /** vdpa_device.features_valid (the core's flag) */
  featuresValid = false;
  /** vdpasim->mm_bound (use_va) */
  mmBound: Mm | null = null;
  /** the kicks the work ran for, for tests and state rows */
  workRuns = 0;

  constructor(
    readonly k: Kernel,
    readonly spec: VdpaSpec,
    readonly cls: SimClass,
  ) {
    const p = k.profile;
    const shape = cls.shape(p);
    this.nvqs = spec.vqs ?? shape.nvqs;
    this.ngroups = spec.groups ?? shape.ngroups;
    this.nas = spec.address_spaces ?? shape.nas;
    this.supported = spec.features ?? cls.features(p);
    const mapping: VdpaMapping = spec.mapping ?? 'set_map';
    const v67 = p.has('vdpa-desc-asid-persist');
    this.ops = {
      setMap: mapping === 'set_map',
      dmaMap: mapping === 'dma_map',
      suspend: spec.suspend ?? p.has('vdpa-suspend'),
      resume: spec.resume ?? p.has('vdpa-resume'),
      resetMap: v67,
      // vdpasim_config_ops (batch_mapping=0) has get_vq_size from 6.9; the batch ops never had it
      getVqSize: mapping === 'dma_map' && p.has('vdpa-vring-size'),
      bindMm: p.has('vdpa-sim-use-va'),
      getVqNotification: false,
      getVqDescGroup: false,
      setGroupAsid: p.has('vdpa-asid'),
      getVqGroup: p.has('vdpa-asid'),
    };
    this.useVa = spec.use_va ?? p.has('vdpa-sim-use-va');
    let bf = spec.backend_features ?? 0n;
    if (p.has('vdpa-enable-after-driver-ok')) bf |= 1n << BigInt(VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
    // V1 12/13 "vdpa_sim: new owner capability": NEW_OWNER always, IOTLB_REMAP on use_va devices only
    if (p.hasPatch('vhost-new-owner') || p.hasPatch('vhost-iotlb-remap')) {
      bf |= 1n << BigInt(VHOST_BACKEND_F_NEW_OWNER);
      if (this.useVa) bf |= 1n << BigInt(VHOST_BACKEND_F_IOTLB_REMAP);
    }
    this.parentBackendFeatures = bf;
    this.config = new Uint8Array(cls.configSize(p));
    this.vqs = Array.from({ length: this.nvqs }, () => ({
      ready: false,
      descAddr: 0n,
      driverAddr: 0n,
      deviceAddr: 0n,
      num: 0,
      vring: newVring(),
      cb: null,
      asid: 0,
    }));
    this.iommu = Array.from({ length: Math.max(this.nas, 1) }, () => this.newTable());
    // 6.7+: every address space starts as passthrough (one identity RW map); before, empty
    this.iommuPt = this.iommu.map((t) => {
      if (v67) t.addRange(0n, U64_MAX, 0n, RW);
      return v67;
    });
    cls.setupConfig(this);
  }

  private newTable(): VhostIotlb {
    // vhost_iotlb_init(&vdpasim->iommu[i], max_iotlb_entries, 0)
    return new VhostIotlb({
      limit: this.k.machine.limits.max_iotlb_entries,
      retire: false,
      splitFullRange: this.k.profile.has('iotlb-split-full-range'),
      enforceLimit: this.k.profile.has('iotlb-limit-enospc'),
    });
  }

  /** little endian either way on x86 (vdpasim_is_little_endian) */
  get view(): DataView {
    return new DataView(this.config.buffer);
  }

  /** The device's DMA through the address space vq `idx` is bound to. */
  dma(idx: number): DmaView {
    const iotlb = this.iommu[this.vqs[idx]!.asid]!;
    return dmaView(this.k, iotlb, this.useVa ? this.mmBound : null);
  }

  // ---- config ops

  /** vdpasim_set_driver_features: ACCESS_PLATFORM is required; unsupported bits are dropped. */
  setDriverFeatures(f: bigint): Fail | null {
    if (!((f >> BigInt(VIRTIO_F_ACCESS_PLATFORM)) & 1n)) {
      return fail(
        'EINVAL',
        'vdpasim_set_driver_features',
        '!(features & (1ULL << VIRTIO_F_ACCESS_PLATFORM))',
      );
    }
    this.features = f & this.supported;
    return null;
  }

  /** vdpasim_set_status: plain storage; running follows DRIVER_OK. */
  setStatus(s: number): void {
    this.status = s;
    this.running = (s & VIRTIO_CONFIG_S_DRIVER_OK) !== 0;
  }

  /** vdpasim_reset / vdpasim_compat_reset(flags) → vdpasim_do_reset */
  reset(flags: number): void {
    this.status = 0;
    for (const vq of this.vqs) {
      Object.assign(vq, { ready: false, descAddr: 0n, driverAddr: 0n, deviceAddr: 0n, cb: null, asid: 0 });
      vq.vring = newVring();
    }
    const v67 = this.k.profile.has('vdpa-desc-asid-persist');
    // before 6.7 vdpasim_do_reset emptied every table; from 6.7 only with CLEAN_MAP, back to passthrough
    if (!v67 || flags & VDPA_RESET_F_CLEAN_MAP) {
      this.iommu.forEach((t, i) => {
        t.reset();
        if (v67) t.addRange(0n, U64_MAX, 0n, RW);
        this.iommuPt[i] = v67;
      });
    }
    this.running = false;
    this.pendingKick = false;
    this.features = 0n;
    this.generation++;
  }

  setVqAddress(idx: number, desc: bigint, driver: bigint, device: bigint): void {
    Object.assign(this.vqs[idx]!, { descAddr: desc, driverAddr: driver, deviceAddr: device });
  }

  setVqNum(idx: number, num: number): void {
    this.vqs[idx]!.num = num;
  }

  /** vdpasim_set_vq_ready: a newly ready vq takes its addresses and num; last_used = last_avail. */
  setVqReady(idx: number, ready: boolean): void {
    const vq = this.vqs[idx]!;
    const old = vq.ready;
    vq.ready = ready;
    if (ready && !old) {
      const last = vq.vring.lastAvailIdx;
      vq.vring = {
        num: vq.num,
        desc: vq.descAddr,
        avail: vq.driverAddr,
        used: vq.deviceAddr,
        lastAvailIdx: last,
        lastUsedIdx: last,
      };
    }
  }

  /** vdpasim_set_vq_state: the split avail index only */
  setVqState(idx: number, availIndex: number): void {
    this.vqs[idx]!.vring.lastAvailIdx = availIndex & 0xffff;
  }

  getVqState(idx: number): number {
    return this.vqs[idx]!.vring.lastAvailIdx;
  }

  /** vdpasim_get_vq_size (dma_map ops only): num once DRIVER_OK, else the maximum */
  getVqSize(idx: number): number {
    return this.status & VIRTIO_CONFIG_S_DRIVER_OK ? this.vqs[idx]!.num : VDPASIM_QUEUE_MAX;
  }

  getVqGroup(idx: number): number {
    return this.cls.vqGroup(this, idx);
  }

  /**
   * vdpasim_set_group_asid. Before cd025c1e876b the parent checked group > ngroups (off by one: group ==
   * ngroups passes and matches no vq) and asid >= nas; with the backport vhost-vdpa checks instead.
   */
  setGroupAsid(group: number, asid: number): Fail | null {
    const fn = 'vdpasim_set_group_asid';
    if (!this.k.profile.has('vdpa-group-bound-check')) {
      if (group > this.ngroups) return fail('EINVAL', fn, 'group > vdpasim->dev_attr.ngroups');
      if (asid >= this.nas) return fail('EINVAL', fn, 'asid >= vdpasim->dev_attr.nas');
    }
    for (let i = 0; i < this.nvqs; i++) if (this.getVqGroup(i) === group) this.vqs[i]!.asid = asid;
    return null;
  }

  /** vdpasim_set_map: the table becomes a copy of vhost-vdpa's; passthrough is dropped. */
  setMap(asid: number, from: VhostIotlb, mm?: Mm | null): Fail | null {
    if (asid >= this.nas) return fail('EINVAL', 'vdpasim_set_map', 'asid >= vdpasim->dev_attr.nas');
    const t = this.iommu[asid]!;
    t.reset();
    this.iommuPt[asid] = false;
    const mapFails = this.#mapFails(mm, 'vdpasim_set_map: vhost_iotlb_add_range kmalloc map');
    for (const m of from.maps()) {
      // a failed kmalloc (-ENOMEM) leaves the table reset (err: vhost_iotlb_reset), empty
      const r = t.addRange(m.start, m.last, m.addr, m.perm, undefined, mapFails);
      if (r !== 'ok') {
        t.reset();
        return fail(r, 'vdpasim_set_map', 'vhost_iotlb_add_range(&vdpasim->iommu[asid], ...)');
      }
    }
    return null;
  }

  /**
   * The fault point of vhost_iotlb_add_range_ctx's kmalloc(GFP_ATOMIC) when the sim's table is changed
   * from a task (`mm`: the caller, vhost-vdpa's owner); none without one.
   */
  #mapFails(mm: Mm | null | undefined, site: string): (() => boolean) | undefined {
    if (!mm) return undefined;
    // made once per (site, mm) and kept: a new closure on every dma_map was one more allocation per UPDATE
    const had = this.#faultFns.get(site);
    if (had?.mm === mm) return had.fn;
    const fn = faultPoint(this.k, mm, site);
    this.#faultFns.set(site, { mm, fn });
    return fn;
  }

  /** #mapFails' callbacks: per site, the last caller's mm and its fault point */
  readonly #faultFns = new Map<string, { mm: Mm; fn: () => boolean }>();

  private dropPassthrough(asid: number): void {
    if (this.iommuPt[asid]) {
      this.iommu[asid]!.reset();
      this.iommuPt[asid] = false;
    }
  }

  /** vdpasim_dma_map */
  dmaMap(asid: number, iova: bigint, size: bigint, pa: bigint, perm: number, mm?: Mm | null): Fail | null {
    const fn = 'vdpasim_dma_map';
    if (asid >= this.nas) return fail('EINVAL', fn, 'asid >= vdpasim->dev_attr.nas');
    this.dropPassthrough(asid);
    const last = BigInt.asUintN(64, iova + size - 1n);
    const mapFails = this.#mapFails(mm, 'vdpasim_dma_map: vhost_iotlb_add_range_ctx kmalloc map');
    const r = this.iommu[asid]!.addRange(iova, last, pa, perm, undefined, mapFails);
    if (r !== 'ok') return fail(r, fn, 'vhost_iotlb_add_range_ctx(&vdpasim->iommu[asid], ...)');
    return null;
  }

  /** vdpasim_dma_unmap */
  dmaUnmap(asid: number, iova: bigint, size: bigint): Fail | null {
    if (asid >= this.nas) return fail('EINVAL', 'vdpasim_dma_unmap', 'asid >= vdpasim->dev_attr.nas');
    this.dropPassthrough(asid);
    this.iommu[asid]!.freeRange(iova, BigInt.asUintN(64, iova + size - 1n));
    return null;
  }

  /** vdpasim_reset_map: back to passthrough */
  resetMap(asid: number): void {
    if (asid >= this.nas || this.iommuPt[asid]) return;
    this.iommu[asid]!.reset();
    this.iommu[asid]!.addRange(0n, U64_MAX, 0n, RW);
    this.iommuPt[asid] = true;
  }

  suspend(): void {
    this.running = false;
  }

  /** vdpasim_resume: running again, and every vq kicked if a kick came while suspended */
  resume(): void {
    this.running = true;
    if (this.pendingKick) {
      for (let i = 0; i < this.nvqs; i++) this.kickVq(i);
      this.pendingKick = false;
    }
  }

  /** vdpasim_kick_vq: 6.9+ remembers a kick that arrives while suspended; a ready vq runs the work. */
  kickVq(idx: number): void {
    if (this.k.profile.has('vdpa-vring-size') && !this.running && this.status & VIRTIO_CONFIG_S_DRIVER_OK) {
      this.pendingKick = true;
      return;
    }
    if (this.vqs[idx]!.ready) {
      this.workRuns++;
      this.cls.work(this);
    }
  }

  /** vdpasim_get_config: reads past the end copy nothing (the buffer stays zeroed) */
  getConfig(off: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    if (off + len > this.config.length) return out;
    this.cls.getConfig?.(this);
    out.set(this.config.subarray(off, off + len));
    return out;
  }

  setConfig(off: number, data: Uint8Array): void {
    if (off + data.length > this.config.length) return;
    this.config.set(data, off);
  }

  /** bind_mm / unbind_mm (use_va parents, 6.4+) */
  bindMm(mm: Mm | null): void {
    this.mmBound = mm;
  }

  /** The device's own table of an address space, for `inspect: iotlb` (view 'device'). */
  deviceMaps(asid: number): IotlbMap[] {
    return this.iommu[asid]?.maps() ?? [];
  }
}

// drivers/vhost/vhost.h: struct vhost_dev and struct vhost_virtqueue, their
// initial values and the reset paths (vhost.md §4).
import type { Waiter } from '../../kernel/eventfd.js';
import type { CallCtx, OpenFile } from '../../kernel/file.js';
import type { Mm } from '../../kernel/memory.js';
import type { Process } from '../../kernel/process.js';
import type { IotlbMap, VhostIotlb } from './iotlb.js';

export const U64_MAX = (1n << 64n) - 1n;

/** A queued IOTLB message (struct vhost_msg_node): `version` is the header format it was created with. */
export interface VhostMsgNode {
  version: 1 | 2;
  asid: number;
  iova: bigint;
  size: bigint;
  uaddr: bigint;
  perm: number;
  type: number;
  /** the vq whose access missed (node->vq) */
  vq: number;
}

export type MetaType = 0 | 1 | 2; // VHOST_ADDR_DESC, VHOST_ADDR_AVAIL, VHOST_ADDR_USED

export interface VhostVirtqueue {
  readonly index: number;
  num: number;
  desc: bigint;
  avail: bigint;
  used: bigint;
  logUsed: boolean;
  logAddr: bigint;
  lastAvailIdx: number;
  availIdx: number;
  lastUsedIdx: number;
  usedFlags: number;
  signalledUsed: number;
  signalledUsedValid: boolean;
  /** private_data: net's socket, vsock's running marker; vhost-vdpa never sets it */
  backend: unknown;
  ackedFeatures: bigint;
  ackedBackendFeatures: bigint;
  kick: OpenFile | null;
  call: OpenFile | null;
  err: OpenFile | null;
  /** the fd numbers the owner passed for kick, call and err (state tables), −1 for none */
  kickFd: number;
  callFd: number;
  errFd: number;
  /** our wait-queue entry on the kick eventfd (vhost_poll) */
  kickWaiter: Waiter | null;
  busyloopTimeout: number;
  userBe: boolean;
  logBase: bigint;
  /** meta_iotlb[]: the maps prefetch found covering desc, avail and used */
  meta: [IotlbMap | null, IotlbMap | null, IotlbMap | null];
  /** the family's kick handler (handle_kick), run when the kick eventfd is signalled */
  handleKick: ((ctx: CallCtx, vq: VhostVirtqueue) => void) | null;
  /** vq->dev */
  dev: VhostDev | null;
}

export interface VhostDev {
  readonly family: 'vhost-net' | 'vhost-vsock' | 'vhost-vdpa';
  /** the owner's address space (dev->mm) and the process that set it, for display */
  owner: Mm | null;
  ownerProc: Process | null;
  umem: VhostIotlb | null;
  iotlb: VhostIotlb | null;
  readList: VhostMsgNode[];
  pendingList: VhostMsgNode[];
  readonly vqs: VhostVirtqueue[];
  logCtx: OpenFile | null;
  /** the file this device belongs to (state tables) */
  fileId: number;
}

export function newVirtqueue(index: number): VhostVirtqueue {
  const vq: VhostVirtqueue = {
    index,
    num: 1,
    desc: 0n,
    avail: 0n,
    used: 0n,
    logUsed: false,
    logAddr: U64_MAX,
    lastAvailIdx: 0,
    availIdx: 0,
    lastUsedIdx: 0,
    usedFlags: 0,
    signalledUsed: 0,
    signalledUsedValid: false,
    backend: null,
    ackedFeatures: 0n,
    ackedBackendFeatures: 0n,
    kick: null,
    call: null,
    err: null,
    kickFd: -1,
    callFd: -1,
    errFd: -1,
    kickWaiter: null,
    busyloopTimeout: 0,
    userBe: false,
    logBase: 0n,
    meta: [null, null, null],
    handleKick: null,
    dev: null,
  };
  return vq;
}

/** vhost_dev_init */
export function newVhostDev(family: VhostDev['family'], nvqs: number, fileId: number): VhostDev {
  const dev: VhostDev = {
    family,
    owner: null,
    ownerProc: null,
    umem: null,
    iotlb: null,
    readList: [],
    pendingList: [],
    vqs: Array.from({ length: nvqs }, (_, i) => newVirtqueue(i)),
    logCtx: null,
    fileId,
  };
  for (const vq of dev.vqs) vq.dev = dev;
  return dev;
}

/**
 * vhost_poll_queue / vhost_work_queue: the family's handler runs in the vhost worker, a kernel
 * thread, so its allocations and copies are no fault points of the caller's fail_nth (fault.ts).
 */
export function queueKick(ctx: CallCtx, vq: VhostVirtqueue): void {
  const h = vq.handleKick;
  if (h) ctx.k.fault.asWorker(() => h(ctx, vq));
}

/** vhost_vq_reset: every field back to its initial value, handler kept. */
export function resetVirtqueue(vq: VhostVirtqueue): void {
  const { handleKick, dev } = vq;
  Object.assign(vq, newVirtqueue(vq.index));
  vq.handleKick = handleKick;
  vq.dev = dev;
}

/** __vhost_vq_meta_reset */
export function metaReset(dev: VhostDev): void {
  for (const vq of dev.vqs) vq.meta = [null, null, null];
}

export function hasFeature(vq: VhostVirtqueue, bit: number): boolean {
  return ((vq.ackedFeatures >> BigInt(bit)) & 1n) === 1n;
}

/**
 * The last backend feature word tested and its low 32 bits as a number: vhost_chr_write_iter tests a
 * bit on every message, the word changes only at VHOST_SET_BACKEND_FEATURES, and a bigint shift and mask
 * allocate two bigints per test. (Every backend feature bit is below 32; a higher one takes the bigint way.)
 */
let backendWord = 0n;
let backendLow = 0;

export function hasBackendFeature(vq: VhostVirtqueue, bit: number): boolean {
  const word = vq.ackedBackendFeatures;
  if (bit >= 32) return ((word >> BigInt(bit)) & 1n) === 1n;
  if (word !== backendWord) {
    backendLow = Number(BigInt.asUintN(32, word));
    backendWord = word;
  }
  return ((backendLow >>> bit) & 1) === 1;
}

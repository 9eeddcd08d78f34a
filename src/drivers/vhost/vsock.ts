// drivers/vhost/vsock.c: /dev/vhost-vsock (vhost.md §11).
import type { CallCtx, FileOps, OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Diagnostic, DriverModule, Opened, StateTables } from '../../kernel/registry.js';
import { type Fail, fail, ok, type SysOutcome, type SysResult } from '../../kernel/result.js';
import { copyScalarFromUser, copyScalarToUser } from '../../kernel/uaccess.js';
import { vhostIoctl } from '../../uapi/vhost.js';
import {
  bit,
  VHOST_BACKEND_F_IOTLB_MSG_V2,
  VHOST_F_LOG_ALL,
  VHOST_FEATURES,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_VSOCK_F_SEQPACKET,
} from './bits.js';
import {
  checkOwner,
  devCleanup,
  devOrVringIoctl,
  dropDeviceIotlb,
  initDeviceIotlb,
  logAccessOkDev,
  NR,
  vqAccessCheck,
} from './core.js';
import { newVhostDev, queueKick, type VhostDev, type VhostVirtqueue } from './dev.js';
import { chrPoll, chrRead, chrWrite } from './iotlb-msg.js';
import {
  addUsed,
  disableNotify,
  enableNotify,
  getVqDesc,
  readChain,
  vhostSignal,
  vqErr,
  vqInitAccess,
  vqMetaPrefetch,
} from './ring.js';
import { vhostFilesDiagnostics, vhostState } from './state.js';

const SET_GUEST_CID = vhostIoctl('VHOST_VSOCK_SET_GUEST_CID').number;
const SET_RUNNING = vhostIoctl('VHOST_VSOCK_SET_RUNNING').number;
const VSOCK_VQ_RX = 0;
const VSOCK_VQ_TX = 1;
const VMADDR_CID_HOST = 2n;
const U32_MAX = 0xffffffffn;
/** struct virtio_vsock_hdr */
const HDR_SIZE = 44;
const VIRTIO_VSOCK_MAX_PKT_BUF_SIZE = 64 * 1024;

export interface VhostVsock {
  readonly dev: VhostDev;
  guestCid: bigint;
  seqpacketAllow: boolean;
  readonly path: string;
}

/** the vhost_vsock_hash: guest CID → the instance that holds it, per kernel */
function cidHash(k: Kernel): Map<bigint, VhostVsock> {
  let h = k.globals.get('vhost-vsock') as Map<bigint, VhostVsock> | undefined;
  if (!h) {
    h = new Map();
    k.globals.set('vhost-vsock', h);
  }
  return h;
}

/** VHOST_VSOCK_FEATURES of the release */
export function vsockFeatures(k: Kernel): bigint {
  let f = VHOST_FEATURES;
  if (k.profile.has('vsock-iotlb')) f |= bit(VIRTIO_F_ACCESS_PLATFORM);
  if (k.profile.has('vsock-seqpacket')) f |= bit(VIRTIO_VSOCK_F_SEQPACKET);
  return f;
}

const VHOST_VSOCK_BACKEND_FEATURES = bit(VHOST_BACKEND_F_IOTLB_MSG_V2);

/** vhost_vsock_set_cid */
function setCid(ctx: CallCtx, v: VhostVsock, argp: bigint): SysResult {
  const fn = 'vhost_vsock_set_cid';
  const cid = copyScalarFromUser(ctx.proc.mm, argp, 'u64');
  if (cid === undefined)
    return fail('EFAULT', 'vhost_vsock_dev_ioctl', 'copy_from_user(&guest_cid, argp, sizeof(guest_cid))');
  if (cid <= VMADDR_CID_HOST || cid === U32_MAX)
    return fail('EINVAL', fn, 'guest_cid <= VMADDR_CID_HOST || guest_cid == U32_MAX');
  if (cid > U32_MAX) return fail('EINVAL', fn, 'guest_cid > U32_MAX (64-bit CIDs are not yet supported)');
  const h = cidHash(ctx.k);
  const other = h.get(cid);
  if (other && other !== v) return fail('EADDRINUSE', fn, 'vhost_vsock_get(guest_cid) && other != vsock');
  if (v.guestCid) h.delete(v.guestCid);
  v.guestCid = cid;
  h.set(cid, v);
  return ok(0);
}

/** vhost_vsock_start */
function start(ctx: CallCtx, v: VhostVsock): SysResult {
  const dev = v.dev;
  const e = checkOwner(ctx, dev);
  if (e) return e;
  for (const vq of dev.vqs) {
    const bad = vqAccessCheck(ctx.k, dev, vq);
    let err: SysResult | null = bad ? fail('EFAULT', bad.function, bad.check) : null;
    if (!err && vq.backend === null) {
      vq.backend = v;
      const ia = vqInitAccess(ctx, vq);
      if (ia) err = fail('EFAULT', ia.function, ia.check);
    }
    if (err) {
      for (const q of dev.vqs) q.backend = null;
      if (dev.iotlb && !bad) diagnoseEmptyIotlb(ctx, dev, vq);
      return err;
    }
  }
  // Packets queued before the start are sent now: the RX side's send work runs.
  const rx = dev.vqs[VSOCK_VQ_RX]!;
  queueKick(ctx, rx);
  return ok(0);
}

/** What the kernel does not say: why the start failed, and what the VMM should have done. */
function diagnoseEmptyIotlb(ctx: CallCtx, dev: VhostDev, vq: VhostVirtqueue): void {
  const n = dev.iotlb?.nmaps ?? 0;
  ctx.k.diagnose(
    'vhost-iotlb-miss-at-start',
    `VHOST_VSOCK_SET_RUNNING failed: VIRTIO_F_ACCESS_PLATFORM was acked, so the device translates every ring ` +
      `address as an IOVA through its device IOTLB (${n} entries), and the used ring of vq ${vq.index} at iova ` +
      `0x${vq.used.toString(16)} is not mapped. A MISS was queued for read(); the device stays stopped and every ` +
      `kick is ignored. A VMM that does not serve IOTLB messages must not pass VIRTIO_F_ACCESS_PLATFORM to ` +
      `VHOST_SET_FEATURES: mask the guest's features with the bits it implements, as QEMU does.`,
  );
}

/** A kick the device cannot act on, said in plain words (the kernel is silent). */
function diagnoseKick(ctx: CallCtx, vq: VhostVirtqueue, why: 'stopped' | 'miss'): void {
  const dev = vq.dev!;
  if (why === 'stopped') {
    ctx.k.diagnose(
      'vhost-kick-not-running',
      `kick on vq ${vq.index} ignored: the device is not running (no successful VHOST_VSOCK_SET_RUNNING), ` +
        "so the guest's buffers are never used and it waits forever.",
    );
    return;
  }
  const last = dev.readList[dev.readList.length - 1];
  ctx.k.diagnose(
    'vhost-kick-iotlb-miss',
    `kick on vq ${vq.index} stalled: a ring address is not in the device IOTLB` +
      (last ? ` (MISS queued for iova 0x${last.iova.toString(16)})` : '') +
      '; nothing is processed until userspace answers the MISS with an IOTLB UPDATE.',
  );
}

/** vhost_vsock_stop */
function stop(ctx: CallCtx | null, v: VhostVsock): SysResult {
  if (ctx) {
    const e = checkOwner(ctx, v.dev);
    if (e) return e;
  }
  for (const vq of v.dev.vqs) vq.backend = null;
  return ok(0);
}

/** vhost_vsock_set_features */
function setFeatures(ctx: CallCtx, v: VhostVsock, features: bigint): SysResult {
  const fn = 'vhost_vsock_set_features';
  if (features & ~vsockFeatures(ctx.k)) return fail('EOPNOTSUPP', fn, 'features & ~VHOST_VSOCK_FEATURES');
  if (features & bit(VHOST_F_LOG_ALL) && !logAccessOkDev(ctx.k, v.dev)) {
    return fail('EFAULT', fn, '(features & (1 << VHOST_F_LOG_ALL)) && !vhost_log_access_ok(&vsock->dev)');
  }
  if (features & bit(VIRTIO_F_ACCESS_PLATFORM)) {
    if (!initDeviceIotlb(ctx, v.dev))
      return fail('EFAULT', fn, 'vhost_init_device_iotlb(&vsock->dev) (-ENOMEM)');
  } else if (ctx.k.profile.has('vsock-drop-iotlb')) dropDeviceIotlb(ctx, v.dev);
  // every call sets it from the features: a later SET_FEATURES without SEQPACKET clears it again
  v.seqpacketAllow = (features & bit(VIRTIO_VSOCK_F_SEQPACKET)) !== 0n;
  for (const vq of v.dev.vqs) vq.ackedFeatures = features;
  return ok(0);
}

/** vhost_vsock_dev_ioctl */
function ioctl(ctx: CallCtx, f: OpenFile<VhostVsock>, cmd: number, argp: bigint): SysOutcome {
  const v = f.priv;
  const k = ctx.k;
  const mm = ctx.proc.mm;
  const iotlbApi = k.profile.has('vsock-iotlb');
  switch (cmd) {
    case SET_GUEST_CID:
      return setCid(ctx, v, argp);
    case SET_RUNNING: {
      const s = copyScalarFromUser(mm, argp, 's32');
      if (s === undefined)
        return fail('EFAULT', 'vhost_vsock_dev_ioctl', 'copy_from_user(&start, argp, sizeof(start))');
      return s ? start(ctx, v) : stop(ctx, v);
    }
    case NR.GET_FEATURES:
      if (!copyScalarToUser(mm, argp, 'u64', vsockFeatures(k))) {
        return fail('EFAULT', 'vhost_vsock_dev_ioctl', 'copy_to_user(argp, &features, sizeof(features))');
      }
      return ok(0);
    case NR.SET_FEATURES: {
      const feat = copyScalarFromUser(mm, argp, 'u64');
      if (feat === undefined)
        return fail('EFAULT', 'vhost_vsock_dev_ioctl', 'copy_from_user(&features, argp, sizeof(features))');
      return setFeatures(ctx, v, feat);
    }
  }
  if (iotlbApi && cmd === NR.GET_BACKEND_FEATURES) {
    if (!copyScalarToUser(mm, argp, 'u64', VHOST_VSOCK_BACKEND_FEATURES)) {
      return fail('EFAULT', 'vhost_vsock_dev_ioctl', 'copy_to_user(argp, &features, sizeof(features))');
    }
    return ok(0);
  }
  if (iotlbApi && cmd === NR.SET_BACKEND_FEATURES) {
    const feat = copyScalarFromUser(mm, argp, 'u64');
    if (feat === undefined)
      return fail('EFAULT', 'vhost_vsock_dev_ioctl', 'copy_from_user(&features, argp, sizeof(features))');
    if (feat & ~VHOST_VSOCK_BACKEND_FEATURES) {
      return fail('EOPNOTSUPP', 'vhost_vsock_dev_ioctl', 'features & ~VHOST_VSOCK_BACKEND_FEATURES');
    }
    for (const vq of v.dev.vqs) vq.ackedBackendFeatures = feat;
    return ok(0);
  }
  const r = devOrVringIoctl(ctx, v.dev, cmd, argp);
  return r.ok === false && r.errno === 'ENOIOCTLCMD' ? fail('ENOTTY', r.site.function, r.site.check) : r;
}

/** vhost_transport_do_send_pkt on the RX vq: nothing arrives from a socket, so only the prefetch runs. */
function handleRxKick(ctx: CallCtx, vq: VhostVirtqueue): void {
  if (vq.backend === null) return;
  if (!vqMetaPrefetch(ctx, vq)) {
    diagnoseKick(ctx, vq, 'miss');
    return;
  }
  disableNotify(ctx, vq);
  enableNotify(ctx, vq);
}

/** vhost_vsock_handle_tx_kick: consume every packet the guest queued; payloads go nowhere. */
function handleTxKick(ctx: CallCtx, vq: VhostVirtqueue): void {
  if (vq.backend === null) {
    diagnoseKick(ctx, vq, 'stopped');
    return;
  }
  if (!vqMetaPrefetch(ctx, vq)) {
    diagnoseKick(ctx, vq, 'miss');
    return;
  }
  disableNotify(ctx, vq);
  let added = false;
  const old = vq.lastUsedIdx;
  for (let guard = 0; guard <= 0x10000; guard++) {
    const chain = getVqDesc(ctx, vq);
    if (chain === 'error') break;
    if (chain === 'empty') {
      if (enableNotify(ctx, vq)) {
        disableNotify(ctx, vq);
        continue;
      }
      break;
    }
    // vhost_vsock_alloc_pkt: no device-writable buffers, a whole header, then the payload it announces.
    if (chain.in.length || chain.outLen < HDR_SIZE) {
      vqErr(ctx, vq); // "Faulted on pkt": the buffer is consumed but never completed
      continue;
    }
    const hdr = readChain(vq, chain, HDR_SIZE);
    const len = hdr ? new DataView(hdr.buffer).getUint32(24, true) : 0;
    if (!hdr || len > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE || chain.outLen - HDR_SIZE < len) {
      vqErr(ctx, vq);
      continue;
    }
    if (!addUsed(ctx, vq, chain.head, HDR_SIZE + len)) {
      vqErr(ctx, vq);
      break;
    }
    added = true;
  }
  if (added) vhostSignal(ctx, vq, old);
}

function release(k: Kernel, f: OpenFile<VhostVsock>): void {
  const v = f.priv;
  // Before 5.17 the release path checked the owner and skipped the stop from another process.
  stop(null, v);
  if (v.guestCid) {
    const h = cidHash(k);
    if (h.get(v.guestCid) === v) h.delete(v.guestCid);
  }
  devCleanup(k, v.dev);
}

const BASE_OPS = {
  kind: 'vhost-vsock',
  ioctl,
  release,
  defaultMsgVersion: (f: OpenFile<VhostVsock>): 1 | 2 =>
    f.priv.dev.vqs[0]!.ackedBackendFeatures & bit(VHOST_BACKEND_F_IOTLB_MSG_V2) ? 2 : 1,
};
const OPS_NO_IOTLB: FileOps<VhostVsock> = BASE_OPS;
const OPS_IOTLB: FileOps<VhostVsock> = {
  ...BASE_OPS,
  read: (ctx, f, buf, len, nonblock) => chrRead(ctx, f.priv.dev, buf, len, nonblock),
  write: (ctx, f, buf, len) => chrWrite(ctx, f.priv.dev, buf, len),
  poll: (_ctx, f) => chrPoll(f.priv.dev),
};

export const vhostVsockDriver: DriverModule = {
  name: 'vhost-vsock',
  family: 'vhost-vsock',
  claims: (path) => path === '/dev/vhost-vsock',
  exists: () => true,
  /**
   * vhost_vsock_dev_open. kvmalloc of struct vhost_vsock is no fault point: larger than a page, its
   * failed kmalloc try falls back to vmalloc, so one injected fault cannot fail it. The vqs array's
   * kmalloc_array can: -ENOMEM, the device freed.
   */
  open(ctx: CallCtx, path: string, _flags: number, fileId: number): Opened | Fail {
    if (ctx.k.allocFails(ctx.proc, 'vhost_vsock_dev_open: kmalloc_array vqs'))
      return fail('ENOMEM', 'vhost_vsock_dev_open', '!vqs (kmalloc_array)');
    const dev = newVhostDev('vhost-vsock', 2, fileId);
    dev.vqs[VSOCK_VQ_RX]!.handleKick = handleRxKick;
    dev.vqs[VSOCK_VQ_TX]!.handleKick = handleTxKick;
    const priv: VhostVsock = { dev, guestCid: 0n, seqpacketAllow: false, path };
    return { ops: ctx.k.profile.has('vsock-iotlb') ? OPS_IOTLB : OPS_NO_IOTLB, priv };
  },
  stateDiagnostics: (k: Kernel): Diagnostic[] => vhostFilesDiagnostics(k, 'vhost-vsock'),
  leaks: (k: Kernel): string[] =>
    [...cidHash(k).keys()].map((cid) => `guest CID ${cid} still in vhost_vsock_hash`),
  state(k: Kernel, tables: StateTables): void {
    for (const f of k.files.values()) {
      if (f.ops.kind !== 'vhost-vsock') continue;
      const v = f.priv as VhostVsock;
      vhostState(k, tables, v.dev, f.path, {
        guest_cid: Number(v.guestCid),
        running: v.dev.vqs.some((q) => q.backend !== null),
        // vsock->seqpacket_allow (5.14+): what vhost_transport_seqpacket_allow answers a host
        // SOCK_SEQPACKET connect to this CID; no ioctl reads it back
        ...(k.profile.has('vsock-seqpacket') ? { seqpacket_allow: v.seqpacketAllow } : {}),
      });
    }
  },
};

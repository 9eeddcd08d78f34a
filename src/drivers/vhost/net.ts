// drivers/vhost/net.c: /dev/vhost-net (vhost.md §10). Two vqs, RX 0 and TX 1; the backend of a vq is
// a tun/tap file (tun.ts). A tap interface is never up in vioctl, so nothing arrives on RX, and TX
// buffers small enough for vhost's XDP batching are completed with used length 0; the rest go back.
import { POLLERR, POLLIN, POLLOUT } from '../../kernel/eventfd.js';
import type { CallCtx, FileOps, OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Diagnostic, DriverModule, Opened, StateTables } from '../../kernel/registry.js';
import { type Fail, fail, ok, type SysOutcome, type SysResult } from '../../kernel/result.js';
import { copyScalarFromUser, copyScalarToUser, copyStructFromUser } from '../../kernel/uaccess.js';
import { vhost_vring_file, vhostIoctl } from '../../uapi/vhost.js';
import { tunChrPoll, tunSocketOf } from '../tun/tun.js';
import {
  bit,
  VHOST_BACKEND_F_IOTLB_MSG_V2,
  VHOST_F_LOG_ALL,
  VHOST_FEATURES,
  VHOST_NET_F_VIRTIO_NET_HDR,
  VIRTIO_F_ACCESS_PLATFORM,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_MRG_RXBUF,
} from './bits.js';
import {
  checkOwner,
  clearMsgs,
  devCleanup,
  devOrVringIoctl,
  dropDeviceIotlb,
  hasOwner,
  initDeviceIotlb,
  logAccessOkDev,
  NR,
  newIotlb,
  setOwner,
  vqAccessCheck,
} from './core.js';
import { newVhostDev, queueKick, type VhostDev, type VhostVirtqueue } from './dev.js';
import { chrPoll, chrRead, chrWrite } from './iotlb-msg.js';
import {
  addUsed,
  type DescChain,
  disableNotify,
  discardVqDesc,
  enableNotify,
  getVqDesc,
  readChain,
  vhostSignal,
  vqErr,
  vqInitAccess,
  vqMetaPrefetch,
} from './ring.js';
import { vhostFilesDiagnostics, vhostState } from './state.js';

const SET_BACKEND = vhostIoctl('VHOST_NET_SET_BACKEND').number;
const VHOST_NET_VQ_RX = 0;
const VHOST_NET_VQ_TX = 1;
const VHOST_NET_VQ_MAX = 2;
const VHOST_NET_BACKEND_FEATURES = bit(VHOST_BACKEND_F_IOTLB_MSG_V2);
/** heads completed per vhost_tx_batch, and the packet / byte weights after which the work re-queues */
const VHOST_NET_BATCH = 64;
const VHOST_NET_PKT_WEIGHT = 256;
const VHOST_NET_WEIGHT = 0x80000;
/** sizeof(struct virtio_net_hdr) and sizeof(struct virtio_net_hdr_mrg_rxbuf) */
const NET_HDR_LEN = 10;
const NET_HDR_MRG_LEN = 12;
/** x86-64: NET_IP_ALIGN 0 + NET_SKB_PAD 64; SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) 320 */
const VHOST_NET_RX_PAD = 64;
const SKB_SHARED_INFO = 320;
const PAGE_SIZE = 4096;

export interface VhostNet {
  readonly dev: VhostDev;
  /** vhost_hlen and sock_hlen of both vqs: who adds and strips the virtio-net header */
  vhostHlen: number;
  sockHlen: number;
}

/** VHOST_NET_FEATURES of the release */
export function netFeatures(k: Kernel): bigint {
  let f = VHOST_FEATURES | bit(VHOST_NET_F_VIRTIO_NET_HDR) | bit(VIRTIO_NET_F_MRG_RXBUF);
  f |= bit(VIRTIO_F_ACCESS_PLATFORM);
  if (k.profile.has('net-ring-reset')) f |= bit(VIRTIO_F_RING_RESET);
  return f;
}

/**
 * Whether VHOST_NET_SET_BACKEND with fd −1 runs vhost_clear_msg: 9526f9a2b762 "vhost/net: Clear the
 * pending messages when the backend is removed" (6.2; stable 5.10.168, 6.1.y: Debian 6.1.192 has it).
 * Mainline 5.10 and 5.15 do not; until the profiles name this change, every profile gets it.
 */
function clearsMsgsOnUnbind(k: Kernel): boolean {
  return k.profile.has('net-backend-clear-msg');
}

/** vhost_vq_get_backend: the tun file whose socket the vq uses (we hold a reference to it). */
function sockOf(vq: VhostVirtqueue): OpenFile | null {
  return (vq.backend as OpenFile | null) ?? null;
}

/**
 * get_socket: −1 detaches; otherwise a raw packet socket (none exist in vioctl) or a tun/tap file,
 * whose reference we take (get_tap_socket's fget). Every other failure, EBADF for a closed fd
 * number included, is discarded for ENOTSOCK.
 */
function getSocket(ctx: CallCtx, fd: number): OpenFile | null | SysResult {
  if (fd === -1) return null;
  const f = ctx.k.fget(ctx.proc, fd);
  if (!f || !tunSocketOf(f)) {
    return fail('ENOTSOCK', 'get_socket', 'get_raw_socket(fd) and get_tap_socket(fd) failed');
  }
  f.refs++;
  return f;
}

/** vhost_net_enable_vq → vhost_poll_start on the socket's file: EPOLLERR (no interface) is EINVAL. */
function enableVq(ctx: CallCtx, vq: VhostVirtqueue): SysResult | null {
  const f = sockOf(vq);
  const tf = f ? tunSocketOf(f) : undefined;
  if (!tf) return null;
  const mask = tunChrPoll(tf);
  if (mask & (vq.index === VHOST_NET_VQ_TX ? POLLOUT : POLLIN)) queueKick(ctx, vq);
  return mask & POLLERR ? fail('EINVAL', 'vhost_poll_start', 'mask & EPOLLERR') : null;
}

/** vhost_net_set_backend (vhost.md §10.1) */
function setBackend(ctx: CallCtx, n: VhostNet, index: bigint, fd: number): SysResult {
  const fn = 'vhost_net_set_backend';
  const dev = n.dev;
  const e = checkOwner(ctx, dev);
  if (e) return e;
  if (index >= BigInt(VHOST_NET_VQ_MAX)) return fail('ENOBUFS', fn, 'index >= VHOST_NET_VQ_MAX');
  const vq = dev.vqs[Number(index)]!;
  if (fd === -1 && clearsMsgsOnUnbind(ctx.k)) clearMsgs(dev);
  const bad = vqAccessCheck(ctx.k, dev, vq);
  if (bad) return fail('EFAULT', bad.function, bad.check);
  const sock = getSocket(ctx, fd);
  if (sock !== null && 'ok' in sock) return sock;
  const old = sockOf(vq);
  if (sock !== old) {
    vq.backend = sock;
    const ia = vqInitAccess(ctx, vq);
    const err = ia ? fail('EFAULT', ia.function, ia.check) : enableVq(ctx, vq);
    if (err) {
      vq.backend = old;
      if (sock) ctx.k.fput(sock);
      return err;
    }
  }
  if (old) ctx.k.fput(old);
  return ok(0);
}

/** vhost_net_set_features: header lengths, the LOG_ALL check, a new device IOTLB for ACCESS_PLATFORM. */
function setFeatures(ctx: CallCtx, n: VhostNet, features: bigint): SysResult {
  const hdrLen =
    features & (bit(VIRTIO_NET_F_MRG_RXBUF) | bit(VIRTIO_F_VERSION_1)) ? NET_HDR_MRG_LEN : NET_HDR_LEN;
  const vhostProvides = (features & bit(VHOST_NET_F_VIRTIO_NET_HDR)) !== 0n;
  if (features & bit(VHOST_F_LOG_ALL) && !logAccessOkDev(ctx.k, n.dev)) {
    return fail(
      'EFAULT',
      'vhost_net_set_features',
      '(features & (1 << VHOST_F_LOG_ALL)) && !vhost_log_access_ok(&n->dev)',
    );
  }
  if (features & bit(VIRTIO_F_ACCESS_PLATFORM)) {
    if (!initDeviceIotlb(ctx, n.dev))
      return fail('EFAULT', 'vhost_net_set_features', 'vhost_init_device_iotlb(&n->dev) (-ENOMEM)');
  } else if (ctx.k.profile.has('net-drop-iotlb')) dropDeviceIotlb(ctx, n.dev);
  for (const vq of n.dev.vqs) vq.ackedFeatures = features;
  n.vhostHlen = vhostProvides ? hdrLen : 0;
  n.sockHlen = vhostProvides ? 0 : hdrLen;
  return ok(0);
}

/** vhost_net_stop: every vq loses its socket; the caller drops the references. */
function stop(n: VhostNet): OpenFile[] {
  const socks: OpenFile[] = [];
  for (const vq of n.dev.vqs) {
    const s = sockOf(vq);
    if (s) socks.push(s);
    vq.backend = null;
  }
  return socks;
}

/** vhost_net_vq_reset */
function vqReset(n: VhostNet): void {
  n.vhostHlen = 0;
  n.sockHlen = 0;
}

/** vhost_net_reset_owner (vhost.md §5.4): the device is left with an empty, non-NULL memory table. */
function resetOwner(ctx: CallCtx, n: VhostNet): SysResult {
  const e = checkOwner(ctx, n.dev);
  if (e) return e;
  // vhost_dev_reset_owner_prepare: iotlb_alloc's kzalloc; failing, nothing is stopped or reset
  if (ctx.k.allocFails(ctx.proc, 'vhost_dev_reset_owner_prepare: iotlb_alloc (vhost_iotlb_alloc kzalloc)'))
    return fail('ENOMEM', 'vhost_net_reset_owner', '!umem (vhost_dev_reset_owner_prepare)');
  const umem = newIotlb(ctx.k);
  const socks = stop(n);
  devCleanup(ctx.k, n.dev);
  n.dev.umem = umem;
  vqReset(n);
  for (const s of socks) ctx.k.fput(s);
  return ok(0);
}

/** vhost_net_set_owner: EBUSY when owned, then vhost_dev_set_owner. */
function setOwnerNet(ctx: CallCtx, n: VhostNet): SysResult {
  if (hasOwner(n.dev)) return fail('EBUSY', 'vhost_net_set_owner', 'vhost_dev_has_owner(&n->dev)');
  return setOwner(ctx, n.dev);
}

/** vhost_net_ioctl */
function ioctl(ctx: CallCtx, f: OpenFile<VhostNet>, cmd: number, argp: bigint): SysOutcome {
  const fn = 'vhost_net_ioctl';
  const n = f.priv;
  const mm = ctx.proc.mm;
  switch (cmd) {
    case SET_BACKEND: {
      const b = copyStructFromUser(ctx, argp, vhost_vring_file);
      if (!b) return fail('EFAULT', fn, 'copy_from_user(&backend, argp, sizeof backend)');
      return setBackend(ctx, n, b.index!, Number(b.fd!));
    }
    case NR.GET_FEATURES:
      if (!copyScalarToUser(mm, argp, 'u64', netFeatures(ctx.k))) {
        return fail('EFAULT', fn, 'copy_to_user(featurep, &features, sizeof features)');
      }
      return ok(0);
    case NR.SET_FEATURES: {
      const feat = copyScalarFromUser(mm, argp, 'u64');
      if (feat === undefined)
        return fail('EFAULT', fn, 'copy_from_user(&features, featurep, sizeof features)');
      if (feat & ~netFeatures(ctx.k)) return fail('EOPNOTSUPP', fn, 'features & ~VHOST_NET_FEATURES');
      return setFeatures(ctx, n, feat);
    }
    case NR.GET_BACKEND_FEATURES:
      if (!copyScalarToUser(mm, argp, 'u64', VHOST_NET_BACKEND_FEATURES)) {
        return fail('EFAULT', fn, 'copy_to_user(featurep, &features, sizeof(features))');
      }
      return ok(0);
    case NR.SET_BACKEND_FEATURES: {
      const feat = copyScalarFromUser(mm, argp, 'u64');
      if (feat === undefined)
        return fail('EFAULT', fn, 'copy_from_user(&features, featurep, sizeof(features))');
      if (feat & ~VHOST_NET_BACKEND_FEATURES) {
        return fail('EOPNOTSUPP', fn, 'features & ~VHOST_NET_BACKEND_FEATURES');
      }
      for (const vq of n.dev.vqs) vq.ackedBackendFeatures = feat; // vhost_set_backend_features
      return ok(0);
    }
    case NR.RESET_OWNER:
      return resetOwner(ctx, n);
    case NR.SET_OWNER:
      return setOwnerNet(ctx, n);
  }
  const r = devOrVringIoctl(ctx, n.dev, cmd, argp);
  return r.ok === false && r.errno === 'ENOIOCTLCMD' ? fail('ENOTTY', r.site.function, r.site.check) : r;
}

/** SKB_DATA_ALIGN / ALIGN(x, SMP_CACHE_BYTES) on x86-64 */
const align64 = (x: number): number => Math.ceil(x / 64) * 64;

/**
 * vhost_net_build_xdp: whether the packet goes out in the XDP batch. The socket's header must be
 * there and, with NEEDS_CSUM, cover the checksum; a packet too big for one page (ENOSPC) takes the
 * single-packet path, where tun_get_user refuses it (EIO: the interface is down).
 */
function buildXdp(n: VhostNet, vq: VhostVirtqueue, chain: DescChain, len: number): boolean {
  if (len < n.sockHlen) return false; // -EFAULT
  if (align64(len + align64(VHOST_NET_RX_PAD + n.sockHlen)) + SKB_SHARED_INFO > PAGE_SIZE) return false;
  if (!n.sockHlen) return true;
  const h = readChain(vq, chain, n.sockHlen);
  if (!h || h.length !== n.sockHlen) return false; // -EFAULT
  const v = new DataView(h.buffer);
  const csum = v.getUint16(6, true) + v.getUint16(8, true) + 2;
  return !(h[0]! & 1 && csum > v.getUint16(2, true) && csum > len); // VIRTIO_NET_HDR_F_NEEDS_CSUM: -EINVAL
}

/** vhost_tx_batch → vhost_net_signal_used: the batched heads go to the used ring (len 0), one signal. */
function txBatch(ctx: CallCtx, vq: VhostVirtqueue, heads: number[]): void {
  if (!heads.length) return;
  const old = vq.lastUsedIdx;
  for (const head of heads) {
    if (!addUsed(ctx, vq, head, 0)) {
      vqErr(ctx, vq); // "Failed to write used"
      break;
    }
  }
  heads.length = 0;
  vhostSignal(ctx, vq, old);
}

/** get_tx_bufs: the next chain and its length past vhost's header, or 'stop' after a vq error. */
function getTxBufs(
  ctx: CallCtx,
  n: VhostNet,
  vq: VhostVirtqueue,
): { chain: DescChain; len: number } | 'empty' | 'stop' {
  const chain = getVqDesc(ctx, vq);
  if (chain === 'error') return 'stop';
  if (chain === 'empty') return 'empty';
  const len = Math.max(0, chain.outLen - n.vhostHlen);
  if (chain.in.length || len === 0) {
    vqErr(ctx, vq); // "Unexpected descriptor format for TX" / "Unexpected header len for TX"
    return 'stop';
  }
  return { chain, len };
}

/** handle_tx → handle_tx_copy; true when vhost_exceeds_weight re-queued the work. */
function handleTxCopy(ctx: CallCtx, n: VhostNet, vq: VhostVirtqueue): boolean {
  if (vq.backend === null) return false;
  if (!vqMetaPrefetch(ctx, vq)) return false;
  disableNotify(ctx, vq);
  const heads: number[] = [];
  let sent = 0;
  let total = 0;
  let requeue = false;
  for (;;) {
    if (heads.length === VHOST_NET_BATCH) txBatch(ctx, vq, heads);
    const b = getTxBufs(ctx, n, vq);
    if (b === 'stop') break;
    if (b === 'empty') {
      if (!enableNotify(ctx, vq)) break;
      disableNotify(ctx, vq);
    } else {
      total += b.len;
      if (!buildXdp(n, vq, b.chain, b.len)) {
        txBatch(ctx, vq, heads);
        discardVqDesc(vq, 1);
        break;
      }
      heads.push(b.chain.head);
    }
    if (++sent >= VHOST_NET_PKT_WEIGHT || total >= VHOST_NET_WEIGHT) {
      requeue = true;
      break;
    }
  }
  txBatch(ctx, vq, heads);
  return requeue;
}

/** handle_tx_kick: handle_tx, run again while it re-queues itself. */
function handleTx(ctx: CallCtx, n: VhostNet, vq: VhostVirtqueue): void {
  while (handleTxCopy(ctx, n, vq));
}

/**
 * handle_rx_kick → handle_rx: the tap's queue is always empty, so after the prefetch the handler
 * only disables notifications and goes back to polling the socket; they stay disabled (busy polling
 * with busyloop_timeout is not modelled).
 */
function handleRx(ctx: CallCtx, vq: VhostVirtqueue): void {
  if (vq.backend === null) return;
  if (!vqMetaPrefetch(ctx, vq)) return;
  disableNotify(ctx, vq);
}

/** vhost_net_release: stop, clean up, then drop the sockets. */
function release(k: Kernel, f: OpenFile<VhostNet>): void {
  const n = f.priv;
  const socks = stop(n);
  devCleanup(k, n.dev);
  vqReset(n);
  for (const s of socks) k.fput(s);
}

const OPS: FileOps<VhostNet> = {
  kind: 'vhost-net',
  ioctl,
  read: (ctx, f, buf, len, nonblock) => chrRead(ctx, f.priv.dev, buf, len, nonblock),
  write: (ctx, f, buf, len) => chrWrite(ctx, f.priv.dev, buf, len),
  poll: (_ctx, f) => chrPoll(f.priv.dev),
  release,
};

export const vhostNetDriver: DriverModule = {
  name: 'vhost-net',
  family: 'vhost-net',
  claims: (path) => path === '/dev/vhost-net',
  exists: () => true,
  /**
   * vhost_net_open. kvmalloc of struct vhost_net is no fault point (larger than a page: a failed
   * kmalloc try falls back to vmalloc); the vqs, rx queue and xdp arrays are, each -ENOMEM with the
   * earlier ones freed.
   */
  open(ctx: CallCtx, _path: string, _flags: number, fileId: number): Opened | Fail {
    for (const what of ['vqs', 'rxq.queue', 'xdp']) {
      if (ctx.k.allocFails(ctx.proc, `vhost_net_open: kmalloc_array ${what}`))
        return fail('ENOMEM', 'vhost_net_open', `!${what} (kmalloc_array)`);
    }
    const dev = newVhostDev('vhost-net', VHOST_NET_VQ_MAX, fileId);
    const n: VhostNet = { dev, vhostHlen: 0, sockHlen: 0 };
    dev.vqs[VHOST_NET_VQ_RX]!.handleKick = handleRx;
    dev.vqs[VHOST_NET_VQ_TX]!.handleKick = (ctx, vq) => handleTx(ctx, n, vq);
    return { ops: OPS, priv: n };
  },
  stateDiagnostics: (k: Kernel): Diagnostic[] => vhostFilesDiagnostics(k, 'vhost-net'),
  state(k: Kernel, tables: StateTables): void {
    for (const f of k.files.values()) {
      if (f.ops.kind !== 'vhost-net') continue;
      vhostState(k, tables, (f.priv as VhostNet).dev, f.path, {});
    }
  },
};

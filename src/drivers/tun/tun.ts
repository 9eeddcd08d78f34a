// drivers/net/tun.c: /dev/net/tun, as far as vhost-net's users need it. TUNSETIFF creates a tun or
// tap interface (or attaches to one), and the file then works as the socket VHOST_NET_SET_BACKEND
// takes. Nothing in vioctl brings an interface up (no SIOCSIFFLAGS), so it stays down: the host
// stack routes no packet to it, reads find nothing, writes end in tun_get_user's EIO and poll never
// reports writable. Interfaces live in the kernel's network namespace (k.globals 'tun'), with 'lo'.
import { POLLERR } from '../../kernel/eventfd.js';
import type { CallCtx, FileOps, OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { DriverModule, Opened } from '../../kernel/registry.js';
import { type Fail, fail, ok, type SysOutcome, type SysResult } from '../../kernel/result.js';
import { copyScalarFromUser } from '../../kernel/uaccess.js';
import { constantValue } from '../../uapi/constants.js';
import { IFNAMSIZ, IFREQ_SIZE, TUN_IOCTLS } from '../../uapi/tun.js';

function tunIoctl(name: string): number {
  const d = TUN_IOCTLS.find((x) => x.name === name);
  if (!d) throw new Error(`internal: no tun ioctl ${name}`);
  return d.number;
}

function iff(name: string): number {
  const v = constantValue(name);
  if (v === undefined) throw new Error(`internal: no constant ${name}`);
  return Number(v);
}

const TUNSETIFF = tunIoctl('TUNSETIFF');
const TUNGETIFF = tunIoctl('TUNGETIFF');
const TUNSETVNETHDRSZ = tunIoctl('TUNSETVNETHDRSZ');

const IFF_TUN = iff('IFF_TUN');
const IFF_TAP = iff('IFF_TAP');
const IFF_NAPI = iff('IFF_NAPI');
const IFF_NAPI_FRAGS = iff('IFF_NAPI_FRAGS');
const IFF_MULTI_QUEUE = iff('IFF_MULTI_QUEUE');
const IFF_NO_PI = iff('IFF_NO_PI');
const IFF_VNET_HDR = iff('IFF_VNET_HDR');
const IFF_TUN_EXCL = iff('IFF_TUN_EXCL');
const IFF_NOFILTER = iff('IFF_NOFILTER');
const TUN_TYPE_MASK = 0x000f;
const TUN_FEATURES =
  IFF_NO_PI | iff('IFF_ONE_QUEUE') | IFF_VNET_HDR | IFF_MULTI_QUEUE | IFF_NAPI | IFF_NAPI_FRAGS;
const MAX_TAP_QUEUES = 256;
/** net/core/dev.c max_netdevices: the slots dev_alloc_name looks through (8 × PAGE_SIZE) */
const MAX_NETDEVICES = 8 * 4096;
/** sizeof(struct virtio_net_hdr), the default tun->vnet_hdr_sz */
const VIRTIO_NET_HDR_SIZE = 10;
const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
const ETH_HLEN = 14;
const TUN_PI_SIZE = 4;
const FN_IOCTL = '__tun_chr_ioctl';
const FN_SET_IFF = 'tun_set_iff';

/** struct tun_struct: one interface and the files attached to it as queues. */
export interface TunIface {
  readonly name: string;
  /** tun->flags: IFF_TUN or IFF_TAP, and the TUN_FEATURES bits TUNSETIFF asked for */
  flags: number;
  /** tun->vnet_hdr_sz */
  vnetHdrSz: number;
  /** tun->tfiles */
  readonly queues: TunFile[];
}

/** struct tun_file: an open /dev/net/tun, attached to an interface after TUNSETIFF. */
export interface TunFile {
  /** tfile->tun */
  iface: TunIface | null;
}

/** The namespace's net devices by name: tun interfaces, and the host's own ('lo'), which tun only names. */
type NetDevs = Map<string, TunIface | 'host'>;

function netdevs(k: Kernel): NetDevs {
  let m = k.globals.get('tun') as NetDevs | undefined;
  if (!m) {
    m = new Map([['lo', 'host']]);
    k.globals.set('tun', m);
  }
  return m;
}

/** tun_get_socket: any /dev/net/tun file is a socket (private_data is set at open), attached or not. */
export function tunSocketOf(f: OpenFile): TunFile | undefined {
  return f.ops === (TUN_OPS as FileOps<unknown>) ? (f.priv as TunFile) : undefined;
}

/** tun_chr_poll: EPOLLERR without an interface; else nothing, as a down interface is never writable. */
export function tunChrPoll(tf: TunFile): number {
  return tf.iface ? 0 : POLLERR;
}

function cString(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** dev_valid_name (the name is at most IFNAMSIZ − 1 bytes already: __tun_chr_ioctl cut it) */
function devValidName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

/** __dev_alloc_name: the lowest N not taken by a device named as `fmt` prints it. */
function devAllocName(devs: NetDevs, fmt: string): string | Fail {
  const fn = '__dev_alloc_name';
  const p = fmt.indexOf('%');
  if (fmt[p + 1] !== 'd' || fmt.includes('%', p + 2))
    return fail('EINVAL', fn, "p[1] != 'd' || strchr(p + 2, '%')");
  const pre = fmt.slice(0, p);
  const post = fmt.slice(p + 2);
  const print = (i: number) => (pre + i + post).slice(0, IFNAMSIZ - 1);
  const inuse = new Set<number>();
  for (const name of devs.keys()) {
    const m = name.startsWith(pre) ? /^[+-]?\d+/.exec(name.slice(pre.length)) : null;
    const i = m ? Number(m[0]) : -1;
    if (i >= 0 && i < MAX_NETDEVICES && print(i) === name) inuse.add(i);
  }
  let i = 0;
  while (inuse.has(i)) i++;
  const buf = print(i);
  return devs.has(buf) ? fail('ENFILE', fn, 'netdev_name_in_use(net, buf)') : buf;
}

/** dev_get_valid_name, as register_netdevice calls it for a new interface */
function devGetValidName(devs: NetDevs, name: string): string | Fail {
  if (!devValidName(name)) return fail('EINVAL', 'dev_get_valid_name', '!dev_valid_name(name)');
  if (name.includes('%')) return devAllocName(devs, name);
  return name;
}

/** tun_attach: a second queue needs IFF_MULTI_QUEUE. */
function tunAttach(tf: TunFile, iface: TunIface): Fail | null {
  if (!(iface.flags & IFF_MULTI_QUEUE) && iface.queues.length === 1) {
    return fail('EBUSY', 'tun_attach', '!(tun->flags & IFF_MULTI_QUEUE) && tun->numqueues == 1');
  }
  if (iface.queues.length === MAX_TAP_QUEUES) {
    return fail('E2BIG', 'tun_attach', 'tun->numqueues + tun->numdisabled == MAX_TAP_QUEUES');
  }
  iface.queues.push(tf);
  tf.iface = iface;
  return null;
}

/** tun_set_iff, an interface of that name exists: attach to it as one more queue. */
function attachExisting(tf: TunFile, dev: TunIface | 'host', flags: number): Fail | null {
  if (flags & IFF_TUN_EXCL) return fail('EBUSY', FN_SET_IFF, 'ifr->ifr_flags & IFF_TUN_EXCL');
  const type = dev === 'host' ? 0 : dev.flags & TUN_TYPE_MASK;
  if (dev === 'host' || !((flags & IFF_TUN && type === IFF_TUN) || (flags & IFF_TAP && type === IFF_TAP))) {
    return fail('EINVAL', FN_SET_IFF, 'dev->netdev_ops is not that of a tun (IFF_TUN) or tap (IFF_TAP)');
  }
  if (!!(flags & IFF_MULTI_QUEUE) !== !!(dev.flags & IFF_MULTI_QUEUE)) {
    return fail(
      'EINVAL',
      FN_SET_IFF,
      '!!(ifr->ifr_flags & IFF_MULTI_QUEUE) != !!(tun->flags & IFF_MULTI_QUEUE)',
    );
  }
  const e = tunAttach(tf, dev);
  if (e) return e;
  if (dev.flags & IFF_MULTI_QUEUE && dev.queues.length > 1) return null;
  dev.flags = (dev.flags & ~TUN_FEATURES) | (flags & TUN_FEATURES);
  return null;
}

/** tun_set_iff, no interface of that name: create one (tun%d / tap%d when no name is given). */
function createIface(ctx: CallCtx, tf: TunFile, name: string, flags: number): Fail | null {
  if (!ctx.proc.capable('CAP_NET_ADMIN')) {
    return fail('EPERM', FN_SET_IFF, '!ns_capable(net->user_ns, CAP_NET_ADMIN)');
  }
  let type: number;
  if (flags & IFF_TUN) type = IFF_TUN;
  else if (flags & IFF_TAP) type = IFF_TAP;
  else return fail('EINVAL', FN_SET_IFF, 'neither IFF_TUN nor IFF_TAP in ifr->ifr_flags');
  // alloc_netdev_mqs, before the name is checked (register_netdevice): its kvzalloc of the device
  // falls back to vmalloc, dev_addr_init's kzalloc does not; NULL is -ENOMEM, nothing created
  if (ctx.k.allocFails(ctx.proc, 'alloc_netdev_mqs: dev_addr_init kzalloc'))
    return fail('ENOMEM', FN_SET_IFF, '!dev (alloc_netdev_mqs)');
  const devs = netdevs(ctx.k);
  const valid = devGetValidName(devs, name || (type === IFF_TUN ? 'tun%d' : 'tap%d'));
  if (typeof valid !== 'string') return valid;
  const iface: TunIface = {
    name: valid,
    flags: type | (flags & TUN_FEATURES),
    vnetHdrSz: VIRTIO_NET_HDR_SIZE,
    queues: [],
  };
  tunAttach(tf, iface);
  devs.set(valid, iface);
  return null;
}

/** tun_set_iff: the name decides between attaching and creating. */
function tunSetIff(ctx: CallCtx, tf: TunFile, name: string, flags: number): Fail | null {
  if (flags & IFF_NAPI_FRAGS) {
    if (!ctx.proc.capable('CAP_NET_ADMIN')) return fail('EPERM', FN_SET_IFF, '!capable(CAP_NET_ADMIN)');
    if (!(flags & IFF_NAPI) || (flags & TUN_TYPE_MASK) !== IFF_TAP) {
      return fail('EINVAL', FN_SET_IFF, '!(ifr_flags & IFF_NAPI) || (ifr_flags & TUN_TYPE_MASK) != IFF_TAP');
    }
  }
  const dev = name ? netdevs(ctx.k).get(name) : undefined;
  return dev ? attachExisting(tf, dev, flags) : createIface(ctx, tf, name, flags);
}

/** __tun_chr_ioctl, TUNSETIFF: the ifreq in, the interface's name written back into ifr_name. */
function setIffIoctl(ctx: CallCtx, tf: TunFile, argp: bigint): SysResult {
  const ifr = ctx.proc.mm.copyFromUser(argp, IFREQ_SIZE);
  if (!ifr) return fail('EFAULT', FN_IOCTL, 'copy_from_user(&ifr, argp, ifreq_len)');
  if (tf.iface) return fail('EEXIST', FN_IOCTL, 'TUNSETIFF: tun_get(tfile) (already attached)');
  ifr[IFNAMSIZ - 1] = 0;
  const flags = new DataView(ifr.buffer).getUint16(IFNAMSIZ, true);
  const e = tunSetIff(ctx, tf, cString(ifr.subarray(0, IFNAMSIZ)), flags);
  if (e) return e;
  const name = tf.iface!.name;
  for (let i = 0; i < name.length; i++) ifr[i] = name.charCodeAt(i);
  ifr[name.length] = 0;
  if (!ctx.proc.mm.copyToUser(argp, ifr))
    return fail('EFAULT', FN_IOCTL, 'copy_to_user(argp, &ifr, ifreq_len)');
  return ok(0);
}

/** tun_get_iff (TUNGETIFF): name and flags; IFF_NOFILTER (= IFF_NO_PI) is set as no filter is attached. */
function getIffIoctl(ctx: CallCtx, iface: TunIface, argp: bigint): SysResult {
  const ifr = new Uint8Array(IFREQ_SIZE);
  for (let i = 0; i < iface.name.length; i++) ifr[i] = iface.name.charCodeAt(i);
  const flags = (iface.flags & (TUN_FEATURES | IFF_TUN | IFF_TAP)) | IFF_NOFILTER;
  new DataView(ifr.buffer).setUint16(IFNAMSIZ, flags, true);
  if (!ctx.proc.mm.copyToUser(argp, ifr))
    return fail('EFAULT', FN_IOCTL, 'copy_to_user(argp, &ifr, ifreq_len)');
  return ok(0);
}

/**
 * __tun_chr_ioctl: TUNSETIFF first; every other command needs an interface (EBADFD), and an
 * attached file answers the commands vioctl does not model with the switch's default, EINVAL.
 */
function ioctl(ctx: CallCtx, f: OpenFile<TunFile>, cmd: number, argp: bigint): SysOutcome {
  const tf = f.priv;
  if (cmd === TUNSETIFF) return setIffIoctl(ctx, tf, argp);
  const iface = tf.iface;
  if (!iface) return fail('EBADFD', FN_IOCTL, '!tun');
  switch (cmd) {
    case TUNGETIFF:
      return getIffIoctl(ctx, iface, argp);
    case TUNSETVNETHDRSZ: {
      const sz = copyScalarFromUser(ctx.proc.mm, argp, 's32');
      if (sz === undefined)
        return fail('EFAULT', FN_IOCTL, 'copy_from_user(&vnet_hdr_sz, argp, sizeof(vnet_hdr_sz))');
      if (sz < BigInt(VIRTIO_NET_HDR_SIZE)) {
        return fail('EINVAL', FN_IOCTL, 'vnet_hdr_sz < (int)sizeof(struct virtio_net_hdr)');
      }
      iface.vnetHdrSz = Number(sz);
      return ok(0);
    }
    default:
      return fail('EINVAL', FN_IOCTL, 'default: ret = -EINVAL');
  }
}

/** tun_chr_read_iter / tun_ring_recv: the queue of packets for userspace stays empty. */
function read(_ctx: CallCtx, f: OpenFile<TunFile>, _buf: bigint, len: number, nonblock: boolean): SysOutcome {
  if (!f.priv.iface) return fail('EBADFD', 'tun_chr_read_iter', '!tun');
  if (len === 0) return ok(0);
  if (nonblock) return fail('EAGAIN', 'tun_ring_recv', 'noblock && !ptr_ring_consume(&tfile->tx_ring)');
  const blocked: SysOutcome = { ok: 'blocked', retry: () => blocked };
  return blocked;
}

/** The virtio_net_hdr fields tun_get_user checks. */
function gsoHdrLen(h: Uint8Array): number {
  const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
  let hdrLen = v.getUint16(2, true);
  const csum = v.getUint16(6, true) + v.getUint16(8, true) + 2;
  if (h[0]! & VIRTIO_NET_HDR_F_NEEDS_CSUM && csum > hdrLen) hdrLen = csum;
  return hdrLen;
}

/**
 * tun_get_user (tun_chr_write_iter): the header checks in their order, the copy, then the interface
 * is down, so the packet is dropped with EIO. virtio_net_hdr_to_skb's GSO checks are not modelled.
 */
function write(ctx: CallCtx, f: OpenFile<TunFile>, buf: bigint, len: number): SysResult {
  const fn = 'tun_get_user';
  const iface = f.priv.iface;
  if (!iface) return fail('EBADFD', 'tun_chr_write_iter', '!tun');
  const mm = ctx.proc.mm;
  let n = len;
  let off = 0n;
  if (!(iface.flags & IFF_NO_PI)) {
    if (n < TUN_PI_SIZE) return fail('EINVAL', fn, 'len < sizeof(pi)');
    n -= TUN_PI_SIZE;
    if (!mm.copyFromUser(buf, TUN_PI_SIZE))
      return fail('EFAULT', fn, '!copy_from_iter_full(&pi, sizeof(pi), from)');
    off = BigInt(TUN_PI_SIZE);
  }
  let hdrLen = 0;
  if (iface.flags & IFF_VNET_HDR) {
    if (n < iface.vnetHdrSz) return fail('EINVAL', fn, 'len < vnet_hdr_sz');
    n -= iface.vnetHdrSz;
    const h = mm.copyFromUser(buf + off, VIRTIO_NET_HDR_SIZE);
    if (!h) return fail('EFAULT', fn, '!copy_from_iter_full(&gso, sizeof(gso), from)');
    hdrLen = gsoHdrLen(h);
    if (hdrLen > n) return fail('EINVAL', fn, 'tun16_to_cpu(tun, gso.hdr_len) > len');
    off += BigInt(iface.vnetHdrSz);
  }
  const tap = (iface.flags & TUN_TYPE_MASK) === IFF_TAP;
  if (tap && (n < ETH_HLEN || (hdrLen && hdrLen < ETH_HLEN))) {
    return fail('EINVAL', fn, 'len < ETH_HLEN || (gso.hdr_len && gso.hdr_len < ETH_HLEN)');
  }
  const data = mm.copyFromUser(buf + off, n);
  if (!data) return fail('EFAULT', fn, 'skb_copy_datagram_from_iter(skb, 0, from, len)');
  const v = n ? data[0]! >> 4 : 0;
  if (!tap && iface.flags & IFF_NO_PI && v !== 4 && v !== 6) {
    return fail('EINVAL', fn, 'IFF_TUN | IFF_NO_PI: ip_version neither 4 nor 6');
  }
  return fail('EIO', fn, '!(tun->dev->flags & IFF_UP)');
}

/** tun_chr_close → tun_detach: the last queue of an interface (never IFF_PERSIST here) unregisters it. */
function release(k: Kernel, f: OpenFile<TunFile>): void {
  const tf = f.priv;
  const iface = tf.iface;
  if (!iface) return;
  iface.queues.splice(iface.queues.indexOf(tf), 1);
  tf.iface = null;
  if (iface.queues.length === 0) netdevs(k).delete(iface.name);
}

const TUN_OPS: FileOps<TunFile> = {
  kind: 'tun',
  ioctl,
  read,
  write,
  poll: (_ctx, f) => tunChrPoll(f.priv),
  release,
};

export const tunDriver: DriverModule = {
  name: 'tun',
  family: 'tun',
  claims: (path) => path === '/dev/net/tun',
  exists: () => true,
  /** tun_chr_open */
  open(): Opened {
    const priv: TunFile = { iface: null };
    return { ops: TUN_OPS, priv };
  },
};

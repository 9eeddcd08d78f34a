import { describe, expect, test } from 'vitest';
import { tunDriver, tunSocketOf } from '../../../src/drivers/tun/tun.js';
import { POLLERR, POLLIN, POLLOUT } from '../../../src/kernel/eventfd.js';
import { Kernel, O_RDWR } from '../../../src/kernel/kernel.js';
import type { Process } from '../../../src/kernel/process.js';
import { type KernelProfile, makeProfile } from '../../../src/kernel/profile.js';
import type { SysOutcome } from '../../../src/kernel/result.js';
import { constantValue } from '../../../src/uapi/constants.js';
import { ioctlByName } from '../../../src/uapi/ioctls.js';

interface Sys {
  k: Kernel;
  p: Process;
}

function boot(version = '6.1'): Sys {
  const k = new Kernel(makeProfile(version, []) as KernelProfile);
  k.drivers.register(tunDriver);
  return { k, p: k.spawn('main') };
}

const F = (...names: string[]) => names.reduce((m, n) => m | Number(constantValue(n)), 0);
const err = (r: SysOutcome): string | 0 => (r.ok === true ? 0 : r.ok === false ? r.errno : 'blocked');
const nr = (name: string) => ioctlByName(name)!.number;

function openTun(s: Sys, p = s.p): number {
  const r = s.k.open(p, '/dev/net/tun', O_RDWR);
  if (!r.ok) throw new Error(r.errno);
  return Number(r.ret);
}

function ifreq(name: string, flags: number): Uint8Array {
  const b = new Uint8Array(40);
  for (let i = 0; i < name.length; i++) b[i] = name.charCodeAt(i);
  new DataView(b.buffer).setUint16(16, flags, true);
  return b;
}

/** TUNSETIFF: the errno (or 0) and the ifr_name the kernel wrote back */
function setIff(s: Sys, fd: number, name: string, flags: number, p = s.p): [string | 0, string] {
  const a = s.k.stage(p, ifreq(name, flags));
  const r = s.k.ioctl(p, fd, nr('TUNSETIFF'), a);
  const b = p.mm.copyFromUser(a, 16)!;
  return [err(r), String.fromCharCode(...b.subarray(0, b.indexOf(0)))];
}

/** TUNGETIFF: the errno (or 0), the name and the flags */
function getIff(s: Sys, fd: number): [string | 0, string, number] {
  const a = s.k.stage(s.p, new Uint8Array(40).fill(0xee));
  const r = s.k.ioctl(s.p, fd, nr('TUNGETIFF'), a);
  const b = s.p.mm.copyFromUser(a, 40)!;
  return [err(r), String.fromCharCode(...b.subarray(0, b.indexOf(0))), b[16]! | (b[17]! << 8)];
}

const TAP = F('IFF_TAP', 'IFF_NO_PI');

describe('TUNSETIFF (__tun_chr_ioctl → tun_set_iff)', () => {
  test('tun_set_iff @ 6.1: no name: the lowest free tap%d / tun%d, written back to ifr_name', () => {
    const s = boot();
    expect(setIff(s, openTun(s), '', TAP)).toEqual([0, 'tap0']);
    expect(setIff(s, openTun(s), '', TAP)).toEqual([0, 'tap1']);
    expect(setIff(s, openTun(s), '', F('IFF_TUN'))).toEqual([0, 'tun0']);
    expect(setIff(s, openTun(s), 'tap0x', TAP)).toEqual([0, 'tap0x']);
  });

  test('__dev_alloc_name @ 6.1: a freed number is taken again; a name with one %d is a format', () => {
    const s = boot();
    const a = openTun(s);
    setIff(s, a, '', TAP);
    setIff(s, openTun(s), '', TAP);
    s.k.close(s.p, a);
    expect(setIff(s, openTun(s), '', TAP)).toEqual([0, 'tap0']);
    expect(setIff(s, openTun(s), 'vm%dnet', TAP)).toEqual([0, 'vm0net']);
    expect(setIff(s, openTun(s), 'vm%dnet', TAP)).toEqual([0, 'vm1net']);
  });

  test('__dev_alloc_name @ 6.1: a % not followed by d, or a second %, is EINVAL', () => {
    const s = boot();
    expect(setIff(s, openTun(s), 'vm%s', TAP)[0]).toBe('EINVAL');
    expect(setIff(s, openTun(s), 'vm%d%d', TAP)[0]).toBe('EINVAL');
  });

  test('dev_valid_name @ 6.1: ".", "..", "/", ":" and white space are EINVAL', () => {
    const s = boot();
    for (const name of ['.', '..', 'a/b', 'a:b', 'a b']) {
      expect([name, setIff(s, openTun(s), name, TAP)[0]]).toEqual([name, 'EINVAL']);
    }
  });

  test('__tun_chr_ioctl @ 6.1: ifr_name is cut at IFNAMSIZ − 1 bytes', () => {
    const s = boot();
    expect(setIff(s, openTun(s), 'abcdefghijklmnop', TAP)).toEqual([0, 'abcdefghijklmno']);
  });

  test('tun_set_iff @ 6.1: neither IFF_TUN nor IFF_TAP is EINVAL', () => {
    const s = boot();
    expect(setIff(s, openTun(s), '', F('IFF_NO_PI'))[0]).toBe('EINVAL');
    expect(setIff(s, openTun(s), 'x0', 0)[0]).toBe('EINVAL');
  });

  test('__tun_chr_ioctl @ 6.1: a second TUNSETIFF on an attached file is EEXIST', () => {
    const s = boot();
    const t = openTun(s);
    setIff(s, t, 'tap0', TAP);
    expect(setIff(s, t, 'tap1', TAP)[0]).toBe('EEXIST');
  });

  test('__tun_chr_ioctl @ 6.1: unreadable ifreq EFAULT; unwritable EFAULT after attaching', () => {
    const s = boot();
    const t = openTun(s);
    expect(err(s.k.ioctl(s.p, t, nr('TUNSETIFF'), 0n))).toBe('EFAULT');
    // A read-only second mapping of a memfd holding a valid ifreq: read in, but not written back.
    const rw = s.k.mmap(s.p, { size: 0x1000n, prot: 3, kind: 'memfd' });
    const at = BigInt(rw.ok ? rw.ret : 0);
    s.p.mm.copyToUser(at, ifreq('tap7', TAP));
    const ro = s.k.mmap(s.p, { size: 0x1000n, prot: 1, kind: 'memfd', object: s.p.mm.findVma(at)!.obj });
    expect(err(s.k.ioctl(s.p, t, nr('TUNSETIFF'), BigInt(ro.ok ? ro.ret : 0)))).toBe('EFAULT');
    expect(getIff(s, t).slice(0, 2)).toEqual([0, 'tap7']);
  });

  test('tun_set_iff @ 6.1: an existing single-queue interface is EBUSY; IFF_TUN_EXCL is EBUSY first', () => {
    const s = boot();
    setIff(s, openTun(s), 'tap0', TAP);
    expect(setIff(s, openTun(s), 'tap0', TAP)[0]).toBe('EBUSY');
    expect(setIff(s, openTun(s), 'tap0', F('IFF_TUN', 'IFF_TUN_EXCL'))[0]).toBe('EBUSY');
  });

  test('tun_set_iff @ 6.1: the other type, a multi-queue mismatch, or the host\'s "lo" is EINVAL', () => {
    const s = boot();
    setIff(s, openTun(s), 'tap0', TAP);
    expect(setIff(s, openTun(s), 'tap0', F('IFF_TUN'))[0]).toBe('EINVAL');
    expect(setIff(s, openTun(s), 'tap0', TAP | F('IFF_MULTI_QUEUE'))[0]).toBe('EINVAL');
    expect(setIff(s, openTun(s), 'lo', TAP)[0]).toBe('EINVAL');
  });

  test('tun_attach @ 6.1: IFF_MULTI_QUEUE interfaces take more queues; the last close removes them', () => {
    const s = boot();
    const mq = TAP | F('IFF_MULTI_QUEUE');
    const a = openTun(s);
    const b = openTun(s);
    expect(setIff(s, a, 'mq0', mq)).toEqual([0, 'mq0']);
    expect(setIff(s, b, 'mq0', mq)).toEqual([0, 'mq0']);
    s.k.close(s.p, a);
    expect(setIff(s, openTun(s), 'mq0', TAP)[0]).toBe('EINVAL'); // still there (b)
    s.k.close(s.p, b);
    expect(setIff(s, openTun(s), 'mq0', TAP)).toEqual([0, 'mq0']);
  });

  test('tun_set_iff @ 6.1: create without CAP_NET_ADMIN: EPERM; NAPI_FRAGS needs it and NAPI', () => {
    const s = boot();
    const nocap = s.k.spawn('nocap', new Set());
    expect(setIff(s, openTun(s, nocap), 'tap0', TAP, nocap)[0]).toBe('EPERM');
    expect(setIff(s, openTun(s, nocap), 'tap0', TAP | F('IFF_NAPI_FRAGS'), nocap)[0]).toBe('EPERM');
    expect(setIff(s, openTun(s), 'tap0', TAP | F('IFF_NAPI_FRAGS'))[0]).toBe('EINVAL');
    expect(setIff(s, openTun(s), 'tun9', F('IFF_TUN', 'IFF_NAPI', 'IFF_NAPI_FRAGS'))[0]).toBe('EINVAL');
    expect(setIff(s, openTun(s), 'tap0', TAP | F('IFF_NAPI', 'IFF_NAPI_FRAGS'))[0]).toBe(0);
  });
});

describe('other ioctls (__tun_chr_ioctl)', () => {
  test('tun_get_iff @ 6.1: TUNGETIFF gives the name and tun_flags, plus IFF_NOFILTER (= IFF_NO_PI)', () => {
    const s = boot();
    const t = openTun(s);
    setIff(s, t, 'tap0', F('IFF_TAP', 'IFF_VNET_HDR', 'IFF_PERSIST'));
    expect(getIff(s, t)).toEqual([0, 'tap0', F('IFF_TAP', 'IFF_VNET_HDR', 'IFF_NOFILTER')]);
  });

  test('__tun_chr_ioctl @ 6.1: without an interface every other command is EBADFD', () => {
    const s = boot();
    const t = openTun(s);
    expect(getIff(s, t)[0]).toBe('EBADFD');
    expect(err(s.k.ioctl(s.p, t, nr('TUNSETVNETHDRSZ'), 0n))).toBe('EBADFD');
    expect(err(s.k.ioctl(s.p, t, nr('VHOST_SET_OWNER'), 0n))).toBe('EBADFD');
  });

  test('__tun_chr_ioctl @ 6.1: attached, an unknown command is EINVAL (the switch default)', () => {
    const s = boot();
    const t = openTun(s);
    setIff(s, t, '', TAP);
    expect(err(s.k.ioctl(s.p, t, nr('VHOST_SET_OWNER'), 0n))).toBe('EINVAL');
    expect(err(s.k.ioctl(s.p, t, nr('TUNGETIFF'), 0n))).toBe('EFAULT');
  });

  test('__tun_chr_ioctl @ 6.1: TUNSETVNETHDRSZ below 10 is EINVAL, an unreadable int EFAULT', () => {
    const s = boot();
    const t = openTun(s);
    setIff(s, t, '', TAP);
    const int = (v: number) => s.k.stage(s.p, new Uint8Array(new Int32Array([v]).buffer));
    expect(err(s.k.ioctl(s.p, t, nr('TUNSETVNETHDRSZ'), 0n))).toBe('EFAULT');
    expect(err(s.k.ioctl(s.p, t, nr('TUNSETVNETHDRSZ'), int(9)))).toBe('EINVAL');
    expect(err(s.k.ioctl(s.p, t, nr('TUNSETVNETHDRSZ'), int(12)))).toBe(0);
  });
});

describe('read, write, poll (the interface is never up)', () => {
  const buf = (s: Sys, bytes: number[] | Uint8Array) => s.k.stage(s.p, Uint8Array.from(bytes));

  test('tun_chr_read_iter @ 6.1: EBADFD unattached; attached EAGAIN, a blocking read waits', () => {
    const s = boot();
    const t = openTun(s);
    const b = buf(s, new Uint8Array(64));
    expect(err(s.k.read(s.p, t, b, 64, true))).toBe('EBADFD');
    setIff(s, t, '', TAP);
    expect(err(s.k.read(s.p, t, b, 0, true))).toBe(0);
    expect(err(s.k.read(s.p, t, b, 64, true))).toBe('EAGAIN');
    expect(err(s.k.read(s.p, t, b, 64, false))).toBe('blocked');
  });

  test('tun_get_user @ 6.1: header checks in order, then EIO (the interface is down)', () => {
    const s = boot();
    const t = openTun(s);
    expect(err(s.k.write(s.p, t, buf(s, new Uint8Array(60)), 60))).toBe('EBADFD');
    setIff(s, t, '', TAP);
    expect(err(s.k.write(s.p, t, buf(s, new Uint8Array(60)), 13))).toBe('EINVAL'); // < ETH_HLEN
    expect(err(s.k.write(s.p, t, buf(s, new Uint8Array(60)), 60))).toBe('EIO');
    expect(err(s.k.write(s.p, t, 0n, 60))).toBe('EFAULT');
  });

  test('tun_get_user @ 6.1: the 4-byte tun_pi without IFF_NO_PI, the vnet header with IFF_VNET_HDR', () => {
    const s = boot();
    const pi = openTun(s);
    setIff(s, pi, '', F('IFF_TAP'));
    expect(err(s.k.write(s.p, pi, buf(s, new Uint8Array(60)), 3))).toBe('EINVAL');
    expect(err(s.k.write(s.p, pi, buf(s, new Uint8Array(60)), 17))).toBe('EINVAL'); // 13 after the pi
    expect(err(s.k.write(s.p, pi, buf(s, new Uint8Array(60)), 18))).toBe('EIO');
    const vh = openTun(s);
    setIff(s, vh, '', F('IFF_TAP', 'IFF_NO_PI', 'IFF_VNET_HDR'));
    expect(err(s.k.write(s.p, vh, buf(s, new Uint8Array(60)), 9))).toBe('EINVAL');
    const hdrLen = new Uint8Array(60);
    hdrLen[2] = 51; // gso.hdr_len 51 > 60 − 10
    expect(err(s.k.write(s.p, vh, buf(s, hdrLen), 60))).toBe('EINVAL');
    hdrLen[2] = 13; // gso.hdr_len below ETH_HLEN
    expect(err(s.k.write(s.p, vh, buf(s, hdrLen), 60))).toBe('EINVAL');
    expect(err(s.k.write(s.p, vh, buf(s, new Uint8Array(60)), 60))).toBe('EIO');
  });

  test('tun_get_user @ 6.1: IFF_TUN | IFF_NO_PI wants an IPv4 or IPv6 packet', () => {
    const s = boot();
    const t = openTun(s);
    setIff(s, t, '', F('IFF_TUN', 'IFF_NO_PI'));
    expect(err(s.k.write(s.p, t, buf(s, [0x00, 0, 0, 0]), 4))).toBe('EINVAL');
    expect(err(s.k.write(s.p, t, buf(s, [0x45, 0, 0, 0]), 4))).toBe('EIO');
    expect(err(s.k.write(s.p, t, buf(s, [0x60, 0, 0, 0]), 4))).toBe('EIO');
  });

  test('tun_chr_poll @ 6.1: POLLERR without an interface, nothing once attached (down: not writable)', () => {
    const s = boot();
    const t = openTun(s);
    expect(s.k.poll(s.p, t, POLLIN | POLLOUT)).toEqual({ ret: 1, revents: POLLERR });
    setIff(s, t, '', TAP);
    expect(s.k.poll(s.p, t, POLLIN | POLLOUT)).toEqual({ ret: 0, revents: 0 });
  });
});

describe('tunSocketOf (tun_get_socket)', () => {
  test('tun_get_socket @ 6.1: every /dev/net/tun file is a socket, attached or not; nothing else is', () => {
    const s = boot();
    const t = openTun(s);
    const f = s.k.fget(s.p, t)!;
    expect(tunSocketOf(f)).toEqual({ iface: null });
    setIff(s, t, 'tap0', TAP);
    expect(tunSocketOf(f)?.iface?.name).toBe('tap0');
    const r = s.k.eventfd(s.p);
    const e = Number(r.ok ? r.ret : -1);
    expect(tunSocketOf(s.k.fget(s.p, e)!)).toBeUndefined();
  });

  test('tunDriver @ 6.12: /dev/net/tun opens on 6.12 too; state is per kernel', () => {
    const a = boot('6.12');
    const b = boot('6.12');
    expect(setIff(a, openTun(a), '', TAP)).toEqual([0, 'tap0']);
    expect(setIff(b, openTun(b), '', TAP)).toEqual([0, 'tap0']);
  });
});

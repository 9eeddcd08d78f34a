// drivers/vdpa/vdpa_sim/vdpa_sim_blk.c: the block datapath of /dev/vhost-vdpa-1. A request is a chain
// of a 16-byte virtio_blk_outhdr {type, ioprio, sector}, the data, and a device-writable status byte;
// vdpasim_blk_handle_req serves it from the RAM disk through the device's own translation.
import { describe, expect, test } from 'vitest';
import { vhost_vring_addr, vhost_vring_file } from '../../../src/uapi/vhost.js';
import { expectOk, ioctlStruct, ioctlU64, nr } from '../../helpers/kernel.js';
import { iotlb, mem, owned, RW, status, UPDATE, type Vdpa, vstate } from './fixture.js';

const T_IN = 0;
const T_OUT = 1;
const T_GET_ID = 8;
const S_OK = 0;
const S_IOERR = 1;
const F_NEXT = 1;
const F_WRITE = 2;
const CAPACITY = 0x40000n; // sectors
/** guest-physical layout (IOVA = GPA): the ring, then request headers, data and status bytes */
const BASE = 0x100000n;
const DESC = BASE;
const AVAIL = BASE + 0x1000n;
const USED = BASE + 0x2000n;
const HDR = BASE + 0x3000n;
const DATA = BASE + 0x4000n;
const STATUS = BASE + 0x8000n;
const NUM = 16;

interface Blk extends Vdpa {
  gm: bigint;
  kick: number;
  call: number;
  /** next free descriptor and avail slot */
  nextDesc: number;
  avail: number;
}

const at = (f: Blk, iova: bigint): bigint => f.gm + (iova - BASE);
const put = (f: Blk, iova: bigint, b: Uint8Array): void => {
  expect(f.p.mm.copyToUser(at(f, iova), b)).toBe(true);
};
const get = (f: Blk, iova: bigint, n: number): Uint8Array => f.p.mm.copyFromUser(at(f, iova), n)!;
const u16 = (v: number): Uint8Array => new Uint8Array([v & 0xff, v >> 8]);

/**
 * vdpa1 set up as a driver would: owner, VERSION_1 | ACCESS_PLATFORM, FEATURES_OK, one ring of NUM
 * descriptors, guest memory mapped at BASE, DRIVER_OK. 6.1 maps in PA mode (anonymous memory is
 * pinned); 6.12 in VA mode, which needs shared file-backed memory.
 */
function blk(version: '6.1' | '6.12'): Blk {
  const f = owned(version, 1);
  const gm = mem(f, 0x10000n, version === '6.1' ? 'anon' : 'memfd');
  expectOk(status(f, 0x3));
  expectOk(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 0x300000000n).r);
  expectOk(status(f, 0xb));
  const efd = (): number => Number((f.k.eventfd(f.p) as { ret: number }).ret);
  const kick = efd();
  const call = efd();
  expectOk(vstate(f, 'VHOST_SET_VRING_NUM', 0, NUM));
  const addr = { index: 0n, flags: 0n, desc_user_addr: DESC, avail_user_addr: AVAIL, used_user_addr: USED };
  expectOk(ioctlStruct(f, f.fd, 'VHOST_SET_VRING_ADDR', vhost_vring_addr, { ...addr, log_guest_addr: 0n }));
  expectOk(vstate(f, 'VHOST_SET_VRING_BASE', 0, 0));
  expectOk(ioctlStruct(f, f.fd, 'VHOST_SET_VRING_KICK', vhost_vring_file, { index: 0n, fd: BigInt(kick) }));
  expectOk(ioctlStruct(f, f.fd, 'VHOST_SET_VRING_CALL', vhost_vring_file, { index: 0n, fd: BigInt(call) }));
  expectOk(vstate(f, 'VHOST_VDPA_SET_VRING_ENABLE', 0, 1));
  expectOk(iotlb(f, { type: UPDATE, iova: BASE, size: 0x10000n, uaddr: gm, perm: RW }));
  expectOk(status(f, 0xf));
  return { ...f, gm, kick, call, nextDesc: 0, avail: 0 };
}

function desc(f: Blk, addr: bigint, len: number, flags: number): number {
  const i = f.nextDesc++;
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, addr, true);
  v.setUint32(8, len, true);
  v.setUint16(12, flags, true);
  v.setUint16(14, i + 1, true);
  put(f, DESC + BigInt(16 * i), b);
  return i;
}

/**
 * Queues one request (header, optional data buffer, status byte) and kicks. Returns the used element
 * {id, len}, the status byte and the call eventfd's count.
 */
function request(
  f: Blk,
  type: number,
  sector: bigint,
  data?: { len: number; write: boolean; bytes?: Uint8Array },
): { id: number; len: number; status: number; calls: bigint } {
  const slot = f.avail;
  const hdr = HDR + BigInt(16 * slot);
  const buf = DATA + BigInt(0x800 * slot);
  const st = STATUS + BigInt(slot);
  const h = new Uint8Array(16);
  const hv = new DataView(h.buffer);
  hv.setUint32(0, type, true);
  hv.setBigUint64(8, sector, true);
  put(f, hdr, h);
  put(f, st, new Uint8Array([0xff]));
  const head = desc(f, hdr, 16, F_NEXT);
  if (data) {
    if (data.bytes) put(f, buf, data.bytes);
    desc(f, buf, data.len, F_NEXT | (data.write ? F_WRITE : 0));
  }
  desc(f, st, 1, F_WRITE);
  put(f, AVAIL + 4n + BigInt(2 * (slot % NUM)), u16(head));
  f.avail++;
  put(f, AVAIL + 2n, u16(f.avail));
  const before = f.k.eventfdOf(f.p, f.call)!.count;
  const one = new Uint8Array(8);
  one[0] = 1;
  expectOk(f.k.write(f.p, f.kick, f.k.stage(f.p, one), 8));
  const usedIdx = new DataView(get(f, USED, 4).buffer).getUint16(2, true);
  expect(usedIdx).toBe(f.avail);
  const e = new DataView(get(f, USED + 4n + BigInt(8 * (slot % NUM)), 8).buffer);
  return {
    id: e.getUint32(0, true),
    len: e.getUint32(4, true),
    status: get(f, st, 1)[0]!,
    calls: f.k.eventfdOf(f.p, f.call)!.count - before,
  };
}

const pattern = (seed: number, n = 512): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

describe.each(['6.1', '6.12'] as const)('vdpasim_blk_handle_req @ %s', (version) => {
  test(`vdpasim_blk_handle_req @ ${version}: a sector written with VIRTIO_BLK_T_OUT reads back with VIRTIO_BLK_T_IN`, () => {
    const f = blk(version);
    const data = pattern(3, 1024);
    const w = request(f, T_OUT, 8n, { len: 1024, write: false, bytes: data });
    // only the status byte is written by the device: used.len = 1
    expect(w).toEqual({ id: 0, len: 1, status: S_OK, calls: 1n });
    const r = request(f, T_IN, 8n, { len: 1024, write: true });
    expect(r).toEqual({ id: 3, len: 1025, status: S_OK, calls: 1n });
    expect(Array.from(get(f, DATA + 0x800n, 1024))).toEqual(Array.from(data));
  });

  test(`vdpasim_blk_handle_req @ ${version}: the RAM disk starts zeroed and a write lands at its own sector`, () => {
    const f = blk(version);
    expect(request(f, T_OUT, 100n, { len: 512, write: false, bytes: pattern(9) }).status).toBe(S_OK);
    // the sector before and after are untouched
    const before = request(f, T_IN, 99n, { len: 512, write: true, bytes: pattern(1) });
    expect(before.status).toBe(S_OK);
    expect(get(f, DATA + 0x800n, 512).every((b) => b === 0)).toBe(true);
    const after = request(f, T_IN, 101n, { len: 512, write: true });
    expect(after.status).toBe(S_OK);
    expect(get(f, DATA + 0x1000n, 512).every((b) => b === 0)).toBe(true);
    const same = request(f, T_IN, 100n, { len: 512, write: true });
    expect(same.len).toBe(513);
    expect(Array.from(get(f, DATA + 0x1800n, 512))).toEqual(Array.from(pattern(9)));
  });

  test(`vdpasim_blk_check_range @ ${version}: a read past the capacity is VIRTIO_BLK_S_IOERR, nothing copied`, () => {
    const f = blk(version);
    const r = request(f, T_IN, CAPACITY - 1n, { len: 1024, write: true, bytes: pattern(5, 1024) });
    // the data buffer is skipped over (vringh_kiov_advance), the status byte comes last
    expect(r).toEqual({ id: 0, len: 1, status: S_IOERR, calls: 1n });
    expect(Array.from(get(f, DATA, 1024))).toEqual(Array.from(pattern(5, 1024)));
  });

  test(`vdpasim_blk_handle_req @ ${version}: VIRTIO_BLK_T_GET_ID answers "vdpa_blk_sim"`, () => {
    const f = blk(version);
    const r = request(f, T_GET_ID, 0n, { len: 20, write: true });
    expect(r.status).toBe(S_OK);
    expect(r.len).toBe(21);
    expect(new TextDecoder().decode(get(f, DATA, 12))).toBe('vdpa_blk_sim');
  });
});

describe('vdpasim_blk_work', () => {
  test('vdpasim_blk_work @ 6.12: a suspended device leaves the request queued until VHOST_VDPA_RESUME', () => {
    const f = blk('6.12');
    expectOk(f.k.ioctl(f.p, f.fd, nr('VHOST_VDPA_SUSPEND'), 0n));
    const h = new Uint8Array(16);
    new DataView(h.buffer).setUint32(0, T_OUT, true);
    put(f, HDR, h);
    const head = desc(f, HDR, 16, F_NEXT);
    put(f, DATA, pattern(2));
    desc(f, DATA, 512, F_NEXT);
    desc(f, STATUS, 1, F_WRITE);
    put(f, AVAIL + 4n, u16(head));
    put(f, AVAIL + 2n, u16(1));
    const one = new Uint8Array(8);
    one[0] = 1;
    expectOk(f.k.write(f.p, f.kick, f.k.stage(f.p, one), 8));
    expect(new DataView(get(f, USED, 4).buffer).getUint16(2, true)).toBe(0);
    // the kick was remembered (vdpasim_kick_vq: pending_kick) and replays on resume
    expectOk(f.k.ioctl(f.p, f.fd, nr('VHOST_VDPA_RESUME'), 0n));
    expect(new DataView(get(f, USED, 4).buffer).getUint16(2, true)).toBe(1);
    expect(get(f, STATUS, 1)[0]).toBe(S_OK);
  });

  test('vdpasim_blk_handle_req @ 6.12: guest memory that is not shared file-backed is not mapped (use_va), so nothing is served', () => {
    const f = owned('6.12', 1);
    const gm = mem(f, 0x10000n, 'anon');
    expectOk(status(f, 0x3));
    expectOk(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 0x300000000n).r);
    expectOk(status(f, 0xb));
    expectOk(vstate(f, 'VHOST_SET_VRING_NUM', 0, NUM));
    const addr = { index: 0n, flags: 0n, desc_user_addr: DESC, avail_user_addr: AVAIL, used_user_addr: USED };
    expectOk(ioctlStruct(f, f.fd, 'VHOST_SET_VRING_ADDR', vhost_vring_addr, { ...addr, log_guest_addr: 0n }));
    expectOk(vstate(f, 'VHOST_VDPA_SET_VRING_ENABLE', 0, 1));
    // the UPDATE succeeds and maps nothing (vhost_vdpa_va_map skips the anonymous VMA)
    expectOk(iotlb(f, { type: UPDATE, iova: BASE, size: 0x10000n, uaddr: gm, perm: RW }), 72);
    expectOk(status(f, 0xf));
    const b: Blk = { ...f, gm, kick: 0, call: 0, nextDesc: 0, avail: 0 };
    const h = new Uint8Array(16);
    put(b, HDR, h);
    desc(b, HDR, 16, F_NEXT);
    desc(b, DATA, 512, F_NEXT | F_WRITE);
    desc(b, STATUS, 1, F_WRITE);
    put(b, AVAIL + 2n, u16(1));
    const kick = Number((f.k.eventfd(f.p) as { ret: number }).ret);
    expectOk(ioctlStruct(f, f.fd, 'VHOST_SET_VRING_KICK', vhost_vring_file, { index: 0n, fd: BigInt(kick) }));
    const one = new Uint8Array(8);
    one[0] = 1;
    expectOk(f.k.write(f.p, kick, f.k.stage(f.p, one), 8));
    expect(new DataView(get(b, USED, 4).buffer).getUint16(2, true)).toBe(0);
  });
});

// drivers/vdpa/vdpa_sim: the parents' per-release defaults and the net datapath through the device's
// own translation (TX looped into RX by vdpasim_net_work).
import { describe, expect, test } from 'vitest';
import { vhost_vring_addr, vhost_vring_file } from '../../../src/uapi/vhost.js';
import { expectOk, ioctlStruct, ioctlU64 } from '../../helpers/kernel.js';
import { iotlb, mem, owned, RW, status, UPDATE, vdpa, vstate } from './fixture.js';

describe('vdpa_sim defaults', () => {
  test('vdpasim_net_dev_add @ 5.15 / 6.1: 2 vqs before the control vq, 3 vqs, 2 groups, 2 address spaces after', () => {
    const v61 = vdpa('6.1');
    expect(ioctlU64(v61, v61.fd, 'VHOST_VDPA_GET_VQS_COUNT').out & 0xffffffffn).toBe(3n);
    expect(ioctlU64(v61, v61.fd, 'VHOST_VDPA_GET_AS_NUM').out & 0xffffffffn).toBe(2n);
    const v515 = owned('5.15');
    // GET_VRING_BASE of vq 2 is ENOBUFS: only rx and tx
    expect(vstate(v515, 'VHOST_GET_VRING_BASE', 2).ok).toBe(false);
  });

  test('vdpasim_set_map @ 6.1: the device table is a copy of the vhost-side one (PA addresses)', () => {
    const f = owned('6.1');
    const gm = mem(f, 0x2000n);
    expectOk(iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x2000n, uaddr: gm, perm: RW }));
    const t: Record<string, Record<string, unknown>[]> = {};
    f.k.driverState(t);
    const [vh, dev] = ['vhost', 'device'].map((v) => t.iotlb!.filter((r) => r.view === v));
    expect(dev).toEqual([{ ...vh![0], view: 'device', passthrough: false }]);
  });
});

describe('vdpasim_net_work @ 6.1', () => {
  test('vdpasim_net_work @ 6.1: a frame for our MAC goes from TX to RX and the RX call eventfd fires', () => {
    const f = owned('6.1');
    const gm = mem(f, 0x10000n);
    const at = (iova: bigint) => gm + (iova - 0x100000n);
    const w = (iova: bigint, b: Uint8Array) => expect(f.p.mm.copyToUser(at(iova), b)).toBe(true);
    const u16 = (v: number) => new Uint8Array([v & 0xff, v >> 8]);
    const desc = (addr: bigint, len: number, flags: number) => {
      const b = new Uint8Array(16);
      const d = new DataView(b.buffer);
      d.setBigUint64(0, addr, true);
      d.setUint32(8, len, true);
      d.setUint16(12, flags, true);
      return b;
    };
    expectOk(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 0x308820028n).r);
    expectOk(status(f, 0xb));
    const efd = () => Number((f.k.eventfd(f.p) as { ret: number }).ret);
    const call = efd();
    const kick = efd();
    for (const [i, base] of [
      [0, 0x100000n],
      [1, 0x104000n],
    ] as const) {
      expectOk(vstate(f, 'VHOST_SET_VRING_NUM', i, 8));
      const a = { index: BigInt(i), flags: 0n, desc_user_addr: base, avail_user_addr: base + 0x1000n };
      const addr = { ...a, used_user_addr: base + 0x2000n, log_guest_addr: 0n };
      expectOk(ioctlStruct(f, f.fd, 'VHOST_SET_VRING_ADDR', vhost_vring_addr, addr));
      expectOk(vstate(f, 'VHOST_VDPA_SET_VRING_ENABLE', i, 1));
    }
    expectOk(ioctlStruct(f, f.fd, 'VHOST_SET_VRING_CALL', vhost_vring_file, { index: 0n, fd: BigInt(call) }));
    expectOk(ioctlStruct(f, f.fd, 'VHOST_SET_VRING_KICK', vhost_vring_file, { index: 1n, fd: BigInt(kick) }));
    expectOk(iotlb(f, { type: UPDATE, iova: 0x100000n, size: 0x10000n, uaddr: gm, perm: RW }));
    expectOk(status(f, 0xf));
    const pkt = new Uint8Array(72);
    pkt.set([0x52, 0x54, 0x00, 0x12, 0x34, 0x56], 12);
    w(0x108000n, pkt);
    w(0x104000n, desc(0x108000n, 72, 0));
    w(0x105004n, u16(0));
    w(0x105002n, u16(1));
    w(0x100000n, desc(0x109000n, 2048, 2));
    w(0x101004n, u16(0));
    w(0x101002n, u16(1));
    const one = new Uint8Array(8);
    one[0] = 1;
    expectOk(f.k.write(f.p, kick, f.k.stage(f.p, one), 8));
    const used = f.p.mm.copyFromUser(at(0x102000n), 12)!;
    const uv = new DataView(used.buffer);
    expect([uv.getUint16(2, true), uv.getUint32(4, true), uv.getUint32(8, true)]).toEqual([1, 0, 72]);
    expect(Array.from(f.p.mm.copyFromUser(at(0x109000n), 72)!)).toEqual(Array.from(pkt));
    expect(f.k.eventfdOf(f.p, call)!.count).toBe(1n);
  });
});

// drivers/vdpa/vdpa_sim/vdpa_sim_blk.c: the simulated disk, a RAM disk of VDPASIM_BLK_CAPACITY sectors
// (the kernel's buffer is uninitialised memory; vioctl's reads as zeroes).
import { MemObject } from '../../kernel/memory.js';
import type { KernelProfile } from '../../kernel/profile.js';
import { type SimClass, type VdpaSim, VIRTIO_CONFIG_S_DRIVER_OK } from './sim.js';
import { VDPASIM_FEATURES } from './sim-net.js';
import { advance, complete, getDesc, type Iov, iovLength, needNotify, pull, push } from './vringh.js';

const VIRTIO_ID_BLOCK = 2;
const CAPACITY = 0x40000n;
const SIZE_MAX = 0x1000;
const SEG_MAX = 32;
const SECTOR_SHIFT = 9n;
const DWZ_MAX_SECTORS = 0xffffffff;
const T_IN = 0;
const T_OUT = 1;
const T_FLUSH = 4;
const T_GET_ID = 8;
const T_DISCARD = 11;
const T_WRITE_ZEROES = 13;
const S_OK = 0;
const S_IOERR = 1;
const S_UNSUPP = 2;
const WRITE_ZEROES_FLAG_UNMAP = 1;
const ID_BYTES = 20;
const BLK_ID = new TextEncoder().encode('vdpa_blk_sim');

/**
 * VDPASIM_BLK_FEATURES: SIZE_MAX, SEG_MAX, BLK_SIZE (UNVERIFIED for 5.15); FLUSH, TOPOLOGY, MQ, DISCARD
 * and WRITE_ZEROES by 6.1 (the oracle's 0x308007646).
 */
function features(p: KernelProfile): bigint {
  return p.has('vdpa-suspend') ? VDPASIM_FEATURES | 0x7646n : VDPASIM_FEATURES | 0x46n;
}

/** sizeof(struct virtio_blk_config): 60, + secure erase 72 (6.0), + zoned 96 (6.3) */
function configSize(p: KernelProfile): number {
  if (p.has('vdpa-blk-zoned')) return 96;
  return p.has('vdpa-blk-secure-erase') ? 72 : 60;
}

const disks = new WeakMap<VdpaSim, MemObject>();
function disk(sim: VdpaSim): MemObject {
  let d = disks.get(sim);
  if (!d) {
    d = new MemObject('anon', CAPACITY << SECTOR_SHIFT, sim.k.newObjectId());
    disks.set(sim, d);
  }
  return d;
}

/** vdpasim_blk_get_config: rebuilt on every read, so SET_CONFIG writes never show */
function getConfig(sim: VdpaSim): void {
  const v = sim.view;
  sim.config.fill(0);
  const put32 = (o: number, x: number): void => {
    if (o + 4 <= sim.config.length) v.setUint32(o, x, true);
  };
  v.setBigUint64(0, CAPACITY, true);
  put32(8, SIZE_MAX);
  put32(12, SEG_MAX);
  put32(20, 512); // blk_size
  v.setUint16(26, 1, true); // min_io_size
  put32(28, 1); // opt_io_size
  v.setUint16(34, 1, true); // num_queues
  put32(36, DWZ_MAX_SECTORS); // max_discard_sectors
  put32(40, 1); // max_discard_seg
  put32(44, 512); // discard_sector_alignment
  put32(48, DWZ_MAX_SECTORS); // max_write_zeroes_sectors
  put32(52, 1); // max_write_zeroes_seg
}

/** vdpasim_blk_check_range */
function checkRange(start: bigint, num: bigint, max: bigint): boolean {
  return start < CAPACITY && num <= max && num <= CAPACITY - start;
}

/** vdpasim_blk_handle_req: true when the request was answered with a status byte */
function handleReq(sim: VdpaSim, idx: number): boolean {
  const vq = sim.vqs[idx]!;
  const dma = sim.dma(idx);
  const c = getDesc(dma, vq.vring);
  if (typeof c === 'string') return false;
  let pushed = 0;
  const finish = (handled: boolean): boolean => {
    complete(dma, vq.vring, c.head, pushed);
    return handled;
  };
  if (!c.out.length || !c.in.length || c.in[c.in.length - 1]!.len < 1) return finish(false);
  const toPush = iovLength(c.in) - 1;
  let toPull = iovLength(c.out);
  const hdr = pull(dma, c.out, 16);
  if (hdr?.length !== 16) return finish(false);
  toPull -= 16;
  const hv = new DataView(hdr.buffer);
  const type = hv.getUint32(0, true);
  let sector = hv.getBigUint64(8, true);
  let status = S_OK;
  const d = disk(sim);
  const ioMax = BigInt(SIZE_MAX * SEG_MAX);
  if (type !== T_IN && type !== T_OUT && sector !== 0n) status = S_IOERR;
  else if (type === T_IN) {
    if (!checkRange(sector, BigInt(toPush) >> SECTOR_SHIFT, ioMax)) status = S_IOERR;
    else {
      const w = push(dma, c.in, d.read(sector << SECTOR_SHIFT, toPush));
      if (w < 0) status = S_IOERR;
      else pushed += w;
    }
  } else if (type === T_OUT) {
    const data = checkRange(sector, BigInt(toPull) >> SECTOR_SHIFT, ioMax)
      ? pull(dma, c.out, toPull)
      : undefined;
    if (data) d.write(sector << SECTOR_SHIFT, data);
    else status = S_IOERR;
  } else if (type === T_GET_ID) {
    const id = new Uint8Array(ID_BYTES);
    id.set(BLK_ID);
    const w = push(dma, c.in, id);
    if (w < 0) status = S_IOERR;
    else pushed += w;
  } else if (type === T_DISCARD || type === T_WRITE_ZEROES) {
    const r = toPull === 16 ? pull(dma, c.out, 16) : undefined;
    if (!r) status = S_IOERR;
    else {
      const rv = new DataView(r.buffer);
      sector = rv.getBigUint64(0, true);
      const n = rv.getUint32(8, true);
      const flags = rv.getUint32(12, true);
      if (type === T_DISCARD && flags !== 0) status = S_UNSUPP;
      else if (type === T_WRITE_ZEROES && flags & ~WRITE_ZEROES_FLAG_UNMAP) status = S_UNSUPP;
      else if (!checkRange(sector, BigInt(n), BigInt(DWZ_MAX_SECTORS))) status = S_IOERR;
      else if (type === T_WRITE_ZEROES) d.write(sector << SECTOR_SHIFT, new Uint8Array(n << 9));
    }
  } else if (type !== T_FLUSH) status = S_IOERR;
  advance(c.in as Iov[], toPush - pushed);
  if (push(dma, c.in, new Uint8Array([status])) !== 1) return finish(false);
  pushed += 1;
  return finish(true);
}

/** vdpasim_blk_work */
function work(sim: VdpaSim): void {
  if (!(sim.status & VIRTIO_CONFIG_S_DRIVER_OK) || !sim.running) return;
  sim.vqs.forEach((vq, i) => {
    if (!vq.ready) return;
    for (let guard = 0; guard < 0x10000 && handleReq(sim, i); guard++) {
      if (needNotify(sim.dma(i), vq.vring)) vq.cb?.();
    }
  });
}

export const SIM_BLK: SimClass = {
  id: VIRTIO_ID_BLOCK,
  features,
  shape: () => ({ nvqs: 1, ngroups: 1, nas: 1 }),
  configSize,
  setupConfig: getConfig,
  getConfig,
  work,
  vqGroup: () => 0,
};

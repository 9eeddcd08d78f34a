// drivers/vdpa/vdpa_sim/vdpa_sim_net.c: the simulated NIC. TX buffers loop back into RX when the
// receive filter passes them; the control vq sets the MAC.
import type { KernelProfile } from '../../kernel/profile.js';
import { type SimClass, type VdpaSim, VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_F_VERSION_1 } from './sim.js';
import { complete, getDesc, needNotify, pull, push } from './vringh.js';

const VIRTIO_ID_NET = 1;
const VIRTIO_NET_F_MTU = 3;
const VIRTIO_NET_F_MAC = 5;
const VIRTIO_NET_F_STATUS = 16;
const VIRTIO_NET_F_CTRL_VQ = 17;
const VIRTIO_NET_F_CTRL_MAC_ADDR = 23;
/** VDPASIM_FEATURES: ANY_LAYOUT, VERSION_1, ACCESS_PLATFORM */
export const VDPASIM_FEATURES = 0x308000000n;
const VIRTIO_NET_S_LINK_UP = 1;
const VIRTIO_NET_CTRL_MAC = 1;
const VIRTIO_NET_CTRL_MAC_ADDR_SET = 1;
const VIRTIO_NET_OK = 0;
const VIRTIO_NET_ERR = 1;
const ETH_ALEN = 6;
const PAGE_SIZE = 4096;
const RXQ = 0;
const TXQ = 1;
const CVQ = 2;
const bit = (n: number): bigint => 1n << BigInt(n);

/** VDPASIM_NET_FEATURES: MAC only before the control-vq series (@ v5.15.0: 0x308000020) */
function features(p: KernelProfile): bigint {
  let f = VDPASIM_FEATURES | bit(VIRTIO_NET_F_MAC);
  if (p.has('vdpa-asid'))
    f |= bit(VIRTIO_NET_F_MTU) | bit(VIRTIO_NET_F_CTRL_VQ) | bit(VIRTIO_NET_F_CTRL_MAC_ADDR);
  if (p.has('vdpa-sim-net-status')) f |= bit(VIRTIO_NET_F_STATUS);
  return f;
}

function parseMac(mac: string | undefined): Uint8Array {
  const b = new Uint8Array(ETH_ALEN);
  if (mac) b.set(mac.split(':').map((h) => Number.parseInt(h, 16)));
  return b;
}

/** vdpasim_net_complete: used element, then the callback unless the driver suppressed it */
function netComplete(sim: VdpaSim, idx: number, head: number, len: number): void {
  const vq = sim.vqs[idx]!;
  const dma = sim.dma(idx);
  complete(dma, vq.vring, head, len);
  if (needNotify(dma, vq.vring)) vq.cb?.();
}

/** receive_filter: broadcast, multicast or our own MAC after the virtio-net header */
function receiveFilter(sim: VdpaSim, pkt: Uint8Array): boolean {
  const modern = (sim.features >> BigInt(VIRTIO_F_VERSION_1)) & 1n;
  const hdrLen = modern ? 12 : 10;
  if (pkt.length < ETH_ALEN + hdrLen) return false;
  const dst = pkt.subarray(hdrLen, hdrLen + ETH_ALEN);
  if (dst.every((b) => b === 0xff) || dst[0]! & 1) return true;
  // strncmp: equal up to the first NUL of either
  for (let i = 0; i < ETH_ALEN; i++) {
    if (dst[i] !== sim.config[i]) return false;
    if (dst[i] === 0) return true;
  }
  return true;
}

/** vdpasim_handle_cvq */
function handleCvq(sim: VdpaSim): void {
  if (!((sim.features >> BigInt(VIRTIO_NET_F_CTRL_VQ)) & 1n)) return;
  const cvq = sim.vqs[CVQ];
  if (!cvq?.ready) return;
  const dma = sim.dma(CVQ);
  for (;;) {
    const c = getDesc(dma, cvq.vring);
    if (typeof c === 'string') break;
    const ctrl = pull(dma, c.out, 2);
    if (ctrl?.length !== 2) break;
    let status = VIRTIO_NET_ERR;
    if (ctrl[0] === VIRTIO_NET_CTRL_MAC && ctrl[1] === VIRTIO_NET_CTRL_MAC_ADDR_SET) {
      const mac = pull(dma, c.out, ETH_ALEN);
      if (mac?.length === ETH_ALEN) {
        sim.config.set(mac, 0);
        status = VIRTIO_NET_OK;
      }
    }
    const w = push(dma, c.in, new Uint8Array([status]));
    complete(dma, cvq.vring, c.head, Math.max(w, 0));
    cvq.cb?.();
  }
}

/** vdpasim_net_work: the control vq, then TX looped into RX */
function work(sim: VdpaSim): void {
  if (!sim.running || !(sim.status & VIRTIO_CONFIG_S_DRIVER_OK)) return;
  handleCvq(sim);
  const tx = sim.vqs[TXQ];
  const rx = sim.vqs[RXQ];
  if (!tx?.ready || !rx?.ready) return;
  const txDma = sim.dma(TXQ);
  const rxDma = sim.dma(RXQ);
  for (let guard = 0; guard < 0x10000; guard++) {
    const t = getDesc(txDma, tx.vring);
    if (typeof t === 'string' || t.in.length) break;
    const pkt = pull(txDma, t.out, PAGE_SIZE);
    if (!pkt) break;
    if (!receiveFilter(sim, pkt)) {
      netComplete(sim, TXQ, t.head, 0);
      continue;
    }
    const r = getDesc(rxDma, rx.vring);
    if (typeof r === 'string' || r.out.length) {
      netComplete(sim, TXQ, t.head, 0);
      break;
    }
    const w = push(rxDma, r.in, pkt);
    if (w <= 0) break;
    netComplete(sim, TXQ, t.head, 0);
    netComplete(sim, RXQ, r.head, w);
  }
}

export const SIM_NET: SimClass = {
  id: VIRTIO_ID_NET,
  features,
  shape: (p) => (p.has('vdpa-asid') ? { nvqs: 3, ngroups: 2, nas: 2 } : { nvqs: 2, ngroups: 1, nas: 1 }),
  /** sizeof(struct virtio_net_config) */
  configSize: () => 24,
  setupConfig(sim) {
    sim.config.set(parseMac(sim.spec.mac), 0);
    sim.view.setUint16(10, sim.spec.mtu ?? 1500, true);
  },
  getConfig(sim) {
    sim.view.setUint16(6, VIRTIO_NET_S_LINK_UP, true);
  },
  work,
  vqGroup: (_sim, idx) => (idx === CVQ ? 1 : 0),
};

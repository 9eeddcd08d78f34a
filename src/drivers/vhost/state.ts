// State-table rows for vhost devices (scenario.md, "What a run prints").
import type { Kernel } from '../../kernel/kernel.js';
import type { StateRow, StateTables } from '../../kernel/registry.js';
import type { VhostDev } from './dev.js';

function push(tables: StateTables, key: string, row: StateRow): void {
  let t = tables[key];
  if (!t) {
    t = [];
    tables[key] = t;
  }
  t.push(row);
}

/** vhost, vrings, iotlb and pending rows of one device; `extra` adds family fields to the vhost row. */
export function vhostState(
  _k: Kernel,
  tables: StateTables,
  dev: VhostDev,
  path: string,
  extra: StateRow,
): void {
  const vq0 = dev.vqs[0]!;
  push(tables, 'vhost', {
    file: dev.fileId,
    path,
    owner: dev.ownerProc ? dev.ownerProc.name : null,
    features: vq0.ackedFeatures,
    backend_features: vq0.ackedBackendFeatures,
    iotlb: dev.iotlb !== null,
    ...extra,
  });
  for (const vq of dev.vqs) {
    push(tables, 'vrings', {
      file: dev.fileId,
      index: vq.index,
      num: vq.num,
      flags: vq.logUsed ? 1 : 0,
      desc_user_addr: vq.desc,
      avail_user_addr: vq.avail,
      used_user_addr: vq.used,
      log_guest_addr: vq.logAddr,
      last_avail_idx: vq.lastAvailIdx,
      last_used_idx: vq.lastUsedIdx,
      kick: vq.kickFd,
      call: vq.callFd,
      err: vq.errFd,
    });
  }
  if (dev.iotlb) {
    for (const m of dev.iotlb.maps()) {
      push(tables, 'iotlb', {
        file: dev.fileId,
        asid: 0,
        view: 'vhost',
        iova: m.start,
        size: m.size,
        uaddr: m.addr,
        perm: m.perm,
      });
    }
  }
  for (const [list, nodes] of [
    ['read', dev.readList],
    ['pending', dev.pendingList],
  ] as const) {
    for (const n of nodes) {
      push(tables, 'pending', {
        file: dev.fileId,
        list,
        type: n.version,
        asid: n.asid,
        iotlb: { type: n.type, iova: n.iova, size: n.size, uaddr: n.uaddr, perm: n.perm },
      });
    }
  }
}

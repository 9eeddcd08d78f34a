// State-table rows for vhost devices (scenario.md, "What a run prints").
import type { Kernel } from '../../kernel/kernel.js';
import type { Diagnostic, StateRow, StateTables } from '../../kernel/registry.js';
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

/**
 * What the final state says that the kernel never reports: IOTLB misses nobody
 * answered (the device stalls on them), and a device whose owner exited while
 * another process still holds its fd (no one can use it until it is closed).
 */
/** vhostDiagnostics of every open file of one vhost kind whose private data holds the vhost_dev. */
export function vhostFilesDiagnostics(k: Kernel, kind: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const f of k.files.values()) {
    if (f.ops.kind === kind) out.push(...vhostDiagnostics(k, (f.priv as { dev: VhostDev }).dev, f.path));
  }
  return out;
}

export function vhostDiagnostics(k: Kernel, dev: VhostDev, path: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const unanswered = [...dev.readList, ...dev.pendingList].filter((n) => n.type === 1);
  if (unanswered.length > 0) {
    const iovas = [...new Set(unanswered.map((n) => `0x${n.iova.toString(16)}`))].slice(0, 4).join(', ');
    out.push({
      code: 'vhost-iotlb-miss-unanswered',
      message:
        `${path} (file ${dev.fileId}): ${unanswered.length} IOTLB MISS message(s) never answered ` +
        `(iova ${iovas}${unanswered.length > 4 ? ', …' : ''}): the queues that missed stay stalled until an ` +
        'IOTLB UPDATE covers them.',
    });
  }
  if (dev.owner && k.exitedOwnerOf(dev.owner)) {
    out.push({
      code: 'vhost-owner-exited',
      message:
        `${path} (file ${dev.fileId}): its owner ${dev.ownerProc?.name ?? ''} has exited but the file is still open ` +
        'elsewhere: every owner-checked call fails with EPERM and SET_OWNER with EBUSY until it is released.',
    });
  }
  return out;
}

// State-table rows of an open /dev/vhost-vdpa-N: the vhost row (with the parent's status), the vrings,
// and the iotlb rows of every address space, as vhost-vdpa holds them (view 'vhost') and as the
// simulated device translates (view 'device', vhost.md §12.16).
import type { OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { StateTables } from '../../kernel/registry.js';
import { vhostState } from './state.js';
import type { VhostVdpa } from './vdpa-dev.js';

export function vdpaState(k: Kernel, tables: StateTables, f: OpenFile<VhostVdpa>): void {
  const v = f.priv;
  if (!v.dev) return;
  const sim = v.sim;
  vhostState(k, tables, v.dev, f.path, {
    device: sim.spec.name,
    status: sim.status,
    device_features: sim.features,
    suspended: v.suspended,
    in_batch: v.inBatch,
    batch_asid: v.batchAsid,
    config_call: v.configFd,
  });
  // the vdpa fields of the vring rows (scenario.md): the parent's ready bit, group and address space
  for (const row of tables.vrings ?? []) {
    if (row.file !== f.id) continue;
    const idx = Number(row.index);
    const vq = sim.vqs[idx];
    if (!vq) continue;
    row.ready = vq.ready;
    row.group = sim.getVqGroup(idx);
    row.asid = vq.asid;
  }
  const rows = (tables.iotlb ??= []);
  for (const asid of [...v.as.keys()].sort((a, b) => a - b)) {
    for (const m of v.as.get(asid)!.maps()) {
      rows.push({
        file: f.id,
        asid,
        view: 'vhost',
        iova: m.start,
        size: m.size,
        uaddr: m.addr,
        perm: m.perm,
      });
    }
  }
  for (let asid = 0; asid < sim.nas; asid++) {
    for (const m of sim.deviceMaps(asid)) {
      rows.push({
        file: f.id,
        asid,
        view: 'device',
        iova: m.start,
        size: m.size,
        uaddr: m.addr,
        perm: m.perm,
        passthrough: sim.iommuPt[asid] ?? false,
      });
    }
  }
}

// State-table rows of an open /dev/vhost-vdpa-N: the vhost row (with the parent's status), the vrings,
// and the iotlb rows of every address space, as vhost-vdpa holds them (view 'vhost') and as the
// simulated device translates (view 'device', vhost.md §12.16).
import type { OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Diagnostic, StateTables } from '../../kernel/registry.js';
import { vhostState } from './state.js';
import type { VdpaMapCtx, VhostVdpa } from './vdpa-dev.js';

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

/**
 * End of run: VA-mode entries that still name addresses of a process that has exited. The kernel
 * keeps them (the file lives on in another process), but the device's accesses through them find
 * no memory: the mappings needed VHOST_NEW_OWNER and a VHOST_IOTLB_REMAP by the live process.
 */
export function vdpaDiagnostics(k: Kernel, f: OpenFile<VhostVdpa>): Diagnostic[] {
  const v = f.priv;
  if (!v.sim.useVa) return [];
  const out: Diagnostic[] = [];
  for (const asid of [...v.as.keys()].sort((a, b) => a - b)) {
    const gone = v.as
      .get(asid)!
      .maps()
      .filter((m) => k.exitedOwnerOf((m.opaque as VdpaMapCtx | undefined)?.mm));
    const first = gone[0];
    if (!first) continue;
    const owner = k.exitedOwnerOf((first.opaque as VdpaMapCtx).mm)!;
    out.push({
      code: 'vdpa-mapping-exited-owner',
      message:
        `${f.path} (file ${f.id}): ${gone.length} entr${gone.length === 1 ? 'y' : 'ies'} of address space ${asid} ` +
        `(first: iova 0x${first.start.toString(16)}, uaddr 0x${first.addr.toString(16)}) name addresses of ` +
        `${owner.name}, which has exited: the device's accesses through them find no memory ` +
        'until the process holding the file takes over (VHOST_NEW_OWNER) and REMAPs them to its own addresses.',
    });
  }
  return out;
}

// /dev/vfio/vfio and /dev/vfio/N as a driver family (vfio.md §5, §7), with the vfio_groups
// state rows and the reference diagnostics.
import type { CallCtx } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { DriverModule, Opened, StateTables } from '../../kernel/registry.js';
import { type Fail, fail } from '../../kernel/result.js';
import { openIommufd } from '../iommufd/iommufd.js';
import { pciBus } from '../pci/bus.js';
import { CONTAINER_OPS, newContainer } from './container.js';
import { GROUP_OPS, groupStatusFlags, openGroup } from './group.js';
import { vfioDiagnostics } from './refs.js';
import { vfio } from './state.js';

const GROUP_NODE = /^\/dev\/vfio\/(\d+)$/;

function groupId(path: string): number | undefined {
  const m = GROUP_NODE.exec(path);
  return m ? Number(m[1]) : undefined;
}

function state(k: Kernel, t: StateTables): void {
  const rows = (t.vfio_groups ??= []);
  const groups = [...vfio(k).all].sort((a, b) => a.id - b.id);
  for (const g of groups) {
    rows.push({
      group: g.id,
      flags: g.iommu || !k.profile.has('vfio-group-disassociate') ? groupStatusFlags(k, g) : null,
      open: g.openedFile !== null,
      devices: g.devices.map((d) => d.pci.bdf),
      unbound: g.unbound.map((d) => d.bdf),
      container_users: g.containerUsers,
      kvm: g.kvmHolders.size > 0,
    });
  }
}

export const vfioDriver: DriverModule = {
  name: 'vfio',
  family: 'vfio',
  claims: (path) => path === '/dev/vfio/vfio' || GROUP_NODE.test(path),
  exists(k, path) {
    pciBus(k);
    if (path === '/dev/vfio/vfio') return true;
    const id = groupId(path);
    return id !== undefined && vfio(k).groups.get(id)?.node === true;
  },
  open(ctx: CallCtx, path: string, _flags: number, fileId: number): Opened | Fail {
    if (path === '/dev/vfio/vfio') {
      // CONFIG_IOMMUFD_VFIO_CONTAINER: iommufd's vfio_misc_dev is the node (iommufd_fops_open)
      if (ctx.k.profile.has('iommufd-vfio-container')) return openIommufd(ctx, fileId, true);
      // vfio_fops_open: kzalloc of the container, -ENOMEM
      if (ctx.k.allocFails(ctx.proc, 'vfio_fops_open: kzalloc container'))
        return fail('ENOMEM', 'vfio_fops_open', '!container (kzalloc)');
      return { ops: CONTAINER_OPS, priv: newContainer(ctx.k) } as Opened;
    }
    const g = openGroup(ctx.k, groupId(path)!);
    if ('ok' in g) return g as Fail;
    g.openedFile = fileId;
    return { ops: GROUP_OPS, priv: g } as Opened;
  },
  state,
  stateDiagnostics: vfioDiagnostics,
  leaks: vfioLeaks,
};

/** Once every process has exited: no container, no group or device reference, no locked_vm left. */
function vfioLeaks(k: Kernel): string[] {
  const s = vfio(k);
  const out: string[] = [];
  for (const c of s.containers) out.push(`container ${c.id} still allocated (${c.groups.length} group(s))`);
  for (const g of s.all) {
    if (g.openedFile !== null) out.push(`group ${g.id} still open (file ${g.openedFile})`);
    if (g.containerUsers !== 0) out.push(`group ${g.id}: container_users = ${g.containerUsers}`);
    if (g.container) out.push(`group ${g.id} still attached to container ${g.container.id}`);
    if (g.kvmHolders.size > 0 || g.kvm) out.push(`group ${g.id} still held by kvm`);
  }
  for (const d of s.devices.values()) {
    if (d.openCount !== 0 || d.files.size > 0) out.push(`device ${d.pci.bdf}: open_count = ${d.openCount}`);
  }
  // type1's mm->locked_vm accounting (type1.ts keeps it in k.globals)
  const locked = k.globals.get('mm-locked-vm') as Map<{ id: number }, bigint> | undefined;
  for (const [mm, pages] of locked ?? [])
    if (pages !== 0n) out.push(`mm ${mm.id}: locked_vm = ${pages} page(s)`);
  return out;
}

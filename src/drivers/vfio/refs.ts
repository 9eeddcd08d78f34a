// The reference graph behind VFIO diagnostics: who holds a group, its container and its
// mappings, so that "why can this not be released / why does unbind hang" has an answer.
import type { Kernel } from '../../kernel/kernel.js';
import type { Diagnostic } from '../../kernel/registry.js';
import { nonViableMember } from './notifier.js';
import type { VfioGroup } from './state.js';
import { vfio } from './state.js';
import { describeMappings } from './type1.js';

/** The holders of a group, one phrase each. */
export function groupHolders(k: Kernel, g: VfioGroup): string[] {
  const out: string[] = [];
  if (g.openedFile !== null) out.push(`the group file (file ${g.openedFile})`);
  for (const d of g.devices) if (d.files.size) out.push(`${d.files.size} fd(s) of device ${d.pci.bdf}`);
  for (const h of g.kvmHolders) out.push(h.describe());
  if (!k.profile.has('vfio-dma-ownership') && g.containerUsers)
    out.push(`container_users = ${g.containerUsers}`);
  return out;
}

/** Can any process still name this group to kvm-vfio's GROUP_DEL? Only through an open group file. */
function groupFileOpen(k: Kernel, g: VfioGroup): boolean {
  return g.openedFile !== null && k.files.has(g.openedFile);
}

/**
 * A kvm-vfio reference nobody can drop any more: the group file is closed, so no GROUP_DEL can
 * name it, and only the VM's end releases it (seed 001 on 3.19, vfio.md §15).
 */
export function vfioDiagnostics(k: Kernel): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const g of vfio(k).all) {
    if (g.kvmHolders.size === 0 || groupFileOpen(k, g)) continue;
    const holders = [...g.kvmHolders].map((h) => h.describe()).join('; ');
    const c = g.container;
    const chain = [
      holders,
      `→ kvm-vfio's reference (${k.profile.has('vfio-dma-ownership') ? 'the group file' : 'a vfio external user: group kref + container_users'})`,
      `→ vfio group ${g.id} (devices: ${g.devices.map((d) => d.pci.bdf).join(', ') || 'none'})`,
      c ? `→ container ${c.id}${c.iommu ? ` (type1: ${describeMappings(c.iommu)})` : ''}` : '→ no container',
    ].join(' ');
    const bad = nonViableMember(k, g);
    out.push({
      code: 'vfio-group-reference-stuck',
      message:
        `vfio group ${g.id} is still held by kvm-vfio and no process has the group open to release it with ` +
        `KVM_DEV_VFIO_GROUP_DEL: it stays attached${c ? ` to container ${c.id}` : ''} (its mappings pinned, ` +
        `re-open EBUSY) until the VM fd, its kvm-vfio device fd and vcpu fds are all closed. Chain: ${chain}.` +
        (bad ? ` (Right now ${bad.bdf} on ${bad.driver} makes the group non-viable.)` : ''),
    });
  }
  return out;
}

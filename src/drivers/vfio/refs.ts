// The reference graph behind VFIO diagnostics: who holds a group, its container and its
// mappings, so that "why can this not be released / why does unbind hang" has an answer.
import type { OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Diagnostic } from '../../kernel/registry.js';
import { nonViableMember } from './notifier.js';
import type { VfioDevice, VfioGroup } from './state.js';
import { kvmHoldersOf, vfio } from './state.js';
import { describeMappings } from './type1.js';

/** "fd 5 of process main" for every fd of a live process whose file matches. */
export function fdsOf(k: Kernel, match: (f: OpenFile) => boolean): string[] {
  const out: string[] = [];
  for (const p of k.processes) {
    if (p.exited) continue;
    for (const [fd, f] of p.fds.sorted()) if (match(f)) out.push(`fd ${fd} of process ${p.name}`);
  }
  return out;
}

/** Who keeps open file `id` alive: process fds, and kvm-vfio devices holding it. */
export function fileHolders(k: Kernel, id: number): string[] {
  const out = fdsOf(k, (f) => f.id === id).map((x) => `${x} (file ${id})`);
  const f = k.files.get(id);
  if (f) for (const h of kvmHoldersOf(k, f)) out.push(`${h.describe(k)}, which holds file ${id}`);
  return out;
}

/** The holders of a device's files (its registration references): what an unbind waits for. */
export function deviceHolders(k: Kernel, d: VfioDevice): string[] {
  return [...new Set([...d.files].map((f) => f.id))]
    .sort((a, b) => a - b)
    .flatMap((id) => fileHolders(k, id));
}

/** The holders of a group, one phrase each. */
export function groupHolders(k: Kernel, g: VfioGroup): string[] {
  const out: string[] = [];
  if (g.openedFile !== null) out.push(...fileHolders(k, g.openedFile));
  for (const d of g.devices) if (d.files.size) out.push(`${d.files.size} fd(s) of device ${d.pci.bdf}`);
  for (const h of g.kvmHolders)
    if (g.openedFile === null || !kvmHoldersOf(k, k.files.get(g.openedFile)!).includes(h))
      out.push(h.describe(k));
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
  const out: Diagnostic[] = [...unbindWaits(k)];
  for (const g of vfio(k).all) {
    if (g.kvmHolders.size === 0 || groupFileOpen(k, g)) continue;
    const holders = [...g.kvmHolders].map((h) => h.describe(k)).join('; ');
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

/**
 * Why a vfio-pci unbind hangs: vfio_unregister_group_dev waits (uninterruptibly, asking the user
 * through vfio_pci_core_request) until every file of the device is released; 4.13 – 5.18 the
 * last device's unbind then waits for its group to leave the container (group->container_q).
 */
function unbindWaits(k: Kernel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const s = vfio(k);
  for (const [pci, d] of s.devices) {
    if (!pci.unbinding || d.files.size === 0) continue;
    const byKvm = [...d.files].some((f) => {
      const real = k.files.get(f.id);
      return real !== undefined && kvmHoldersOf(k, real).length > 0;
    });
    const release = k.profile.has('kvm-vfio-release')
      ? "the kvm-vfio device's fd closes"
      : "the VM's last fd closes";
    out.push({
      code: 'vfio-unbind-waiting',
      message:
        `the unbind of ${pci.bdf} from vfio-pci waits in vfio_unregister_group_dev until every file of the device ` +
        `is released; held by ${deviceHolders(k, d).join('; ')}.` +
        (byKvm ? ` kvm-vfio lets its reference go with KVM_DEV_VFIO_FILE_DEL, or when ${release}.` : '') +
        ' Until then the device lock is held: resets of it and of its bus fail with EAGAIN',
    });
  }
  if (!k.profile.has('vfio-container-q-stall')) return out;
  for (const g of s.all) {
    const pci = g.unbound.find((x) => x.unbinding && !s.devices.has(x));
    if (!pci || g.container === null) continue;
    out.push({
      code: 'vfio-unbind-waiting',
      message:
        `the unbind of ${pci.bdf}, the last device of group ${g.id}, waits until the group leaves container ` +
        `${g.container.id} (group->container_q); held by ${groupHolders(k, g).join('; ') || 'nothing visible'}`,
    });
  }
  return out;
}

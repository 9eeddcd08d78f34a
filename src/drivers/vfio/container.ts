// /dev/vfio/vfio: the container (drivers/vfio/container.c; vfio.c before 6.1; vfio.md §5).
import type { CallCtx, FileOps, OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Process } from '../../kernel/process.js';
import { fail, ok, type SysOutcome } from '../../kernel/result.js';
import { vfioNr } from '../../uapi/vfio.js';
import { type Container, maybeFreeGroup, type VfioGroup, vfio } from './state.js';
import {
  type1AttachGroup,
  type1CheckExtension,
  type1DetachGroup,
  type1Ioctl,
  type1Open,
  type1Release,
} from './type1.js';

export function newContainer(k: Kernel): Container {
  const s = vfio(k);
  const c: Container = { id: s.nextContainer++, groups: [], iommu: null, fileOpen: true };
  s.containers.add(c);
  return c;
}

export function containerOf(f: OpenFile | undefined): Container | undefined {
  return f && f.ops === CONTAINER_OPS ? (f.priv as Container) : undefined;
}

/** VFIO_SET_IOMMU (vfio_ioctl_set_iommu): the same algorithm in every era (vfio.md §5.4). */
function setIommu(ctx: CallCtx, c: Container, type: bigint): SysOutcome {
  const fn = 'vfio_ioctl_set_iommu';
  if (c.groups.length === 0 || c.iommu)
    return fail('EINVAL', fn, 'list_empty(&container->group_list) || container->iommu_driver');
  // Only type1 is registered on x86 (no spapr; Debian builds no noiommu): it must claim the value.
  if (type1CheckExtension(ctx.k, null, type) <= 0)
    return fail(
      'ENODEV',
      fn,
      'no driver claims the type (driver->ops->ioctl(NULL, VFIO_CHECK_EXTENSION) <= 0)',
    );
  // vfio_iommu_type1_open's kzalloc comes before its type switch: ERR_PTR(-ENOMEM), the container unchanged
  if (ctx.k.allocFails(ctx.proc, 'vfio_iommu_type1_open: kzalloc iommu'))
    return fail('ENOMEM', 'vfio_iommu_type1_open', '!iommu (kzalloc)');
  const iommu = type1Open(ctx.k, type);
  if (!iommu) return fail('EINVAL', 'vfio_iommu_type1_open', 'default: -EINVAL');
  for (const g of c.groups) {
    const r = type1AttachGroup(ctx.k, iommu, g, ctx.proc);
    if (!r.ok) return r;
  }
  c.iommu = iommu;
  return ok(0);
}

function containerIoctl(ctx: CallCtx, f: OpenFile<Container>, cmd: number, arg: bigint): SysOutcome {
  const c = f.priv;
  if (cmd === vfioNr('VFIO_GET_API_VERSION')) return ok(0);
  if (cmd === vfioNr('VFIO_CHECK_EXTENSION')) {
    // No driver set: ask every registered backend with a NULL instance (type1 only here).
    return ok(type1CheckExtension(ctx.k, c.iommu, arg));
  }
  if (cmd === vfioNr('VFIO_SET_IOMMU')) return setIommu(ctx, c, arg);
  if (!c.iommu) return fail('EINVAL', 'vfio_fops_unl_ioctl', 'no iommu driver: default -EINVAL');
  return type1Ioctl(ctx, c.iommu, cmd, arg);
}

export const CONTAINER_OPS: FileOps<Container> = {
  kind: 'vfio-container',
  ioctl: containerIoctl,
  release(k: Kernel, f: OpenFile<Container>) {
    // Closing the fd detaches nothing: attached groups hold the container (vfio.md §5.1).
    f.priv.fileOpen = false;
    maybeFreeContainer(k, f.priv);
  },
};

function maybeFreeContainer(k: Kernel, c: Container): void {
  if (!c.fileOpen && c.groups.length === 0) vfio(k).containers.delete(c);
}

/** Attaches a group (vfio_container_attach_group / classic __vfio_group_set_container's tail). */
export function attachGroup(k: Kernel, c: Container, g: VfioGroup, proc: Process): SysOutcome {
  if (k.profile.has('vfio-dma-ownership') && g.iommu) {
    // iommu_group_claim_dma_owner: no kernel driver may use the group's DMA, no other owner.
    if (g.iommu.ownerCnt !== 0) return fail('EPERM', 'iommu_group_claim_dma_owner', 'group->owner_cnt');
    g.iommu.owner = g;
    g.iommu.ownerCnt = 1;
  }
  if (c.iommu) {
    const r = type1AttachGroup(k, c.iommu, g, proc);
    if (!r.ok) {
      if (k.profile.has('vfio-dma-ownership') && g.iommu) releaseOwner(g);
      return r;
    }
  }
  g.container = c;
  g.containerUsers = 1;
  c.groups.push(g);
  return ok(0);
}

function releaseOwner(g: VfioGroup): void {
  if (g.iommu && g.iommu.owner === g) {
    g.iommu.owner = null;
    g.iommu.ownerCnt = 0;
  }
}

/** vfio_group_detach_container (__vfio_group_unset_container): the last group takes the IOMMU. */
export function detachGroup(k: Kernel, g: VfioGroup): void {
  const c = g.container;
  if (!c) return;
  if (c.iommu) type1DetachGroup(c.iommu, g);
  const i = c.groups.indexOf(g);
  if (i >= 0) c.groups.splice(i, 1);
  if (c.groups.length === 0 && c.iommu) {
    type1Release(k, c.iommu);
    c.iommu = null;
  }
  if (k.profile.has('vfio-dma-ownership')) releaseOwner(g);
  g.container = null;
  g.containerUsers = 0;
  maybeFreeContainer(k, c);
}

/** vfio_group_try_dissolve_container (classic): one user less; the last detaches. */
export function dropContainerUser(k: Kernel, g: VfioGroup): void {
  if (g.containerUsers <= 0) return;
  g.containerUsers--;
  if (g.containerUsers === 0) detachGroup(k, g);
  maybeFreeGroup(k, g);
}

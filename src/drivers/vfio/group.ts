// /dev/vfio/N: the group file (vfio.c before 6.1, vfio_main.c in 6.1, group.c from 6.2;
// vfio.md §7): exclusive open, GET_STATUS, SET/UNSET_CONTAINER, GET_DEVICE_FD, release.
import type { CallCtx, FileOps, OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import { type Blocked, fail, ok, type SysOutcome, type SysResult } from '../../kernel/result.js';
import { getUser } from '../../kernel/uaccess.js';
import { MINSZ, VFIO_GROUP_FLAGS_CONTAINER_SET, VFIO_GROUP_FLAGS_VIABLE, vfioNr } from '../../uapi/vfio.js';
import { iommufdOf } from '../iommufd/iommufd.js';
import { cdevOpenCount } from './cdev.js';
import { attachGroup, containerOf, detachGroup, dropContainerUser } from './container.js';
import { openDeviceFd } from './device.js';
import { groupDropIommufd, groupIommufdFirstOpen, groupSetIommufd } from './group-iommufd.js';
import { groupViable } from './notifier.js';
import { maybeFreeGroup, type VfioGroup, vfio } from './state.js';
import { matchDevice } from './vfio-pci.js';

export function groupOf(f: OpenFile | undefined): VfioGroup | undefined {
  return f && f.ops === GROUP_OPS ? (f.priv as VfioGroup) : undefined;
}

/** vfio_group_fops_open: the node exists only while the group object has it (state.ts). */
export function openGroup(k: Kernel, id: number): VfioGroup | SysResult {
  const g = vfio(k).groups.get(id);
  if (!g?.node) return fail('ENOENT', 'do_sys_open', 'no /dev/vfio node for this group');
  const fn = 'vfio_group_fops_open';
  if (k.profile.has('vfio-dma-ownership')) {
    // group->drivers: vfio_device_set_group to vfio_device_remove_group, which outlasts the
    // device's time on the group list (the unbind window) and ends as the node goes
    const drivers = [...vfio(k).devices.values()].filter((d) => d.group === g).length;
    if (drivers === 0) return fail('ENODEV', fn, 'refcount_read(&group->drivers) == 0');
    if (cdevOpenCount(k, g)) return fail('EBUSY', fn, 'group->cdev_device_open_cnt');
    if (g.openedFile) return fail('EBUSY', fn, 'group->opened_file');
    return g;
  }
  // "vfio: Limit group opens": one opener, and nothing left attached from a previous one.
  if (g.openedFile) return fail('EBUSY', fn, 'atomic_cmpxchg(&group->opened, 0, 1)');
  if (g.container) return fail('EBUSY', fn, 'group->container (still in use from a previous open)');
  return g;
}

/** VFIO_GROUP_GET_STATUS (vfio.md §7.4) */
export function groupStatusFlags(k: Kernel, g: VfioGroup): number {
  if (k.profile.has('vfio-dma-ownership')) {
    // vfio_group_has_iommu: a container or (6.2+) an iommufd
    if (g.container || g.iommufd) return VFIO_GROUP_FLAGS_CONTAINER_SET | VFIO_GROUP_FLAGS_VIABLE;
    return g.iommu && g.iommu.ownerCnt === 0 ? VFIO_GROUP_FLAGS_VIABLE : 0;
  }
  return (
    (groupViable(k, g) ? VFIO_GROUP_FLAGS_VIABLE : 0) | (g.container ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0)
  );
}

/**
 * The function that holds each group ioctl's checks: 6.1's vfio_main.c split the ioctls out of
 * vfio_group_fops_unl_ioctl into vfio_group_ioctl_* (Jason Gunthorpe's "vfio_ioctl_split" series,
 * the same one that resolves SET_CONTAINER's fd first); before it (vfio.c, 3.19 – 5.18) GET_STATUS
 * and SET_CONTAINER's get_user / fd < 0 sit in vfio_group_fops_unl_ioctl, the rest in
 * vfio_group_set_container and vfio_group_unset_container.
 */
function groupFn(k: Kernel, split: string, classic: string): string {
  return k.profile.has('vfio-group-fdget-first') ? split : classic;
}

function getStatus(ctx: CallCtx, g: VfioGroup, arg: bigint): SysResult {
  const fn = groupFn(ctx.k, 'vfio_group_ioctl_get_status', 'vfio_group_fops_unl_ioctl');
  const b = ctx.proc.mm.copyFromUser(arg, MINSZ.group_status);
  if (!b) return fail('EFAULT', fn, 'copy_from_user(&status, arg, minsz)');
  if (new DataView(b.buffer).getUint32(0, true) < MINSZ.group_status)
    return fail('EINVAL', fn, 'status.argsz < minsz');
  if (ctx.k.profile.has('vfio-group-disassociate') && !g.iommu)
    return fail('ENODEV', fn, '!group->iommu_group');
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, groupStatusFlags(ctx.k, g), true);
  if (!ctx.proc.mm.copyToUser(arg + 4n, out)) return fail('EFAULT', fn, 'copy_to_user(arg, &status, minsz)');
  return ok(0);
}

/** VFIO_GROUP_SET_CONTAINER, with each era's check order (vfio.md §7.5). */
function setContainer(ctx: CallCtx, g: VfioGroup, arg: bigint): SysOutcome {
  const k = ctx.k;
  const fn = groupFn(k, 'vfio_group_ioctl_set_container', 'vfio_group_set_container');
  const fd = getUser(ctx.proc.mm, arg, 's32');
  if (fd === undefined)
    return fail('EFAULT', groupFn(k, fn, 'vfio_group_fops_unl_ioctl'), 'get_user(fd, arg)');
  let file: OpenFile | undefined;
  if (k.profile.has('vfio-group-fdget-first')) {
    // 6.1+: fdget first, so a negative fd is EBADF too.
    file = fd >= 0n && fd < 1n << 31n ? k.fget(ctx.proc, Number(fd)) : undefined;
    if (!file) return fail('EBADF', fn, '!f.file');
    if (g.container || g.iommufd) return fail('EINVAL', fn, 'vfio_group_has_iommu(group)');
    if (!g.iommu) return fail('ENODEV', fn, '!group->iommu_group');
  } else {
    if (fd < 0n) return fail('EINVAL', 'vfio_group_fops_unl_ioctl', 'fd < 0');
    if (g.containerUsers) return fail('EINVAL', fn, 'atomic_read(&group->container_users)');
    file = k.fget(ctx.proc, Number(fd));
    if (!file) return fail('EBADF', fn, '!f.file');
  }
  const c = containerOf(file);
  const ictx = c ? undefined : iommufdOf(file);
  if (ictx) return groupSetIommufd(k, g, ictx, file, ctx.proc.mm);
  if (!c) {
    if (k.profile.has('vfio-set-container-ebadfd'))
      return fail('EBADFD', fn, 'neither a vfio container nor an iommufd');
    return fail('EINVAL', fn, 'f.file->f_op != &vfio_fops');
  }
  const iommu = c.iommu;
  if (
    iommu &&
    k.profile.has('type1-vaddr') &&
    !k.profile.has('type1-vaddr-restricted') &&
    iommu.vaddrInvalidCount
  ) {
    // v5.12 – v6.2: the replay into the new domain waits until every vaddr is valid again.
    const blocked: Blocked = {
      ok: 'blocked',
      retry: () => (iommu.vaddrInvalidCount ? blocked : setContainer(ctx, g, arg)),
    };
    return blocked;
  }
  return attachGroup(k, c, g, ctx.proc);
}

/** VFIO_GROUP_UNSET_CONTAINER: only while nothing else (device fds, kvm users) counts. */
function unsetContainer(k: Kernel, g: VfioGroup): SysResult {
  if (!k.profile.has('vfio-group-fdget-first')) {
    // vfio.c: users = atomic_cmpxchg(&group->container_users, 1, 0)
    const fn = 'vfio_group_unset_container';
    if (!g.containerUsers)
      return fail('EINVAL', fn, '!users (atomic_cmpxchg(&group->container_users, 1, 0))');
    if (g.containerUsers !== 1) return fail('EBUSY', fn, 'users != 1');
    detachGroup(k, g);
    return ok(0);
  }
  const fn = 'vfio_group_ioctl_unset_container';
  if (!g.container && !g.iommufd) return fail('EINVAL', fn, '!vfio_group_has_iommu(group)');
  if (g.container) {
    if (g.containerUsers !== 1) return fail('EBUSY', fn, 'group->container_users != 1');
    detachGroup(k, g);
  }
  // an iommufd goes without a busy check: open devices keep their own binding
  groupDropIommufd(k, g);
  return ok(0);
}

/**
 * strndup_user(arg, PAGE_SIZE): strnlen_user (no fault point: unsafe_get_user), then memdup_user's
 * kmalloc (-ENOMEM) and one copy_from_user of the string and its NUL (-EFAULT).
 */
function readName(ctx: CallCtx, arg: bigint): string | SysResult {
  const mm = ctx.proc.mm;
  const bytes: number[] = [];
  for (let i = 0; i < 4096; i++) {
    const b = mm.readUser(arg + BigInt(i), 1);
    if (!b) return fail('EFAULT', 'strndup_user', '!strnlen_user(s, n) (faulted)');
    if (b[0] === 0) {
      if (ctx.k.allocFails(ctx.proc, 'memdup_user: kmalloc'))
        return fail('ENOMEM', 'memdup_user', '!p (kmalloc_track_caller)');
      if (!mm.copyFromUser(arg, i + 1)) return fail('EFAULT', 'memdup_user', 'copy_from_user(p, src, len)');
      return String.fromCharCode(...bytes);
    }
    bytes.push(b[0]!);
  }
  return fail('EINVAL', 'strndup_user', 'length > n (PAGE_SIZE)');
}

/** VFIO_GROUP_GET_DEVICE_FD: classic checks the group before the name, 5.19+ after (§7.7). */
function getDeviceFd(ctx: CallCtx, f: OpenFile<VfioGroup>, arg: bigint): SysResult {
  const k = ctx.k;
  const g = f.priv;
  const name = readName(ctx, arg);
  if (typeof name !== 'string') return name;
  if (!k.profile.has('vfio-dma-ownership')) {
    const fn = 'vfio_group_get_device_fd';
    if (g.containerUsers === 0 || !g.container?.iommu || !groupViable(k, g))
      return fail('EINVAL', fn, '!container_users || !container->iommu_driver || !vfio_group_viable(group)');
  }
  const dev = matchDevice(k, g, name);
  if ('ok' in dev) return dev;
  // 6.6+ vfio_device_open_file: vfio_allocate_device_file before vfio_df_group_open (-ENOMEM; the
  // caller puts the fd and the registration back)
  if (k.profile.has('vfio-device-cdev') && k.allocFails(ctx.proc, 'vfio_allocate_device_file: kzalloc df'))
    return fail('ENOMEM', 'vfio_allocate_device_file', '!df (kzalloc)');
  if (k.profile.has('vfio-dma-ownership')) {
    if (g.iommufd) {
      if (dev.openCount === 0) {
        const e = groupIommufdFirstOpen(k, g, dev, ctx.proc.mm);
        if (e) return e;
      }
      return openDeviceFd(ctx, f, dev);
    }
    if (!g.container?.iommu)
      return fail(
        'EINVAL',
        'vfio_device_assign_container',
        '!group->container || !group->container->iommu_driver',
      );
  }
  return openDeviceFd(ctx, f, dev);
}

function groupIoctl(ctx: CallCtx, f: OpenFile<VfioGroup>, cmd: number, arg: bigint): SysOutcome {
  const g = f.priv;
  if (cmd === vfioNr('VFIO_GROUP_GET_STATUS')) return getStatus(ctx, g, arg);
  if (cmd === vfioNr('VFIO_GROUP_SET_CONTAINER')) return setContainer(ctx, g, arg);
  if (cmd === vfioNr('VFIO_GROUP_UNSET_CONTAINER')) return unsetContainer(ctx.k, g);
  if (cmd === vfioNr('VFIO_GROUP_GET_DEVICE_FD')) return getDeviceFd(ctx, f, arg);
  return fail('ENOTTY', 'vfio_group_fops_unl_ioctl', 'default: -ENOTTY');
}

export const GROUP_OPS: FileOps<VfioGroup> = {
  kind: 'vfio-group',
  ioctl: groupIoctl,
  release(k: Kernel, f: OpenFile<VfioGroup>) {
    const g = f.priv;
    if (g.openedFile === f.id) g.openedFile = null;
    if (k.profile.has('vfio-dma-ownership')) {
      // The last reference to the file (device fds and kvm-vfio hold it too) detaches it.
      if (g.container) detachGroup(k, g);
      groupDropIommufd(k, g);
      g.kvm = null;
      maybeFreeGroup(k, g);
      return;
    }
    dropContainerUser(k, g);
    maybeFreeGroup(k, g);
  },
};

// virt/kvm/vfio.c: the kvm-vfio device (vfio.md §10). Before 5.19 it holds a vfio *external
// user* of each group (a group reference plus container_users, taken only from a viable group);
// from 5.19 it holds the group *file*. GROUP_DEL before 4.13 had to take a fresh external user
// just to find the group: the seed-001 window of a non-viable group makes it fail EINVAL.
import type { CallCtx, FileOps, OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import { fail, ok, type SysOutcome, type SysResult } from '../../kernel/result.js';
import { copyStructFromUser, getUser } from '../../kernel/uaccess.js';
import {
  KVM_DEV_VFIO_GROUP,
  KVM_DEV_VFIO_GROUP_ADD,
  KVM_DEV_VFIO_GROUP_DEL,
  kvm_device_attr,
  kvmNr,
} from '../../uapi/kvm.js';
import { cdevFileOf } from '../vfio/cdev.js';
import { dropContainerUser } from '../vfio/container.js';
import { groupOf } from '../vfio/group.js';
import { groupViable } from '../vfio/notifier.js';
import { fdsOf } from '../vfio/refs.js';
import { type KvmHolder, kvmDropFile, kvmHoldFile, maybeFreeGroup, type VfioGroup } from '../vfio/state.js';
import { type KvmVm, kvmPut } from './kvm.js';

interface KvmVfioEntry {
  /** the group, or null for a vfio device file (6.6+, kvm-vfio-file) */
  readonly group: VfioGroup | null;
  /** the group file held (5.19+), or null for a classic external user */
  readonly file: OpenFile | null;
}

export interface KvmVfio extends KvmHolder {
  readonly vm: KvmVm;
  readonly entries: KvmVfioEntry[];
  fileId: number;
  destroyed: boolean;
}

export function newKvmVfio(vm: KvmVm, proc: string): KvmVfio {
  const d: KvmVfio = {
    vm,
    entries: [],
    fileId: 0,
    destroyed: false,
    // which fds still reach the device and its VM: the way to let the reference go
    describe: (k) => {
      const own = fdsOf(k, (f) => f.id === d.fileId);
      const vmFds = fdsOf(k, (f) => f.ops.kind === 'kvm-vm' && f.priv === vm);
      return (
        `the kvm-vfio device (file ${d.fileId}, ${own.join(', ') || 'no fd open'}) of VM ${vm.id} ` +
        `(process ${proc}; ${vmFds.map((x) => `VM ${x}`).join(', ') || 'no VM fd open'})`
      );
    },
  };
  return d;
}

/** vfio_group_get_external_user (before 5.19): attached, an IOMMU driver set, and viable. */
function getExternalUser(k: Kernel, f: OpenFile): VfioGroup | SysResult {
  const fn = 'vfio_group_get_external_user';
  const g = groupOf(f);
  if (!g) return fail('EINVAL', fn, 'filep->f_op != &vfio_group_fops');
  if (g.containerUsers === 0) return fail('EINVAL', fn, '!atomic_inc_not_zero(&group->container_users)');
  if (!g.container?.iommu || !groupViable(k, g))
    return fail('EINVAL', fn, '!group->container->iommu_driver || !vfio_group_viable(group)');
  g.containerUsers++;
  return g;
}

function putExternalUser(k: Kernel, g: VfioGroup): void {
  dropContainerUser(k, g);
}

/**
 * The functions of each era (virt/kvm/vfio.c): up to 5.18 kvm_vfio_set_group does everything;
 * 5.19 ("kvm/vfio: Move KVM_DEV_VFIO_GROUP_* ioctls into functions", with the DMA-ownership
 * series) moves ADD / DEL into kvm_vfio_group_add / _del; the 6.6 rename (a backport in Debian's
 * 6.1) makes them kvm_vfio_set_file / kvm_vfio_file_add / _del.
 */
function fns(k: Kernel): { set: string; add: string; del: string } {
  if (k.profile.has('kvm-vfio-file-names'))
    return { set: 'kvm_vfio_set_file', add: 'kvm_vfio_file_add', del: 'kvm_vfio_file_del' };
  if (k.profile.has('vfio-dma-ownership'))
    return { set: 'kvm_vfio_set_group', add: 'kvm_vfio_group_add', del: 'kvm_vfio_group_del' };
  return { set: 'kvm_vfio_set_group', add: 'kvm_vfio_set_group', del: 'kvm_vfio_set_group' };
}

function fdFile(ctx: CallCtx, addr: bigint, add: boolean): OpenFile | SysResult {
  const n = fns(ctx.k);
  const fd = getUser(ctx.proc.mm, addr, 's32');
  if (fd === undefined) return fail('EFAULT', n.set, 'get_user(fd, argp)');
  const f = fd >= 0n ? ctx.k.fget(ctx.proc, Number(fd)) : undefined;
  return f ?? fail('EBADF', add ? n.add : n.del, '!f.file');
}

function release(k: Kernel, dev: KvmVfio, e: KvmVfioEntry): void {
  const g = e.group;
  if (!g) {
    // kvm_vfio_file_set_kvm(kvf->file, NULL), then fput
    const df = cdevFileOf(e.file!);
    if (df) df.kvm = null;
    kvmDropFile(k, e.file!, dev);
    k.fput(e.file!);
    return;
  }
  g.kvmHolders.delete(dev);
  if (g.kvm === dev.vm) g.kvm = null;
  if (e.file) {
    kvmDropFile(k, e.file, dev);
    k.fput(e.file);
  } else putExternalUser(k, g);
  maybeFreeGroup(k, g);
}

/** kvm_vfio_file_add (6.6+): a group file or any vfio device file (vfio_file_is_valid). */
function fileAdd(ctx: CallCtx, dev: KvmVfio, f: OpenFile): SysResult {
  const k = ctx.k;
  const fn = 'kvm_vfio_file_add';
  const g = groupOf(f);
  if (!g && f.ops.kind !== 'vfio-device') return fail('EINVAL', fn, '!kvm_vfio_file_is_valid(filp)');
  if (dev.entries.some((e) => e.file === f)) return fail('EEXIST', fn, 'kvf->file == filp');
  if (k.allocFails(ctx.proc, 'kvm_vfio_file_add: kzalloc kvf')) return fail('ENOMEM', fn, '!kvf (kzalloc)');
  f.refs++;
  kvmHoldFile(k, f, dev);
  dev.entries.push({ group: g ?? null, file: f });
  // kvm_vfio_file_set_kvm: group->kvm for a group, df->kvm for a device file
  if (g) {
    g.kvmHolders.add(dev);
    g.kvm = dev.vm;
  } else {
    const df = cdevFileOf(f);
    if (df) df.kvm = dev.vm;
  }
  return ok(0);
}

function add(ctx: CallCtx, dev: KvmVfio, f: OpenFile): SysResult {
  const k = ctx.k;
  const fn = fns(k).add;
  if (k.profile.has('kvm-vfio-file')) return fileAdd(ctx, dev, f);
  if (k.profile.has('vfio-dma-ownership')) {
    const g = groupOf(f);
    if (!g) return fail('EINVAL', fn, '!kvm_vfio_file_is_group(filp)');
    if (dev.entries.some((e) => e.file === f)) return fail('EEXIST', fn, 'kvf->file == filp');
    // 6.1 kvm_vfio_file_add: goto err_unlock, the fget reference dropped
    if (k.allocFails(ctx.proc, 'kvm_vfio_file_add: kzalloc kvf')) return fail('ENOMEM', fn, '!kvf (kzalloc)');
    f.refs++;
    kvmHoldFile(k, f, dev);
    dev.entries.push({ group: g, file: f });
    g.kvmHolders.add(dev);
    g.kvm = dev.vm;
    return ok(0);
  }
  const g = getExternalUser(k, f);
  if ('ok' in g) return g;
  if (dev.entries.some((e) => e.group === g)) {
    putExternalUser(k, g);
    return fail('EEXIST', fn, 'kvg->vfio_group == vfio_group');
  }
  if (k.allocFails(ctx.proc, 'kvm_vfio_set_group: kzalloc kvg')) {
    putExternalUser(k, g);
    return fail('ENOMEM', fn, '!kvg (kzalloc)');
  }
  dev.entries.push({ group: g, file: null });
  g.kvmHolders.add(dev);
  g.kvm = dev.vm;
  return ok(0);
}

function del(ctx: CallCtx, dev: KvmVfio, f: OpenFile): SysResult {
  const k = ctx.k;
  const fn = fns(k).del;
  let match: (e: KvmVfioEntry) => boolean;
  let temp: VfioGroup | null = null;
  if (k.profile.has('vfio-dma-ownership')) match = (e) => e.file === f;
  else if (k.profile.has('kvm-vfio-del-by-file')) match = (e) => groupOf(f) === e.group;
  else {
    // ≤ 4.12: a fresh external user only to identify the group (fails while it is non-viable)
    const g = getExternalUser(k, f);
    if ('ok' in g) return g;
    temp = g;
    match = (e) => e.group === g;
  }
  const i = dev.entries.findIndex(match);
  let r: SysResult = k.profile.has('kvm-vfio-file-names')
    ? fail('ENOENT', fn, 'no kvm_vfio_file matches')
    : fail('ENOENT', fn, 'no kvm_vfio_group matches');
  if (i >= 0) {
    const [e] = dev.entries.splice(i, 1);
    release(k, dev, e!);
    r = ok(0);
  }
  if (temp) putExternalUser(k, temp);
  return r;
}

/** kvm_vfio_destroy (VM teardown) / kvm_vfio_release (fd close, 6.2+): every reference goes. */
export function kvmVfioDestroy(k: Kernel, dev: KvmVfio): void {
  dev.destroyed = true;
  for (const e of dev.entries.splice(0)) release(k, dev, e);
}

function setAttr(ctx: CallCtx, dev: KvmVfio, arg: bigint): SysResult {
  const a = copyStructFromUser(ctx, arg, kvm_device_attr);
  if (!a) return fail('EFAULT', 'kvm_device_ioctl_attr', 'copy_from_user(&attr, argp, sizeof(attr))');
  if (a.group !== KVM_DEV_VFIO_GROUP)
    return fail('ENXIO', 'kvm_vfio_set_attr', 'attr->group != KVM_DEV_VFIO_GROUP');
  if (a.attr !== KVM_DEV_VFIO_GROUP_ADD && a.attr !== KVM_DEV_VFIO_GROUP_DEL)
    return fail('ENXIO', fns(ctx.k).set, 'unknown attr (SET_SPAPR_TCE is ppc only)');
  const f = fdFile(ctx, a.addr!, a.attr === KVM_DEV_VFIO_GROUP_ADD);
  if ('ok' in f) return f;
  return a.attr === KVM_DEV_VFIO_GROUP_ADD ? add(ctx, dev, f) : del(ctx, dev, f);
}

function hasAttr(ctx: CallCtx, arg: bigint): SysResult {
  const a = copyStructFromUser(ctx, arg, kvm_device_attr);
  if (!a) return fail('EFAULT', 'kvm_device_ioctl_attr', 'copy_from_user(&attr, argp, sizeof(attr))');
  if (
    a.group === KVM_DEV_VFIO_GROUP &&
    (a.attr === KVM_DEV_VFIO_GROUP_ADD || a.attr === KVM_DEV_VFIO_GROUP_DEL)
  )
    return ok(0);
  return fail('ENXIO', 'kvm_vfio_has_attr', 'unknown group or attr');
}

export const VFIO_DEV_OPS: FileOps<KvmVfio> = {
  kind: 'kvm-vfio',
  ioctl(ctx, f, cmd, arg): SysOutcome {
    if (cmd === kvmNr('KVM_SET_DEVICE_ATTR')) return setAttr(ctx, f.priv, arg);
    if (cmd === kvmNr('KVM_HAS_DEVICE_ATTR')) return hasAttr(ctx, arg);
    // kvm-vfio has no get_attr: kvm_device_ioctl_attr refuses before reading the struct
    if (cmd === kvmNr('KVM_GET_DEVICE_ATTR')) return fail('EPERM', 'kvm_device_ioctl_attr', '!accessor');
    return fail('ENOTTY', 'kvm_device_ioctl', 'default: -ENOTTY');
  },
  release(k, f) {
    const dev = f.priv;
    if (k.profile.has('kvm-vfio-release')) kvmVfioDestroy(k, dev);
    kvmPut(k, dev.vm);
  },
};

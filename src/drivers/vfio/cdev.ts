// /dev/vfio/devices/vfioN, the vfio device cdev (drivers/vfio/device_cdev.c, vfio_main.c,
// iommufd.c; v6.6+, vfio.md §11): open takes a registration reference, BIND_IOMMUFD makes the
// file a device user through an iommufd context, ATTACH / DETACH_IOMMUFD_PT, and every other
// ioctl EINVAL until the bind. Group / cdev mutual exclusion (§11.5) is `cdevOpenCount`.
import { type CallCtx, type FileOps, OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { DriverModule, Opened } from '../../kernel/registry.js';
import { type Fail, fail, ok, type SysOutcome, type SysResult } from '../../kernel/result.js';
import { iommufdNr } from '../../uapi/iommufd.js';
import { writeScalar } from '../../uapi/struct.js';
import {
  attachDevice,
  bindDevice,
  detachDevice,
  type IommufdCtx,
  type IommufdDevice,
  iommufdOf,
  unbindDevice,
} from '../iommufd/iommufd.js';
import { pciBus } from '../pci/bus.js';
import { functionResetWorks } from '../pci/reset.js';
import type { IommuGroup } from '../pci/topology.js';
import { vfioPciIoctl } from './device.js';
import { type VfioDevice, type VfioGroup, vfio } from './state.js';
import { cdevOf } from './vfio-pci.js';

export interface CdevFile {
  readonly dev: VfioDevice;
  /** df->iommufd and the device object once BIND_IOMMUFD succeeded (df->access_granted) */
  bound: { readonly ictx: IommufdCtx; readonly idev: IommufdDevice; readonly file: OpenFile } | null;
  /** stands for the file on the device's file list (its registration reference) */
  registration: OpenFile | null;
  /** df->kvm: the VM kvm-vfio's FILE_ADD published to this file (6.6+); the bind hands it to the device */
  kvm: object | null;
}

/** device->cdev_opened: the cdev file through which each device is bound */
function boundFiles(k: Kernel): Map<VfioDevice, CdevFile> {
  let m = k.globals.get('vfio-cdev-bound') as Map<VfioDevice, CdevFile> | undefined;
  if (!m) {
    m = new Map();
    k.globals.set('vfio-cdev-bound', m);
  }
  return m;
}

/** vfio_device_cdev_opened(): the device was opened through its cdev (and is bound to iommufd) */
export function cdevBinding(k: Kernel, d: VfioDevice): CdevFile['bound'] {
  return boundFiles(k).get(d)?.bound ?? null;
}

/** group->cdev_device_open_cnt */
export function cdevOpenCount(k: Kernel, g: VfioGroup): number {
  let n = 0;
  for (const d of boundFiles(k).keys()) if (d.group === g) n++;
  return n;
}

/** The iommufd context bound to some device of this iommu group, if any (for diagnostics). */
export function groupIommufd(k: Kernel, g: IommuGroup): IommufdCtx | null {
  for (const [d, f] of boundFiles(k)) if (d.pci.group === g && f.bound) return f.bound.ictx;
  return null;
}

const CDEV_NODE = /^\/dev\/vfio\/devices\/vfio(\d+)$/;

function deviceOfNode(k: Kernel, path: string): VfioDevice | undefined {
  const m = CDEV_NODE.exec(path);
  if (!m) return undefined;
  const n = Number(m[1]);
  for (const d of pciBus(k).devs) {
    if (d.present && cdevOf(k, d) === n) return vfio(k).devices.get(d);
  }
  return undefined;
}

function readArg(ctx: CallCtx, arg: bigint, n: number): DataView | null {
  const b = ctx.proc.mm.copyFromUser(arg, n);
  return b ? new DataView(b.buffer) : null;
}

/** vfio_df_ioctl_bind_iommufd, in its check order (§11.2) */
function bind(ctx: CallCtx, f: OpenFile<CdevFile>, arg: bigint): SysResult {
  const k = ctx.k;
  const df = f.priv;
  const dev = df.dev;
  const fn = 'vfio_df_ioctl_bind_iommufd';
  const v = readArg(ctx, arg, 16);
  if (!v) return fail('EFAULT', fn, 'copy_from_user(&bind, arg, minsz)');
  if (v.getUint32(0, true) < 16 || v.getUint32(4, true) || v.getInt32(8, true) < 0)
    return fail('EINVAL', fn, 'bind.argsz < minsz || bind.flags || bind.iommufd < 0');
  if (dev.group.openedFile !== null) return fail('EBUSY', 'vfio_device_block_group', 'group->opened_file');
  if (df.bound) return fail('EINVAL', fn, 'df->access_granted (one device cannot be bound twice)');
  const file = k.fget(ctx.proc, v.getInt32(8, true));
  if (!file) return fail('EBADF', 'iommufd_ctx_from_fd', '!file');
  const ictx = iommufdOf(file);
  if (!ictx) return fail('EBADFD', 'iommufd_ctx_from_file', 'file->f_op != &iommufd_fops');
  if (dev.openCount !== 0) return fail('EINVAL', 'vfio_df_open', 'device->open_count != 0 && !df->group');
  const idev: IommufdDevice | Fail = bindDevice(k, ictx, dev.pci, ctx.proc.mm);
  if ('ok' in idev) return idev;
  const out = new Uint8Array(4);
  writeScalar(out, 0, 'u32', BigInt(idev.id));
  if (!ctx.proc.mm.copyToUser(arg + 12n, out)) {
    unbindDevice(k, ictx, idev);
    return fail('EFAULT', fn, 'copy_to_user(&arg->out_devid)');
  }
  dev.openCount++;
  dev.kvm = df.kvm; // vfio_device_get_kvm_safe(device, df->kvm) before vfio_df_open
  // vfio_pci_core_enable at the first open decides reset_works (§13.1)
  dev.resetWorks = functionResetWorks(k, dev.pci);
  file.refs++; // iommufd_ctx_get: the context lives while the device is bound
  df.bound = { ictx, idev, file };
  boundFiles(k).set(dev, df);
  return ok(0);
}

function attach(ctx: CallCtx, df: CdevFile, arg: bigint): SysResult {
  const fn = 'vfio_df_ioctl_attach_pt';
  const v = readArg(ctx, arg, 12);
  if (!v) return fail('EFAULT', fn, 'copy_from_user(&attach, arg, minsz)');
  if (v.getUint32(0, true) < 12 || v.getUint32(4, true))
    return fail('EINVAL', fn, 'attach.argsz < minsz || attach.flags');
  const b = df.bound!;
  const id = attachDevice(ctx.k, b.ictx, b.idev, v.getUint32(8, true), ctx.proc.mm);
  if (typeof id !== 'number') return id;
  const out = new Uint8Array(4);
  writeScalar(out, 0, 'u32', BigInt(id));
  if (!ctx.proc.mm.copyToUser(arg + 8n, out)) {
    detachDevice(ctx.k, b.ictx, b.idev);
    return fail('EFAULT', fn, 'copy_to_user(&arg->pt_id)');
  }
  return ok(0);
}

function detach(ctx: CallCtx, df: CdevFile, arg: bigint): SysResult {
  const fn = 'vfio_df_ioctl_detach_pt';
  const v = readArg(ctx, arg, 8);
  if (!v) return fail('EFAULT', fn, 'copy_from_user(&detach, arg, minsz)');
  if (v.getUint32(0, true) < 8 || v.getUint32(4, true))
    return fail('EINVAL', fn, 'detach.argsz < minsz || detach.flags');
  detachDevice(ctx.k, df.bound!.ictx, df.bound!.idev);
  return ok(0);
}

/** vfio_device_fops_unl_ioctl on a cdev file */
function cdevIoctl(ctx: CallCtx, f: OpenFile<CdevFile>, cmd: number, arg: bigint): SysOutcome {
  if (cmd === iommufdNr('VFIO_DEVICE_BIND_IOMMUFD')) return bind(ctx, f, arg);
  if (!f.priv.bound) return fail('EINVAL', 'vfio_device_fops_unl_ioctl', '!df->access_granted');
  if (cmd === iommufdNr('VFIO_DEVICE_ATTACH_IOMMUFD_PT')) return attach(ctx, f.priv, arg);
  if (cmd === iommufdNr('VFIO_DEVICE_DETACH_IOMMUFD_PT')) return detach(ctx, f.priv, arg);
  return vfioPciIoctl(ctx, f.priv.dev, cmd, arg);
}

export const CDEV_OPS: FileOps<CdevFile> = {
  kind: 'vfio-device',
  ioctl: cdevIoctl,
  release(k: Kernel, f: OpenFile<CdevFile>) {
    const df = f.priv;
    const dev = df.dev;
    if (df.registration) dev.files.delete(df.registration);
    df.registration = null;
    const b = df.bound;
    if (!b) return;
    // vfio_df_device_last_close → vfio_df_iommufd_unbind; then cdev_opened, the group count
    dev.openCount--;
    if (dev.openCount === 0) dev.kvm = null;
    unbindDevice(k, b.ictx, b.idev);
    df.bound = null;
    boundFiles(k).delete(dev);
    k.fput(b.file);
  },
};

export function cdevFileOf(f: OpenFile | undefined): CdevFile | undefined {
  return f && f.ops === CDEV_OPS ? (f.priv as CdevFile) : undefined;
}

export const vfioCdevDriver: DriverModule = {
  name: 'vfio-cdev',
  family: 'vfio-cdev',
  claims: (path) => CDEV_NODE.test(path),
  exists: (k, path) => k.profile.has('vfio-device-cdev') && deviceOfNode(k, path) !== undefined,
  open(ctx: CallCtx, path: string, flags: number, fileId: number): Opened | Fail {
    const dev = deviceOfNode(ctx.k, path);
    // vfio_device_try_get_registration: a device being unbound is gone already
    if (!dev?.registered)
      return fail('ENODEV', 'vfio_device_fops_cdev_open', '!vfio_device_try_get_registration(device)');
    // vfio_allocate_device_file: -ENOMEM, the registration reference put back
    if (ctx.k.allocFails(ctx.proc, 'vfio_allocate_device_file: kzalloc df'))
      return fail('ENOMEM', 'vfio_allocate_device_file', '!df (kzalloc)');
    const df: CdevFile = { dev, bound: null, registration: null, kvm: null };
    // the registration reference the file holds: a vfio-pci unbind waits for it (vfio.md §9.1)
    const reg = new OpenFile(fileId, path, flags, CDEV_OPS, df);
    df.registration = reg;
    dev.files.add(reg as OpenFile);
    return { ops: CDEV_OPS, priv: df } as Opened;
  },
};

// A vfio group given an iommufd instead of a container (drivers/vfio/group.c, iommufd.c and
// vfio_main.c at 6.12; vfio.md §5.7, §7.5 – §7.7): SET_CONTAINER only makes or reuses the
// compat IOAS; the device's first open through the group binds it to the iommufd (the DMA
// ownership claim, so EPERM shows here, not at SET_CONTAINER) and attaches it to the compat
// IOAS; its last close unbinds it.
import type { OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Mm } from '../../kernel/memory.js';
import { type Fail, ok, type SysResult } from '../../kernel/result.js';
import {
  attachDevice,
  bindDevice,
  type IommufdCtx,
  type IommufdDevice,
  newIoas,
  objectAlloc,
  unbindDevice,
} from '../iommufd/iommufd.js';
import { compatIoasCreate, compatIoasId } from '../iommufd/vfio-compat.js';
import type { VfioDevice, VfioGroup } from './state.js';

/**
 * vfio_group_ioctl_set_container's iommufd branch: iommufd_vfio_compat_ioas_create, whose
 * iommufd_ioas_alloc comes first (_iommufd_object_alloc, -ENOMEM: the context put back); an
 * existing compat IOAS then aborts the new one.
 */
export function groupSetIommufd(
  k: Kernel,
  g: VfioGroup,
  ictx: IommufdCtx,
  file: OpenFile,
  mm: Mm,
): SysResult {
  const e = objectAlloc(k, mm, ictx, 'ioas');
  if (e) return e;
  compatIoasCreate(ictx, () => newIoas(ictx));
  file.refs++; // group->iommufd keeps the context (iommufd_ctx_from_file took a reference)
  g.iommufd = { ictx, file };
  return ok(0);
}

/** iommufd_ctx_put(group->iommufd): UNSET_CONTAINER (no busy check), release, the last device. */
export function groupDropIommufd(k: Kernel, g: VfioGroup): void {
  const held = g.iommufd;
  if (!held) return;
  g.iommufd = null;
  k.fput(held.file);
}

interface Bound {
  readonly ictx: IommufdCtx;
  readonly idev: IommufdDevice;
  readonly file: OpenFile;
}

/** vdev->iommufd_device of devices opened through a group with an iommufd */
function bound(k: Kernel): Map<VfioDevice, Bound> {
  let m = k.globals.get('vfio-group-iommufd-bound') as Map<VfioDevice, Bound> | undefined;
  if (!m) {
    m = new Map();
    k.globals.set('vfio-group-iommufd-bound', m);
  }
  return m;
}

/**
 * vfio_df_group_open's first open with df->iommufd: vfio_df_iommufd_bind (iommufd_device_bind:
 * EPERM when the group has another DMA owner), then vfio_iommufd_compat_attach_ioas (ENODEV
 * without a compat IOAS, the first domain's EADDRINUSE / pinning errors); a failure unbinds.
 */
export function groupIommufdFirstOpen(k: Kernel, g: VfioGroup, dev: VfioDevice, mm: Mm): Fail | null {
  const held = g.iommufd!;
  const idev = bindDevice(k, held.ictx, dev.pci, mm);
  if ('ok' in idev) return idev;
  const id = compatIoasId(held.ictx);
  const r = typeof id === 'number' ? attachDevice(k, held.ictx, idev, id, mm) : id;
  if (typeof r !== 'number') {
    unbindDevice(k, held.ictx, idev);
    return r;
  }
  held.file.refs++; // iommufd_device_bind: iommufd_ctx_get(ictx)
  bound(k).set(dev, { ictx: held.ictx, idev, file: held.file });
  return null;
}

/** vfio_df_device_last_close → vfio_df_iommufd_unbind */
export function groupIommufdLastClose(k: Kernel, dev: VfioDevice): void {
  const b = bound(k).get(dev);
  if (!b) return;
  bound(k).delete(dev);
  unbindDevice(k, b.ictx, b.idev);
  k.fput(b.file);
}

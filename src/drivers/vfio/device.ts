// The vfio device fd (vfio_device_fops) and vfio-pci's ioctls on it (vfio_pci_core_ioctl;
// vfio.md §13): GET_INFO, region and IRQ info, SET_IRQS, RESET, and the hot reset (hot-reset.ts).
import type { CallCtx, FileOps, OpenFile } from '../../kernel/file.js';
import { type Kernel, O_CLOEXEC, O_RDWR } from '../../kernel/kernel.js';
import { fail, ok, type SysOutcome, type SysResult } from '../../kernel/result.js';
import { iommufdNr } from '../../uapi/iommufd.js';
import { writeScalar } from '../../uapi/struct.js';
import { MINSZ, VFIO_DEVICE_FLAGS_PCI, VFIO_DEVICE_FLAGS_RESET, vfioNr } from '../../uapi/vfio.js';
import { functionResetWorks, tryResetFunction } from '../pci/reset.js';
import { dropContainerUser } from './container.js';
import { groupIommufdLastClose } from './group-iommufd.js';
import { hotReset, hotResetInfo } from './hot-reset.js';
import { pciIoctlFn } from './pci-ioctl-fn.js';
import { maybeFreeGroup, type VfioDevice, type VfioGroup } from './state.js';

export interface DeviceFile {
  readonly dev: VfioDevice;
  /** the group file it was opened through (held from v5.19: get_file(group->opened_file)) */
  readonly groupFile: OpenFile<VfioGroup>;
  /** df->iommufd: the group had an iommufd, not a container, so container_users is untouched */
  readonly iommufd: boolean;
}

/** vfio_device_open: container_users++, the first open enables the device (reset_works). */
export function openDeviceFd(ctx: CallCtx, gf: OpenFile<VfioGroup>, dev: VfioDevice): SysResult {
  const k = ctx.k;
  const g = dev.group;
  const iommufd = g.iommufd !== null;
  if (!iommufd) g.containerUsers++;
  if (k.profile.has('vfio-dma-ownership')) gf.refs++;
  dev.openCount++;
  if (dev.openCount === 1) {
    dev.kvm = g.kvm;
    dev.resetWorks = functionResetWorks(k, dev.pci);
  }
  const f = k.newFile<DeviceFile>('anon_inode:[vfio-device]', O_RDWR | O_CLOEXEC, DEVICE_OPS, {
    dev,
    groupFile: gf,
    iommufd,
  });
  dev.files.add(f as OpenFile);
  return ok(k.installFd(ctx.proc, f as OpenFile));
}

/** Per-device region sizes (QEMU's edu and e1000e; e1000e's are UNVERIFIED). */
function bars(id: string): readonly bigint[] {
  if (id === '8086:10d3') return [0x20000n, 0x20000n, 0x20n, 0x4000n, 0n, 0n];
  return [0x100000n, 0n, 0n, 0n, 0n, 0n];
}
const isPcie = (id: string) => id === '8086:10d3';
const NUM_REGIONS = 9;
const NUM_IRQS = 5;

function getInfo(ctx: CallCtx, dev: VfioDevice, arg: bigint): SysResult {
  const fn = pciIoctlFn(ctx.k, 'vfio_pci_ioctl_get_info');
  const b = ctx.proc.mm.copyFromUser(arg, MINSZ.device_info);
  if (!b) return fail('EFAULT', fn, 'copy_from_user(&info, arg, minsz)');
  const argsz = new DataView(b.buffer).getUint32(0, true);
  if (argsz < MINSZ.device_info) return fail('EINVAL', fn, 'info.argsz < minsz');
  // 6.6 (the "pad" fix): min(argsz, sizeof(info)), 24 bytes with the pad; before it 20 bytes
  // (offsetofend cap_offset) once argsz has room for them, else minsz
  const len = ctx.k.profile.has('vfio-info-cap-align') ? Math.min(argsz, 24) : argsz >= 20 ? 20 : 16;
  const out = new Uint8Array(24).subarray(0, len);
  writeScalar(out, 0, 'u32', BigInt(argsz));
  writeScalar(out, 4, 'u32', BigInt(VFIO_DEVICE_FLAGS_PCI | (dev.resetWorks ? VFIO_DEVICE_FLAGS_RESET : 0)));
  writeScalar(out, 8, 'u32', BigInt(NUM_REGIONS));
  writeScalar(out, 12, 'u32', BigInt(NUM_IRQS));
  if (!ctx.proc.mm.copyToUser(arg, out)) return fail('EFAULT', fn, 'copy_to_user(arg, &info, minsz)');
  return ok(0);
}

function getRegionInfo(ctx: CallCtx, dev: VfioDevice, arg: bigint): SysResult {
  const fn = pciIoctlFn(ctx.k, 'vfio_pci_ioctl_get_region_info');
  const b = ctx.proc.mm.copyFromUser(arg, 32);
  if (!b) return fail('EFAULT', fn, 'copy_from_user(&info, arg, minsz)');
  const dv = new DataView(b.buffer);
  const argsz = dv.getUint32(0, true);
  const index = dv.getUint32(8, true);
  if (argsz < 32) return fail('EINVAL', fn, 'info.argsz < minsz');
  let size = 0n;
  let flags = 0;
  if (index <= 5) {
    size = bars(dev.pci.id)[index]!;
    // BAR2 of e1000e is I/O space: readable and writable, not mmap-able
    if (size) flags = size >= 0x1000n ? 7 : 3;
  } else if (index === 6) {
    size = 0n;
  } else if (index === 7) {
    size = isPcie(dev.pci.id) ? 0x1000n : 0x100n;
    flags = 3;
  } else if (index === 8) {
    return fail('EINVAL', fn, 'VGA region: !vdev->has_vga');
  } else {
    return fail('EINVAL', fn, 'info.index >= VFIO_PCI_NUM_REGIONS + vdev->num_regions');
  }
  const out = new Uint8Array(32);
  writeScalar(out, 0, 'u32', BigInt(argsz));
  writeScalar(out, 4, 'u32', BigInt(flags));
  writeScalar(out, 8, 'u32', BigInt(index));
  writeScalar(out, 16, 'u64', size);
  writeScalar(out, 24, 'u64', BigInt(index) << 40n);
  if (!ctx.proc.mm.copyToUser(arg, out)) return fail('EFAULT', fn, 'copy_to_user(arg, &info, minsz)');
  return ok(0);
}

function getIrqInfo(ctx: CallCtx, dev: VfioDevice, arg: bigint): SysResult {
  const fn = pciIoctlFn(ctx.k, 'vfio_pci_ioctl_get_irq_info');
  const b = ctx.proc.mm.copyFromUser(arg, 16);
  if (!b) return fail('EFAULT', fn, 'copy_from_user(&info, arg, minsz)');
  const dv = new DataView(b.buffer);
  const argsz = dv.getUint32(0, true);
  const index = dv.getUint32(8, true);
  if (argsz < 16 || index >= NUM_IRQS)
    return fail('EINVAL', fn, 'info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS');
  const pcie = isPcie(dev.pci.id);
  if (index === 3 && !pcie) return fail('EINVAL', fn, 'VFIO_PCI_ERR_IRQ_INDEX && !pci_is_pcie(pdev)');
  const counts = [1, 1, pcie ? 5 : 0, 1, 1];
  // EVENTFD, plus MASKABLE|AUTOMASKED for INTx, NORESIZE for the others
  const flags = index === 0 ? 7 : 9;
  const out = new Uint8Array(16);
  writeScalar(out, 0, 'u32', BigInt(argsz));
  writeScalar(out, 4, 'u32', BigInt(flags));
  writeScalar(out, 8, 'u32', BigInt(index));
  writeScalar(out, 12, 'u32', BigInt(counts[index]!));
  if (!ctx.proc.mm.copyToUser(arg, out)) return fail('EFAULT', fn, 'copy_to_user(arg, &info, minsz)');
  return ok(0);
}

/**
 * vfio_df_ioctl_bind_iommufd on a group-derived device file (6.6+, device_cdev.c): the struct is
 * copied and checked first, the df->group refusal comes after those checks.
 */
function bindOnGroupFile(ctx: CallCtx, arg: bigint): SysResult {
  const fn = 'vfio_df_ioctl_bind_iommufd';
  const b = ctx.proc.mm.copyFromUser(arg, 16);
  if (!b) return fail('EFAULT', fn, 'copy_from_user(&bind, arg, minsz)');
  const v = new DataView(b.buffer);
  if (v.getUint32(0, true) < 16 || v.getUint32(4, true) || v.getInt32(8, true) < 0)
    return fail('EINVAL', fn, 'bind.argsz < minsz || bind.flags || bind.iommufd < 0');
  return fail('EINVAL', fn, 'df->group (BIND_IOMMUFD only allowed for cdev fds)');
}

function deviceIoctl(ctx: CallCtx, f: OpenFile<DeviceFile>, cmd: number, arg: bigint): SysOutcome {
  // vfio_device_fops_unl_ioctl (6.6+) hands BIND_IOMMUFD to vfio_df_ioctl_bind_iommufd for every file
  if (ctx.k.profile.has('vfio-device-cdev') && cmd === iommufdNr('VFIO_DEVICE_BIND_IOMMUFD'))
    return bindOnGroupFile(ctx, arg);
  return vfioPciIoctl(ctx, f.priv.dev, cmd, arg);
}

/** vfio_pci_core_ioctl: the same for a group-derived device fd and a bound cdev file. */
export function vfioPciIoctl(ctx: CallCtx, dev: VfioDevice, cmd: number, arg: bigint): SysOutcome {
  if (cmd === vfioNr('VFIO_DEVICE_GET_INFO')) return getInfo(ctx, dev, arg);
  if (cmd === vfioNr('VFIO_DEVICE_GET_REGION_INFO')) return getRegionInfo(ctx, dev, arg);
  if (cmd === vfioNr('VFIO_DEVICE_GET_IRQ_INFO')) return getIrqInfo(ctx, dev, arg);
  if (cmd === vfioNr('VFIO_DEVICE_RESET')) {
    if (!dev.resetWorks)
      return fail('EINVAL', pciIoctlFn(ctx.k, 'vfio_pci_ioctl_reset'), '!vdev->reset_works');
    return tryResetFunction(dev.pci) ?? ok(0);
  }
  if (cmd === vfioNr('VFIO_DEVICE_GET_PCI_HOT_RESET_INFO')) return hotResetInfo(ctx, dev, arg);
  if (cmd === vfioNr('VFIO_DEVICE_PCI_HOT_RESET')) return hotReset(ctx, dev, arg);
  return fail('ENOTTY', pciIoctlFn(ctx.k, 'vfio_pci_core_ioctl'), 'default: -ENOTTY');
}

export const DEVICE_OPS: FileOps<DeviceFile> = {
  kind: 'vfio-device',
  ioctl: deviceIoctl,
  release(k: Kernel, f: OpenFile<DeviceFile>) {
    const { dev, groupFile, iommufd } = f.priv;
    dev.files.delete(f as OpenFile);
    dev.openCount--;
    if (dev.openCount === 0) {
      dev.kvm = null;
      groupIommufdLastClose(k, dev);
    }
    const g = dev.group;
    if (k.profile.has('vfio-dma-ownership')) {
      // vfio_device_unassign_container, then the group file reference goes.
      if (!iommufd) g.containerUsers--;
      k.fput(groupFile as OpenFile);
      maybeFreeGroup(k, g);
      return;
    }
    dropContainerUser(k, g);
  },
};

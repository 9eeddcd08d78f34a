// VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and VFIO_DEVICE_PCI_HOT_RESET (vfio_pci_core.c; vfio.md §14,
// §16): group users name group ids and pass group fds; cdev users (6.6+) get dev_ids and pass an
// empty list, their iommufd context being the proof of ownership. INFO's ENOSPC has three shapes
// (count only; 6.6–6.9 partial fill with flags; count only again from 6.10).
import type { CallCtx } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import { fail, ok, type SysResult } from '../../kernel/result.js';
import {
  VFIO_PCI_DEVID_NOT_OWNED,
  VFIO_PCI_DEVID_OWNED,
  VFIO_PCI_HOT_RESET_FLAG_DEV_ID,
  VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED,
} from '../../uapi/iommufd.js';
import { writeScalar } from '../../uapi/struct.js';
import { MINSZ } from '../../uapi/vfio.js';
import { ctxHasGroup, type IommufdCtx } from '../iommufd/iommufd.js';
import { affectedDevices, canResetBus, canResetSlot, resetBus } from '../pci/reset.js';
import type { PciDev } from '../pci/topology.js';
import { cdevBinding } from './cdev.js';
import { groupOf } from './group.js';
import { pciIoctlFn } from './pci-ioctl-fn.js';
import { deviceHolders } from './refs.js';
import { type VfioDevice, type VfioGroup, vfio } from './state.js';

/** pci_probe_reset_slot, then pci_probe_reset_bus: slot mode, bus mode, or neither (ENODEV) */
export function resetMode(d: PciDev): 'slot' | 'bus' | null {
  if (canResetSlot(d)) return 'slot';
  return canResetBus(d) ? 'bus' : null;
}

function header(ctx: CallCtx, arg: bigint): { argsz: number; flags: number; count: number } | null {
  const b = ctx.proc.mm.copyFromUser(arg, 12);
  if (!b) return null;
  const dv = new DataView(b.buffer);
  return { argsz: dv.getUint32(0, true), flags: dv.getUint32(4, true), count: dv.getUint32(8, true) };
}

/**
 * The vfio-pci devices of the dev_set (v5.15, vfio_assign_device_set): keyed by the device itself on
 * a root bus, else by its slot when slot reset works, else by its bus.
 */
export function devSet(k: Kernel, d: PciDev): VfioDevice[] {
  const key = (x: PciDev) =>
    x.bus === 0 ? x.bdf : canResetSlot(x) ? `slot:${x.bus}:${x.devfn >> 3}` : `bus:${x.bus}`;
  return [...vfio(k).devices.values()].filter((v) => key(v.pci) === key(d));
}

/** vfio_iommufd_get_dev_id: the devid under ictx, -ENOENT when owned through the group, else -ENODEV */
function devIdUnder(k: Kernel, v: VfioDevice, ictx: IommufdCtx): number {
  const b = cdevBinding(k, v);
  if (b && b.ictx === ictx) return b.idev.id;
  return ctxHasGroup(ictx, v.pci.group) ? -2 : -19;
}

/** vfio_pci_fill_devs' entry id for one affected device (cdev mode: §14.4) */
function entryId(k: Kernel, set: VfioDevice[], x: PciDev, ictx: IommufdCtx | null): number {
  if (!ictx) return x.group.id;
  const v = set.find((s) => s.pci === x);
  if (!v) return VFIO_PCI_DEVID_NOT_OWNED;
  const id = devIdUnder(k, v, ictx);
  return id > 0 ? id : id === -2 ? VFIO_PCI_DEVID_OWNED : VFIO_PCI_DEVID_NOT_OWNED;
}

function describe(d: PciDev): string {
  return `${d.bdf} (${d.driver ?? 'no driver'})`;
}

/** The devices a reset would hit that the caller does not own (diagnostics, item 5 of issue 5). */
function unowned(ctx: CallCtx, dev: VfioDevice, affected: PciDev[]): PciDev[] {
  const k = ctx.k;
  const set = devSet(k, dev.pci);
  const b = cdevBinding(k, dev);
  return affected.filter((x) => {
    if (b) return entryId(k, set, x, b.ictx) === VFIO_PCI_DEVID_NOT_OWNED;
    if (!set.some((v) => v.pci === x)) return true;
    return ![...ctx.proc.fds.map.values()].some((f) => groupOf(f)?.iommu === x.group);
  });
}

function writeHeader(ctx: CallCtx, arg: bigint, argsz: number, flags: number, count: number): boolean {
  const out = new Uint8Array(12);
  writeScalar(out, 0, 'u32', BigInt(argsz));
  writeScalar(out, 4, 'u32', BigInt(flags));
  writeScalar(out, 8, 'u32', BigInt(count));
  return ctx.proc.mm.copyToUser(arg, out);
}

function entryBytes(d: PciDev, id: number): Uint8Array {
  const b = new Uint8Array(8);
  writeScalar(b, 0, 'u32', BigInt(id >>> 0));
  writeScalar(b, 4, 'u16', 0n);
  writeScalar(b, 6, 'u8', BigInt(d.bus));
  writeScalar(b, 7, 'u8', BigInt(d.devfn));
  return b;
}

interface InfoCall {
  readonly ctx: CallCtx;
  readonly dev: VfioDevice;
  readonly arg: bigint;
  readonly argsz: number;
  readonly affected: PciDev[];
  /** the caller's iommufd context when the device is cdev-opened (6.6+): cdev mode */
  readonly ictx: IommufdCtx | null;
  /** (hdr.argsz - sizeof(hdr)) / sizeof(arg->devices[0]): the entries the buffer holds */
  readonly max: number;
  /** the function the checks are in (vfio_pci_ioctl_get_pci_hot_reset_info from 6.1) */
  readonly info: string;
}

/** vfio_pci_fill_devs for one device: its entry, and whether it clears DEV_ID_OWNED */
function fillOne(c: InfoCall, x: PciDev): { bytes: Uint8Array; notOwned: boolean } {
  const id = entryId(c.ctx.k, devSet(c.ctx.k, c.dev.pci), x, c.ictx);
  return { bytes: entryBytes(x, id), notOwned: c.ictx !== null && id === VFIO_PCI_DEVID_NOT_OWNED };
}

function startFlags(c: InfoCall): number {
  return c.ictx ? VFIO_PCI_HOT_RESET_FLAG_DEV_ID | VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED : 0;
}

/**
 * v3.12 – v6.5 @ 6.1: count, then ENOSPC with the header alone (flags 0); else fill a kernel
 * array, and at reset_info_exit copy the header first, the entries second.
 */
function infoCountFirst(c: InfoCall): SysResult {
  const count = c.affected.length;
  const header = () => writeHeader(c.ctx, c.arg, c.argsz, 0, count);
  if (count > c.max) {
    if (!header()) return fail('EFAULT', c.info, 'copy_to_user(arg, &hdr, minsz)');
    return fail('ENOSPC', c.info, 'hdr.argsz < sizeof(hdr) + (fill.max * sizeof(*devices))');
  }
  if (!header()) return fail('EFAULT', c.info, 'copy_to_user(arg, &hdr, minsz)');
  const body = new Uint8Array(8 * count);
  for (const [i, x] of c.affected.entries()) body.set(fillOne(c, x).bytes, 8 * i);
  if (!c.ctx.proc.mm.copyToUser(c.arg + 12n, body))
    return fail('EFAULT', c.info, 'copy_to_user(&arg->devices, devices, hdr.count * sizeof(*devices))');
  return ok(0);
}

/**
 * b56b7aabcf3c (v6.6 – v6.9, read @ 6.6): no counting pass. vfio_pci_fill_devs counts every
 * device but examines and copies only those before fill->devices_end, straight into the user
 * buffer; the header (count, flags of the examined entries) follows, then ENOSPC if some did not
 * fit. A failed entry copy ends the walk before the header is written.
 */
function infoPartialFill(c: InfoCall): SysResult {
  let flags = startFlags(c);
  for (const [i, x] of c.affected.entries()) {
    if (i >= c.max) continue; // fill->count++ only
    const e = fillOne(c, x);
    if (e.notOwned) flags &= ~VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
    if (!c.ctx.proc.mm.copyToUser(c.arg + 12n + BigInt(8 * i), e.bytes))
      return fail('EFAULT', 'vfio_pci_fill_devs', 'copy_to_user(fill->devices, &info, sizeof(info))');
  }
  const count = c.affected.length;
  if (!writeHeader(c.ctx, c.arg, c.argsz, flags, count))
    return fail('EFAULT', c.info, 'copy_to_user(arg, &hdr, minsz)');
  if (count > c.max) return fail('ENOSPC', c.info, 'fill.count > fill.devices - arg->devices');
  return ok(0);
}

/**
 * f6944d4a0b87 + cbb325e77fbe + 5a88a3f67e37 (v6.10, read @ 6.12): count first again; ENOSPC
 * jumps to the header with flags 0; else fill a kernel array, copy the entries, then the header.
 */
function infoKernelBuffer(c: InfoCall): SysResult {
  const count = c.affected.length;
  if (count === 0) return fail('ERANGE', c.info, 'WARN_ON(!count)');
  if (count > c.max) {
    if (!writeHeader(c.ctx, c.arg, c.argsz, 0, count))
      return fail('EFAULT', c.info, 'copy_to_user(arg, &hdr, minsz)');
    return fail('ENOSPC', c.info, 'count > (hdr.argsz - sizeof(hdr)) / sizeof(*devices)');
  }
  let flags = startFlags(c);
  const body = new Uint8Array(8 * count);
  for (const [i, x] of c.affected.entries()) {
    const e = fillOne(c, x);
    if (e.notOwned) flags &= ~VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
    body.set(e.bytes, 8 * i);
  }
  if (!c.ctx.proc.mm.copyToUser(c.arg + 12n, body))
    return fail('EFAULT', c.info, 'copy_to_user(arg->devices, devices, sizeof(*devices) * fill.count)');
  if (!writeHeader(c.ctx, c.arg, c.argsz, flags, count))
    return fail('EFAULT', c.info, 'copy_to_user(arg, &hdr, minsz)');
  return ok(0);
}

/** vfio_pci_ioctl_get_pci_hot_reset_info: the common front end, then the era's buffer handling */
export function hotResetInfo(ctx: CallCtx, dev: VfioDevice, arg: bigint): SysResult {
  const k = ctx.k;
  const info = pciIoctlFn(k, 'vfio_pci_ioctl_get_pci_hot_reset_info');
  const h = header(ctx, arg);
  if (!h) return fail('EFAULT', info, 'copy_from_user(&hdr, arg, minsz)');
  if (h.argsz < MINSZ.hot_reset_info) return fail('EINVAL', info, 'hdr.argsz < minsz');
  const m = resetMode(dev.pci);
  if (!m) return fail('ENODEV', info, 'pci_probe_reset_slot() && pci_probe_reset_bus()');
  const affected = affectedDevices(k, dev.pci, m === 'slot');
  const ictx = k.profile.has('hot-reset-dev-id') ? (cdevBinding(k, dev)?.ictx ?? null) : null;
  const max = Math.floor((h.argsz - 12) / 8);
  const c: InfoCall = { ctx, dev, arg, argsz: h.argsz, affected, ictx, max, info };
  diagnoseUnowned(ctx, dev, affected, ictx);
  if (k.profile.has('hot-reset-info-partial-fill')) return infoPartialFill(c);
  if (k.profile.has('hot-reset-info-kernel-buffer')) return infoKernelBuffer(c);
  return infoCountFirst(c);
}

function diagnoseUnowned(ctx: CallCtx, dev: VfioDevice, affected: PciDev[], ictx: IommufdCtx | null): void {
  const foreign = unowned(ctx, dev, affected);
  if (!foreign.length) return;
  ctx.k.diagnose(
    'hot-reset-affects-unowned',
    `a hot reset of ${dev.pci.bdf} would also reset ${foreign.map(describe).join(', ')}, which the caller does not own` +
      (ictx
        ? ' (NOT_OWNED in the INFO entries)'
        : ' (no group fd of it open in this process, or outside the dev_set)') +
      ': QEMU refuses such a reset unless the device has a PM reset, and the kernel refuses it with EINVAL',
  );
}

/** The group fds of the array: EBADF for a closed fd, EINVAL for a file that is not a group. */
function groupFiles(ctx: CallCtx, arg: bigint, n: number): VfioGroup[] | SysResult {
  // vfio_pci_ioctl_pci_hot_reset_groups from 6.6; inline in vfio_pci_ioctl_pci_hot_reset before
  const fn = ctx.k.profile.has('hot-reset-dev-id')
    ? 'vfio_pci_ioctl_pci_hot_reset_groups'
    : pciIoctlFn(ctx.k, 'vfio_pci_ioctl_pci_hot_reset');
  const fds = ctx.proc.mm.copyFromUser(arg + 12n, 4 * n);
  if (!fds) return fail('EFAULT', fn, 'copy_from_user(group_fds, arg->group_fds)');
  const groups: VfioGroup[] = [];
  for (let i = 0; i < n; i++) {
    const fd = new DataView(fds.buffer).getInt32(4 * i, true);
    const f = fd >= 0 ? ctx.k.fget(ctx.proc, fd) : undefined;
    if (!f) return fail('EBADF', fn, '!fget(group_fds[i])');
    const g = groupOf(f);
    if (!g) return fail('EINVAL', fn, '!vfio_file_is_group(file)');
    groups.push(g);
  }
  return groups;
}

/** vfio_pci_dev_set_hot_reset: resettable, then every member owned (group files or iommufd). */
function devSetHotReset(
  ctx: CallCtx,
  dev: VfioDevice,
  affected: PciDev[],
  groups: VfioGroup[] | null,
  ictx: IommufdCtx | null,
): SysResult {
  const k = ctx.k;
  const fn = 'vfio_pci_dev_set_hot_reset';
  const members = devSet(k, dev.pci);
  const outside = affected.filter((a) => !members.some((v) => v.pci === a));
  if (outside.length) {
    k.diagnose(
      'hot-reset-outside-dev-set',
      `the hot reset of ${dev.pci.bdf} is refused: it would also reset ${outside.map(describe).join(', ')}, ` +
        'not a vfio-pci device of its dev_set (vfio_pci_dev_set_resettable). ' +
        (groups
          ? "QEMU's own check passes when the group of that device is open (INFO names only its group), so the " +
            "kernel, not QEMU's policy, refuses this reset"
          : 'INFO reports it as NOT_OWNED (devid 0xffffffff)'),
    );
    return fail(
      'EINVAL',
      fn,
      '!vfio_pci_dev_set_resettable(dev_set): an affected device is not in the dev_set',
    );
  }
  for (const v of members) {
    const owned = ictx
      ? devIdUnder(k, v, ictx) > 0 || devIdUnder(k, v, ictx) === -2
      : (groups ?? []).some((g) => g === v.group);
    if (!owned) {
      const users = deviceHolders(k, v);
      k.diagnose(
        'hot-reset-unowned-member',
        `the hot reset of ${dev.pci.bdf} is refused: ${v.pci.bdf} of its dev_set is ` +
          (ictx
            ? "neither bound to the caller's iommufd nor in a group it owns"
            : 'in none of the groups passed') +
          (users.length ? `; it is in use: ${users.join('; ')}` : ' (not opened by anyone)'),
      );
      return fail(
        'EINVAL',
        fn,
        ictx
          ? '!(devid > 0 || devid == -ENOENT) for a dev_set device'
          : '!vfio_dev_in_groups(cur_vma, groups)',
      );
    }
  }
  return done(ctx, dev, affected);
}

/** The reset itself, and the policy note when it hits other devices the same process has opened. */
function done(ctx: CallCtx, dev: VfioDevice, affected: PciDev[]): SysResult {
  const k = ctx.k;
  const e = resetBus(k, dev.pci);
  if (e?.errno === 'EAGAIN') {
    const held = affected.filter((a) => a.unbinding).map((a) => a.bdf);
    k.diagnose(
      'hot-reset-device-locked',
      `the hot reset of ${dev.pci.bdf} found ${held.join(', ')} locked: a driver unbind of it is in progress ` +
        "(vfio-pci waits there until the device's fds are released), and the reset only trylocks; it fails with " +
        'EAGAIN until the unbind completes',
    );
  }
  if (e) return e;
  const mine = affected.filter((a) => {
    if (a === dev.pci) return false;
    const v = vfio(k).devices.get(a);
    return v !== undefined && v.openCount > 0;
  });
  if (mine.length)
    k.diagnose(
      'hot-reset-resets-assigned-device',
      `the hot reset of ${dev.pci.bdf} also reset ${mine.map((d) => d.bdf).join(', ')}, opened as vfio device(s): ` +
        'the kernel allows it because the caller owns them; QEMU refuses a single-device reset here (-EINVAL) ' +
        'and only does it as a multi-device (system) reset',
    );
  return ok(0);
}

/** vfio_pci_ioctl_pci_hot_reset: group fds, or (6.6+) an empty list for a cdev-opened device */
export function hotReset(ctx: CallCtx, dev: VfioDevice, arg: bigint): SysResult {
  const k = ctx.k;
  const fn = pciIoctlFn(k, 'vfio_pci_ioctl_pci_hot_reset');
  const h = header(ctx, arg);
  if (!h) return fail('EFAULT', fn, 'copy_from_user(&hdr, arg, minsz)');
  if (h.argsz < MINSZ.hot_reset || h.flags) return fail('EINVAL', fn, 'hdr.argsz < minsz || hdr.flags');
  const binding = cdevBinding(k, dev);
  if (k.profile.has('hot-reset-dev-id') && (h.count !== 0) === (binding !== null))
    return fail(
      'EINVAL',
      fn,
      binding
        ? '!!hdr.count == vfio_device_cdev_opened(): a cdev-opened device takes an empty list'
        : '!!hdr.count == vfio_device_cdev_opened(): a group-opened device needs group fds',
    );
  const m = resetMode(dev.pci);
  if (!m) return fail('ENODEV', fn, 'pci_probe_reset_slot() && pci_probe_reset_bus()');
  const affected = affectedDevices(k, dev.pci, m === 'slot');
  if (binding) return devSetHotReset(ctx, dev, affected, null, binding.ictx);
  if (k.profile.has('hot-reset-dev-id')) {
    // vfio_pci_ioctl_pci_hot_reset_groups(vdev, hdr.count, ...): an int parameter until 6.12
    const n = k.profile.has('hot-reset-groups-u32-count') ? h.count : h.count | 0;
    const at = 'vfio_pci_ioctl_pci_hot_reset_groups';
    if (n > affected.length) return fail('EINVAL', at, 'array_count > count');
    if (n < 0) return fail('ENOMEM', at, 'kcalloc(array_count, ...) == NULL: int array_count < 0');
  } else if (!h.count || h.count > affected.length)
    return fail('EINVAL', fn, '!hdr.count || hdr.count > count');
  const groups = groupFiles(ctx, arg, h.count);
  if (!Array.isArray(groups)) return groups;
  if (k.profile.has('vfio-pci-dev-set')) return devSetHotReset(ctx, dev, affected, groups, null);
  // before the dev_set (vfio_pci.c): each affected device's group given, and each a vfio-pci device
  if (!affected.every((a) => groups.some((g) => g.iommu === a.group)))
    return fail('EINVAL', 'vfio_pci_validate_devs', 'an affected device is in none of the groups');
  if (!affected.every((a) => vfio(k).devices.has(a)))
    return fail('EINVAL', 'vfio_pci_get_unused_devs', 'an affected device is not a vfio device');
  return done(ctx, dev, affected);
}

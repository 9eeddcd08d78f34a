// VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and VFIO_DEVICE_PCI_HOT_RESET for group users
// (vfio_pci_core.c; vfio.md §14). Issue 5 extends this with dev_ids and the cdev forms.
import type { CallCtx } from '../../kernel/file.js';
import { fail, ok, type SysResult } from '../../kernel/result.js';
import { writeScalar } from '../../uapi/struct.js';
import { MINSZ } from '../../uapi/vfio.js';
import { affectedDevices, canResetBus, canResetSlot, resetBus } from '../pci/reset.js';
import type { PciDev } from '../pci/topology.js';
import { groupOf } from './group.js';
import { type VfioDevice, type VfioGroup, vfio } from './state.js';

function mode(d: PciDev): 'slot' | 'bus' | null {
  if (canResetSlot(d)) return 'slot';
  return canResetBus(d) ? 'bus' : null;
}

function header(ctx: CallCtx, arg: bigint): { argsz: number; flags: number; count: number } | null {
  const b = ctx.proc.mm.copyFromUser(arg, 12);
  if (!b) return null;
  const dv = new DataView(b.buffer);
  return { argsz: dv.getUint32(0, true), flags: dv.getUint32(4, true), count: dv.getUint32(8, true) };
}

/** vfio_pci_ioctl_get_pci_hot_reset_info (group form): ENOSPC writes back the count needed. */
export function hotResetInfo(ctx: CallCtx, dev: VfioDevice, arg: bigint): SysResult {
  const fn = 'vfio_pci_ioctl_get_pci_hot_reset_info';
  const h = header(ctx, arg);
  if (!h) return fail('EFAULT', fn, 'copy_from_user(&hdr, arg, minsz)');
  if (h.argsz < MINSZ.hot_reset_info) return fail('EINVAL', fn, 'hdr.argsz < minsz');
  const m = mode(dev.pci);
  let count = 0;
  let r: SysResult = ok(0);
  let entries: PciDev[] = [];
  if (!m) r = fail('ENODEV', fn, 'pci_probe_reset_slot() && pci_probe_reset_bus()');
  else {
    entries = affectedDevices(ctx.k, dev.pci, m === 'slot');
    count = entries.length;
    if (h.argsz < 12 + 8 * count)
      r = fail('ENOSPC', fn, 'hdr.argsz < sizeof(hdr) + (fill.max * sizeof(*devices))');
    else {
      const body = new Uint8Array(8 * count);
      entries.forEach((d, i) => {
        writeScalar(body, 8 * i, 'u32', BigInt(d.group.id));
        writeScalar(body, 8 * i + 4, 'u16', 0n);
        writeScalar(body, 8 * i + 6, 'u8', BigInt(d.bus));
        writeScalar(body, 8 * i + 7, 'u8', BigInt(d.devfn));
      });
      if (!ctx.proc.mm.copyToUser(arg + 12n, body)) r = fail('EFAULT', fn, 'copy_to_user(arg->devices)');
    }
  }
  // reset_info_exit: the header (flags 0, the count) is copied back whatever happened
  const out = new Uint8Array(12);
  writeScalar(out, 0, 'u32', BigInt(h.argsz));
  writeScalar(out, 8, 'u32', BigInt(count));
  if (!ctx.proc.mm.copyToUser(arg, out)) return fail('EFAULT', fn, 'copy_to_user(arg, &hdr, minsz)');
  return r;
}

/** The vfio-pci devices of the dev_set (v5.15): those sharing the device's reset key. */
function devSet(ctx: CallCtx, d: PciDev): VfioDevice[] {
  const s = vfio(ctx.k);
  const key = (x: PciDev) => (x.bus === 0 ? x.bdf : canResetSlot(x) ? `slot:${x.bdf}` : `bus:${x.bus}`);
  return [...s.devices.values()].filter((v) => key(v.pci) === key(d));
}

/** vfio_pci_ioctl_pci_hot_reset (group fds) */
export function hotReset(ctx: CallCtx, dev: VfioDevice, arg: bigint): SysResult {
  const k = ctx.k;
  const fn = 'vfio_pci_ioctl_pci_hot_reset';
  const h = header(ctx, arg);
  if (!h) return fail('EFAULT', fn, 'copy_from_user(&hdr, arg, minsz)');
  if (h.argsz < MINSZ.hot_reset || h.flags) return fail('EINVAL', fn, 'hdr.argsz < minsz || hdr.flags');
  const m = mode(dev.pci);
  if (!m) return fail('ENODEV', fn, 'pci_probe_reset_slot() && pci_probe_reset_bus()');
  const affected = affectedDevices(k, dev.pci, m === 'slot');
  if (!h.count || h.count > affected.length) return fail('EINVAL', fn, '!hdr.count || hdr.count > count');
  const fds = ctx.proc.mm.copyFromUser(arg + 12n, 4 * h.count);
  if (!fds) return fail('EFAULT', fn, 'copy_from_user(group_fds, arg->group_fds)');
  const groups: VfioGroup[] = [];
  for (let i = 0; i < h.count; i++) {
    const fd = new DataView(fds.buffer).getInt32(4 * i, true);
    const f = fd >= 0 ? k.fget(ctx.proc, fd) : undefined;
    if (!f) return fail('EBADF', fn, '!fget(group_fds[i])');
    const g = groupOf(f);
    if (!g) return fail('EINVAL', fn, '!vfio_file_is_group(file)');
    groups.push(g);
  }
  const set = 'vfio_pci_dev_set_hot_reset';
  if (k.profile.has('vfio-pci-dev-set')) {
    const members = devSet(ctx, dev.pci);
    // vfio_pci_dev_set_resettable: every affected device must be a vfio-pci device of the set.
    if (!affected.every((a) => members.some((v) => v.pci === a)))
      return fail(
        'EINVAL',
        set,
        '!vfio_pci_dev_set_resettable(dev_set): an affected device is not in the dev_set',
      );
    if (!members.every((v) => groups.includes(v.group)))
      return fail('EINVAL', set, '!vfio_dev_in_groups(cur_vma, groups)');
  } else if (!affected.every((a) => groups.some((g) => g.iommu === a.group))) {
    return fail('EINVAL', 'vfio_pci_validate_devs', 'an affected device is in none of the groups');
  }
  const e = resetBus(k, dev.pci);
  return e ?? ok(0);
}

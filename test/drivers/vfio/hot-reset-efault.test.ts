// The copy-back faults of VFIO_DEVICE_GET_PCI_HOT_RESET_INFO in each era, on a buffer the kernel
// can read but not write (a read-only alias of a memfd), and PCI_HOT_RESET's group_fds copy
// (vfio_pci_core.c vfio_pci_ioctl_get_pci_hot_reset_info, vfio_pci_fill_devs,
// vfio_pci_ioctl_pci_hot_reset_groups @ 6.1, 6.6 and 6.12).
import { describe, expect, test } from 'vitest';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/memory.js';
import type { SysfsOutcome } from '../../../src/kernel/registry.js';
import { attached, bindTo, errnoOf, getDeviceFd, io, type VF, vfioKernel } from './helpers.js';

const INFO = 'vfio_pci_ioctl_get_pci_hot_reset_info';

function site(r: SysfsOutcome): [string | number | null, string | null, string | null] {
  return [errnoOf(r), r.ok === false ? r.site.function : null, r.ok === false ? r.site.check : null];
}

/** A memfd page mapped read-write and again read-only: returns both addresses. */
function aliases(f: VF): { rw: bigint; ro: bigint } {
  const a = f.k.mmap(f.p, { size: 0x1000n, prot: PROT_READ | PROT_WRITE, kind: 'memfd' });
  if (a.ok !== true) throw new Error('mmap');
  const rw = BigInt(a.ret);
  const obj = f.p.mm.vmas.find((v) => v.start === rw)!.obj;
  const b = f.k.mmap(f.p, { size: 0x1000n, prot: PROT_READ, kind: 'memfd', object: obj });
  if (b.ok !== true) throw new Error('mmap');
  return { rw, ro: BigInt(b.ret) };
}

/** 01:00.0 through group 6, its sibling on vfio-pci: two affected devices */
function groupUser(version: string): VF & { d: number; g: number } {
  const f = vfioKernel(version);
  expect(bindTo(f, '0000:01:00.1', 'vfio-pci').ok).toBe(true);
  const { g } = attached(f, '0000:01:00.0', 6);
  return { ...f, g, d: Number((getDeviceFd(f, g, '0000:01:00.0') as { ret: number }).ret) };
}

/** INFO on the read-only alias with argsz for `room` entries; the header as the kernel left it */
function roInfo(f: VF & { d: number }, room: number) {
  const { rw, ro } = aliases(f);
  const hdr = new Uint8Array(12 + 16);
  new DataView(hdr.buffer).setUint32(0, 12 + 8 * room, true);
  expect(f.p.mm.copyToUser(rw, hdr)).toBe(true);
  return site(io(f, f.d, 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', ro));
}

describe('GET_PCI_HOT_RESET_INFO into memory the kernel cannot write', () => {
  test('vfio_pci_ioctl_get_pci_hot_reset_info @ 6.1: the header is copied first, ENOSPC or not: EFAULT there', () => {
    const f = groupUser('6.1');
    expect(roInfo(f, 0)).toEqual(['EFAULT', INFO, 'copy_to_user(arg, &hdr, minsz)']);
    expect(roInfo(f, 2)).toEqual(['EFAULT', INFO, 'copy_to_user(arg, &hdr, minsz)']);
  });

  test('vfio_pci_fill_devs @ 6.6: an entry is copied before the header: EFAULT in the fill; ENOSPC with no room: the header', () => {
    const f = groupUser('6.6');
    expect(roInfo(f, 2)).toEqual([
      'EFAULT',
      'vfio_pci_fill_devs',
      'copy_to_user(fill->devices, &info, sizeof(info))',
    ]);
    expect(roInfo(f, 0)).toEqual(['EFAULT', INFO, 'copy_to_user(arg, &hdr, minsz)']);
  });

  test('vfio_pci_ioctl_get_pci_hot_reset_info @ 6.12: the entries go before the header; the ENOSPC header EFAULT', () => {
    const f = groupUser('6.12');
    expect(roInfo(f, 2)).toEqual([
      'EFAULT',
      INFO,
      'copy_to_user(arg->devices, devices, sizeof(*devices) * fill.count)',
    ]);
    expect(roInfo(f, 1)).toEqual(['EFAULT', INFO, 'copy_to_user(arg, &hdr, minsz)']);
  });
});

describe('VFIO_DEVICE_PCI_HOT_RESET: the group fd array', () => {
  for (const [v, fn] of [
    ['5.15', 'vfio_pci_core_ioctl'],
    ['6.1', 'vfio_pci_ioctl_pci_hot_reset'],
    ['6.12', 'vfio_pci_ioctl_pci_hot_reset_groups'],
  ] as const) {
    test(`${fn} @ ${v}: the fds beyond readable memory EFAULT`, () => {
      const f = groupUser(v);
      const a = f.k.mmap(f.p, {
        size: 0x1000n,
        prot: PROT_READ | PROT_WRITE,
        kind: 'anon',
        at: 0x500000000000n,
      });
      if (a.ok !== true) throw new Error('mmap');
      // the 12-byte header ends the page; the next page is not mapped
      const end = BigInt(a.ret) + 0x1000n;
      expect(f.p.mm.vmas.some((m) => m.start <= end && end < m.end)).toBe(false);
      const hdr = new Uint8Array(12);
      new DataView(hdr.buffer).setUint32(0, 16, true);
      new DataView(hdr.buffer).setUint32(8, 1, true);
      expect(f.p.mm.copyToUser(end - 12n, hdr)).toBe(true);
      const r = io(f, f.d, 'VFIO_DEVICE_PCI_HOT_RESET', end - 12n);
      expect(site(r)).toEqual(['EFAULT', fn, 'copy_from_user(group_fds, arg->group_fds)']);
    });
  }
});

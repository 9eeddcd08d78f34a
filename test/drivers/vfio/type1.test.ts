// type1 MAP_DMA / UNMAP_DMA / GET_INFO refusals the oracle replay does not reach
// (drivers/vfio/vfio_iommu_type1.c @ 6.1 and 6.12; vfio.md §6), and VFIO_DEVICE_GET_INFO's
// copy-back length per profile (vfio_pci_ioctl_get_info).
import { describe, expect, test } from 'vitest';
import { registerDrivers } from '../../../src/drivers/index.js';
import { Kernel } from '../../../src/kernel/kernel.js';
import { DEFAULT_MACHINE } from '../../../src/kernel/machine.js';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/memory.js';
import { type KernelProfile, makeProfile } from '../../../src/kernel/profile.js';
import { encodeStruct } from '../../../src/uapi/struct.js';
import { vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_unmap } from '../../../src/uapi/vfio.js';
import { attached, errnoOf, getDeviceFd, io, type VF, vfioKernel } from './helpers.js';

const RW = 3n;
const VADDR = 4n;
const ALL = 2n;
const DIRTY = 1n;

function guest(f: VF, size = 0x200000n): bigint {
  const r = f.k.mmap(f.p, { size, prot: PROT_READ | PROT_WRITE, kind: 'anon' });
  if (r.ok !== true) throw new Error('mmap');
  return BigInt(r.ret);
}
const map = (f: VF, c: number, m: { flags: bigint; vaddr: bigint; iova: bigint; size: bigint }) =>
  errnoOf(
    io(
      f,
      c,
      'VFIO_IOMMU_MAP_DMA',
      f.k.stage(f.p, encodeStruct(vfio_iommu_type1_dma_map, { argsz: 32n, ...m })),
    ),
  );
const unmap = (f: VF, c: number, u: { iova: bigint; size: bigint; flags?: bigint; argsz?: bigint }) =>
  errnoOf(
    io(
      f,
      c,
      'VFIO_IOMMU_UNMAP_DMA',
      f.k.stage(f.p, encodeStruct(vfio_iommu_type1_dma_unmap, { argsz: 24n, flags: 0n, ...u })),
    ),
  );

function setup(version: string, machine?: VF): VF & { c: number; g: number } {
  const f = machine ?? vfioKernel(version);
  return { ...f, ...attached(f, '0000:03:00.0', 8) };
}

describe('type1 @ 6.12', () => {
  test('vfio_dma_do_map: set_vaddr with nothing there ENOENT; a valid vaddr EINVAL', () => {
    const f = setup('6.12');
    const va = guest(f);
    expect(map(f, f.c, { flags: VADDR, vaddr: va, iova: 0n, size: 0x1000n })).toBe('ENOENT');
    expect(map(f, f.c, { flags: RW, vaddr: va, iova: 0n, size: 0x2000n })).toBe(0);
    expect(map(f, f.c, { flags: VADDR, vaddr: va, iova: 0n, size: 0x2000n })).toBe('EINVAL');
    // VADDR together with READ: (prot && set_vaddr)
    expect(map(f, f.c, { flags: VADDR | 1n, vaddr: va, iova: 0n, size: 0x2000n })).toBe('EINVAL');
  });

  test('vfio_dma_do_map: set_vaddr for a different size than the invalidated mapping EINVAL', () => {
    const f = setup('6.12');
    const va = guest(f);
    expect(map(f, f.c, { flags: RW, vaddr: va, iova: 0n, size: 0x2000n })).toBe(0);
    expect(unmap(f, f.c, { iova: 0n, size: 0x2000n, flags: VADDR })).toBe(0);
    expect(map(f, f.c, { flags: VADDR, vaddr: va, iova: 0n, size: 0x1000n })).toBe('EINVAL');
    expect(map(f, f.c, { flags: VADDR, vaddr: va, iova: 0n, size: 0x2000n })).toBe(0);
  });

  test('vfio_dma_do_map: !iommu->dma_avail ENOSPC past dma_entry_limit', () => {
    // the module parameter lowered (as modprobe vfio_iommu_type1 dma_entry_limit=64 would): 65535 maps
    // take half a minute on a loaded machine
    const prof = makeProfile('6.12', []) as KernelProfile;
    const k = new Kernel(prof, {
      ...DEFAULT_MACHINE,
      limits: { ...DEFAULT_MACHINE.limits, dma_entry_limit: 64 },
    });
    registerDrivers(k);
    const f = setup('6.12', { k, p: k.spawn('main') });
    const va = guest(f);
    const limit = f.k.machine.limits.dma_entry_limit;
    let n = 0;
    while (n < limit && map(f, f.c, { flags: RW, vaddr: va, iova: BigInt(n) * 0x1000n, size: 0x1000n }) === 0)
      n++;
    expect(n).toBe(limit);
    expect(map(f, f.c, { flags: RW, vaddr: va, iova: 0x100000000n, size: 0x1000n })).toBe('ENOSPC');
  });

  test('vfio_pin_pages_remote: past RLIMIT_MEMLOCK without CAP_IPC_LOCK ENOMEM', () => {
    const root = vfioKernel('6.12');
    const f = setup('6.12', root);
    const u: VF = { k: f.k, p: f.k.spawn('user', new Set<string>()) };
    // the unprivileged process uses the container fd it was handed
    const c = f.k.installFd(u.p, f.p.fds.get(f.c)!);
    const va = guest(u, 0x1000000n);
    expect(map(u, c, { flags: RW, vaddr: va, iova: 0n, size: 0x800000n })).toBe(0);
    expect(map(u, c, { flags: RW, vaddr: va + 0x800000n, iova: 0x800000n, size: 0x1000n })).toBe('ENOMEM');
  });

  test('vfio_dma_do_unmap: iova off the page size, FLAG_ALL with iova or size, EINVAL', () => {
    const f = setup('6.12');
    expect(unmap(f, f.c, { iova: 0x800n, size: 0x1000n })).toBe('EINVAL');
    expect(unmap(f, f.c, { iova: 0x1000n, size: 0n, flags: ALL })).toBe('EINVAL');
    expect(unmap(f, f.c, { iova: 0n, size: 0x1000n, flags: ALL })).toBe('EINVAL');
    expect(unmap(f, f.c, { iova: 0n, size: 0n, flags: ALL })).toBe(0);
  });

  test('vfio_iommu_type1_unmap_dma: argsz below 24, GET_DIRTY_BITMAP with ALL or VADDR, EINVAL', () => {
    const f = setup('6.12');
    expect(unmap(f, f.c, { iova: 0n, size: 0x1000n, argsz: 23n })).toBe('EINVAL');
    expect(unmap(f, f.c, { iova: 0n, size: 0n, flags: DIRTY | ALL })).toBe('EINVAL');
    expect(unmap(f, f.c, { iova: 0n, size: 0x1000n, flags: DIRTY | VADDR })).toBe('EINVAL');
    expect(unmap(f, f.c, { iova: 0n, size: 0x1000n, flags: 8n })).toBe('EINVAL');
  });

  test('vfio_dma_do_unmap: invalidating an already invalid vaddr EINVAL and undoes the marks of this call', () => {
    const f = setup('6.12');
    const va = guest(f);
    expect(map(f, f.c, { flags: RW, vaddr: va, iova: 0n, size: 0x1000n })).toBe(0);
    expect(map(f, f.c, { flags: RW, vaddr: va, iova: 0x1000n, size: 0x1000n })).toBe(0);
    expect(unmap(f, f.c, { iova: 0x1000n, size: 0x1000n, flags: VADDR })).toBe(0);
    // [0, 0x2000): the first is marked, the second already invalid: EINVAL, the first unmarked
    expect(unmap(f, f.c, { iova: 0n, size: 0x2000n, flags: VADDR })).toBe('EINVAL');
    expect(map(f, f.c, { flags: VADDR, vaddr: va, iova: 0n, size: 0x1000n })).toBe('EINVAL');
    expect(map(f, f.c, { flags: VADDR, vaddr: va, iova: 0x1000n, size: 0x1000n })).toBe(0);
  });

  test('vfio_iommu_type1_attach_group: a second group while a vaddr is invalid EBUSY', () => {
    const f = setup('6.12');
    const va = guest(f);
    expect(map(f, f.c, { flags: RW, vaddr: va, iova: 0n, size: 0x1000n })).toBe(0);
    expect(unmap(f, f.c, { iova: 0n, size: 0n, flags: VADDR | ALL })).toBe(0);
    const g4 = attachSecond(f);
    expect(g4).toBe('EBUSY');
  });

  test('vfio_iommu_type1_get_info: argsz below 16 EINVAL', () => {
    const f = setup('6.12');
    const b = new Uint8Array(16);
    new DataView(b.buffer).setUint32(0, 15, true);
    expect(errnoOf(io(f, f.c, 'VFIO_IOMMU_GET_INFO', f.k.stage(f.p, b)))).toBe('EINVAL');
  });

  test('vfio_dma_do_unmap @ v1 (VFIO_TYPE1_IOMMU): starting inside a mapping unmaps nothing, covering its start all of it', () => {
    const f = vfioKernel('6.12');
    const { c } = attachedV1(f);
    const va = guest(f);
    expect(map(f, c, { flags: RW, vaddr: va, iova: 0x10000n, size: 0x4000n })).toBe(0);
    const a = f.k.stage(
      f.p,
      encodeStruct(vfio_iommu_type1_dma_unmap, { argsz: 24n, flags: 0n, iova: 0x11000n, size: 0x1000n }),
    );
    expect(errnoOf(io(f, c, 'VFIO_IOMMU_UNMAP_DMA', a))).toBe(0);
    expect(new DataView(f.p.mm.copyFromUser(a + 16n, 8)!.buffer).getBigUint64(0, true)).toBe(0n);
    const b = f.k.stage(
      f.p,
      encodeStruct(vfio_iommu_type1_dma_unmap, { argsz: 24n, flags: 0n, iova: 0x10000n, size: 0x1000n }),
    );
    expect(errnoOf(io(f, c, 'VFIO_IOMMU_UNMAP_DMA', b))).toBe(0);
    expect(new DataView(f.p.mm.copyFromUser(b + 16n, 8)!.buffer).getBigUint64(0, true)).toBe(0x4000n);
  });
});

function attachSecond(f: VF & { c: number }): unknown {
  const r = f.k.sysfsWrite(f.p, '/sys/bus/pci/devices/0000:00:06.0/driver_override', 'vfio-pci');
  expect(r.ok).toBe(true);
  expect(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers_probe', '0000:00:06.0').ok).toBe(true);
  const g = errnoOf(f.k.open(f.p, '/dev/vfio/4', 2)) as number;
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, f.c, true);
  return errnoOf(io(f, g, 'VFIO_GROUP_SET_CONTAINER', f.k.stage(f.p, b, 0x400n)));
}

function attachedV1(f: VF): { c: number; g: number } {
  expect(f.k.sysfsWrite(f.p, '/sys/bus/pci/devices/0000:03:00.0/driver_override', 'vfio-pci').ok).toBe(true);
  expect(f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers_probe', '0000:03:00.0').ok).toBe(true);
  const c = errnoOf(f.k.open(f.p, '/dev/vfio/vfio', 2)) as number;
  const g = errnoOf(f.k.open(f.p, '/dev/vfio/8', 2)) as number;
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, c, true);
  expect(errnoOf(io(f, g, 'VFIO_GROUP_SET_CONTAINER', f.k.stage(f.p, b, 0x400n)))).toBe(0);
  expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', 1n))).toBe(0);
  return { c, g };
}

describe('VFIO_DEVICE_GET_INFO copy-back (vfio_pci_ioctl_get_info)', () => {
  /** the 24 bytes after the call with `argsz`, starting from 0xee */
  function deviceInfo(version: string, argsz: number): number[] {
    const f = setup(version);
    const dev = errnoOf(getDeviceFd(f, f.g, '0000:03:00.0')) as number;
    const b = new Uint8Array(24).fill(0xee);
    new DataView(b.buffer).setUint32(0, argsz, true);
    const a = f.k.stage(f.p, b, 0x600n);
    expect(errnoOf(io(f, dev, 'VFIO_DEVICE_GET_INFO', a))).toBe(0);
    return [...f.p.mm.copyFromUser(a, 24)!];
  }
  const tail = (b: number[]) => b.slice(16);

  test('vfio_pci_ioctl_get_info @ 6.1: 20 bytes once argsz >= 20 (capsz), else minsz 16; argsz echoed', () => {
    expect(tail(deviceInfo('6.1', 24))).toEqual([0, 0, 0, 0, 0xee, 0xee, 0xee, 0xee]);
    expect(tail(deviceInfo('6.1', 19))).toEqual(Array(8).fill(0xee));
    expect(deviceInfo('6.1', 24).slice(0, 4)).toEqual([24, 0, 0, 0]);
  });

  test('vfio_pci_ioctl_get_info @ 6.12: min(argsz, sizeof(info) = 24) bytes, pad included', () => {
    expect(tail(deviceInfo('6.12', 24))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(tail(deviceInfo('6.12', 22))).toEqual([0, 0, 0, 0, 0, 0, 0xee, 0xee]);
    expect(tail(deviceInfo('6.12', 20))).toEqual([0, 0, 0, 0, 0xee, 0xee, 0xee, 0xee]);
    expect(tail(deviceInfo('6.12', 17))).toEqual([0, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);
    expect(deviceInfo('6.12', 4096).slice(0, 4)).toEqual([0, 16, 0, 0]);
  });
});

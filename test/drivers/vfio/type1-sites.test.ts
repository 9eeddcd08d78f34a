// type1's MAP_DMA refusals with the function each is decided in (drivers/vfio/vfio_iommu_type1.c
// and mm/util.c @ 6.12 and Debian 6.1): the vfio_dma_do_map checks the oracle replay asserts by
// errno only, the locked-memory limit at pin time, and the one at an UPDATE_VADDR that moves a
// mapping to another mm (vfio_change_dma_owner → mm_lock_acct).
import { describe, expect, test } from 'vitest';
import { registerDrivers } from '../../../src/drivers/index.js';
import { lockedPages } from '../../../src/drivers/vfio/type1.js';
import { Kernel } from '../../../src/kernel/kernel.js';
import { DEFAULT_MACHINE } from '../../../src/kernel/machine.js';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/memory.js';
import { type KernelProfile, makeProfile } from '../../../src/kernel/profile.js';
import { encodeStruct } from '../../../src/uapi/struct.js';
import { vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_unmap } from '../../../src/uapi/vfio.js';
import { attached, io, site, type VF, vfioKernel } from './helpers.js';

const RW = 3n;
const VADDR = 4n;
const MIB = 0x100000n;

function guest(f: VF, size: bigint): bigint {
  const r = f.k.mmap(f.p, { size, prot: PROT_READ | PROT_WRITE, kind: 'anon' });
  if (r.ok !== true) throw new Error('mmap');
  return BigInt(r.ret);
}

const map = (f: VF, c: number, m: { flags: bigint; vaddr: bigint; iova: bigint; size: bigint }) =>
  site(
    io(
      f,
      c,
      'VFIO_IOMMU_MAP_DMA',
      f.k.stage(f.p, encodeStruct(vfio_iommu_type1_dma_map, { argsz: 32n, ...m })),
    ),
  );
const unmap = (f: VF, c: number, u: { iova: bigint; size: bigint; flags?: bigint }) =>
  site(
    io(
      f,
      c,
      'VFIO_IOMMU_UNMAP_DMA',
      f.k.stage(f.p, encodeStruct(vfio_iommu_type1_dma_unmap, { argsz: 24n, flags: 0n, ...u })),
    ),
  );

/** an unprivileged process (no CAP_IPC_LOCK) handed root's container fd */
function user(root: VF, c: number, name = 'user'): VF & { c: number } {
  const p = root.k.spawn(name, new Set<string>());
  return { k: root.k, p, c: root.k.installFd(p, root.p.fds.get(c)!) };
}

describe('vfio_dma_do_map @ 6.12', () => {
  test('set_vaddr with nothing there ENOENT, a valid vaddr EINVAL; an overlap EEXIST; past the IOVA ranges EINVAL', () => {
    const f = vfioKernel('6.12');
    const { c } = attached(f, '0000:03:00.0', 8);
    const va = guest(f, 2n * MIB);
    const fn = 'vfio_dma_do_map';
    expect(map(f, c, { flags: VADDR, vaddr: va, iova: 0n, size: 0x1000n })).toEqual(['ENOENT', fn]);
    expect(map(f, c, { flags: RW, vaddr: va, iova: 0n, size: 0x2000n })).toEqual([0, null]);
    expect(map(f, c, { flags: VADDR, vaddr: va, iova: 0n, size: 0x2000n })).toEqual(['EINVAL', fn]);
    expect(map(f, c, { flags: RW, vaddr: va, iova: 0x1000n, size: 0x2000n })).toEqual(['EEXIST', fn]);
    // the MSI window and past the 39-bit aperture (vfio_iommu_iova_dma_valid)
    expect(map(f, c, { flags: RW, vaddr: va, iova: 0xfee00000n, size: 0x1000n })).toEqual(['EINVAL', fn]);
    expect(map(f, c, { flags: RW, vaddr: va, iova: 0x8000000000n, size: 0x1000n })).toEqual(['EINVAL', fn]);
  });

  test('!iommu->dma_avail ENOSPC: dma_entry_limit=1, checked before the IOVA ranges', () => {
    const prof = makeProfile('6.12', []) as KernelProfile;
    const k = new Kernel(prof, {
      ...DEFAULT_MACHINE,
      limits: { ...DEFAULT_MACHINE.limits, dma_entry_limit: 1 },
    });
    registerDrivers(k);
    const f: VF = { k, p: k.spawn('main') };
    const { c } = attached(f, '0000:03:00.0', 8);
    const va = guest(f, 2n * MIB);
    expect(map(f, c, { flags: RW, vaddr: va, iova: 0n, size: 0x1000n })).toEqual([0, null]);
    expect(map(f, c, { flags: RW, vaddr: va, iova: 0xfee00000n, size: 0x1000n })).toEqual([
      'ENOSPC',
      'vfio_dma_do_map',
    ]);
  });

  test('vfio_pin_pages_remote: past RLIMIT_MEMLOCK without CAP_IPC_LOCK ENOMEM, the limit itself fits', () => {
    const f = vfioKernel('6.12');
    const { c } = attached(f, '0000:03:00.0', 8);
    const u = user(f, c);
    const va = guest(u, 16n * MIB);
    expect(map(u, u.c, { flags: RW, vaddr: va, iova: 0n, size: 8n * MIB })).toEqual([0, null]);
    expect(map(u, u.c, { flags: RW, vaddr: va, iova: 8n * MIB, size: 0x1000n })).toEqual([
      'ENOMEM',
      'vfio_pin_pages_remote',
    ]);
    // root: dma->lock_cap, no limit
    expect(map(f, c, { flags: RW, vaddr: guest(f, 16n * MIB), iova: 16n * MIB, size: 16n * MIB })).toEqual([
      0,
      null,
    ]);
  });
});

describe('vfio_change_dma_owner: UPDATE_VADDR from another mm (ef3a3f6a294b, 6.3; Debian 6.1)', () => {
  for (const v of ['6.1', '6.12']) {
    test(`mm_lock_acct @ ${v}: the new mm over RLIMIT_MEMLOCK ENOMEM, the mapping stays invalid; with room it moves`, () => {
      const f = vfioKernel(v);
      const { c } = attached(f, '0000:03:00.0', 8);
      const va = guest(f, 2n * MIB);
      expect(map(f, c, { flags: RW, vaddr: va, iova: 0n, size: 0x2000n })).toEqual([0, null]);
      expect(unmap(f, c, { iova: 0n, size: 0x2000n, flags: VADDR })).toEqual([0, null]);
      // the unprivileged process fills its own mm's limit, then takes the invalidated mapping
      const u = user(f, c);
      const uva = guest(u, 8n * MIB);
      expect(map(u, u.c, { flags: RW, vaddr: uva, iova: 0x1000000n, size: 8n * MIB })).toEqual([0, null]);
      expect(map(u, u.c, { flags: VADDR, vaddr: uva, iova: 0n, size: 0x2000n })).toEqual([
        'ENOMEM',
        'mm_lock_acct',
      ]);
      expect(lockedPages(f.k, u.p.mm)).toBe(0x800n);
      // the mapping is still invalid: with its own 8 MiB unmapped the process can take it
      expect(unmap(u, u.c, { iova: 0x1000000n, size: 8n * MIB })).toEqual([0, null]);
      expect(map(u, u.c, { flags: VADDR, vaddr: uva, iova: 0n, size: 0x2000n })).toEqual([0, null]);
      // npage = dma->locked_vm: the two pages now count against the new mm
      expect(lockedPages(f.k, u.p.mm)).toBe(2n);
      expect(unmap(u, u.c, { iova: 0n, size: 0x2000n })).toEqual([0, null]);
      expect(lockedPages(f.k, u.p.mm)).toBe(0n);
    });
  }
});

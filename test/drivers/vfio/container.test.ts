// The container before and after SET_IOMMU (container.c vfio_container_ioctl_check_extension /
// vfio_ioctl_set_iommu, vfio_iommu_type1.c vfio_iommu_type1_check_extension / _open @ 6.12; vfio.c
// before 6.1): what CHECK_EXTENSION answers in each state on each profile, and which errno
// SET_IOMMU gives for a type no driver claims (ENODEV) or one type1 claims but cannot open (EINVAL).
import { describe, expect, test } from 'vitest';
import { bindTo, errnoOf, io, open, setContainer, site, type VF, vfioKernel } from './helpers.js';

const TYPE1 = 1n;
const SPAPR = 2n;
const TYPE1V2 = 3n;
const DMA_CC = 4n;
const NESTING = 6n;
const NOIOMMU = 8n;
const UNMAP_ALL = 9n;
const UPDATE_VADDR = 10n;
const EXTS = [TYPE1, SPAPR, TYPE1V2, DMA_CC, NESTING, NOIOMMU, UNMAP_ALL, UPDATE_VADDR, 99n];

const exts = (f: VF, c: number) => EXTS.map((x) => errnoOf(io(f, c, 'VFIO_CHECK_EXTENSION', x)));

function containerWithGroup(version: string): VF & { c: number; g: number } {
  const f = vfioKernel(version);
  expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
  const c = open(f, '/dev/vfio/vfio');
  const g = open(f, '/dev/vfio/8');
  return { ...f, c, g };
}

describe('VFIO_CHECK_EXTENSION per state and profile', () => {
  // [TYPE1, SPAPR, TYPE1v2, DMA_CC, NESTING, NOIOMMU, UNMAP_ALL, UPDATE_VADDR, 99]
  const none = [1, 0, 1, 0, 1, 0, 0, 0, 0];
  const vaddr = [1, 0, 1, 0, 1, 0, 1, 1, 0];
  const restricted = [1, 0, 1, 0, 1, 0, 1, 0, 0];
  for (const [version, empty, attached, set] of [
    ['3.19', none, none, none],
    ['5.10', none, none, none],
    ['5.15', vaddr, vaddr, vaddr],
    ['6.1', restricted, restricted, vaddr],
    ['6.12', restricted, restricted, vaddr],
  ] as const) {
    test(`vfio_iommu_type1_check_extension @ ${version}: empty, with a group, after SET_IOMMU`, () => {
      const f = containerWithGroup(version);
      expect(errnoOf(io(f, f.c, 'VFIO_GET_API_VERSION'))).toBe(0);
      expect(exts(f, f.c)).toEqual(empty);
      expect(errnoOf(setContainer(f, f.g, f.c))).toBe(0);
      expect(exts(f, f.c)).toEqual(attached);
      expect(errnoOf(io(f, f.c, 'VFIO_SET_IOMMU', TYPE1V2))).toBe(0);
      // UPDATE_VADDR from 6.3 (Debian 6.1 has it): only with an iommu instance (no mdev groups)
      expect(exts(f, f.c)).toEqual(set);
    });
  }
});

describe('VFIO_SET_IOMMU: EINVAL vs ENODEV', () => {
  for (const version of ['3.19', '6.1', '6.12']) {
    test(`vfio_ioctl_set_iommu @ ${version}: no group EINVAL; an unclaimed type ENODEV; a second SET_IOMMU EINVAL`, () => {
      const f = containerWithGroup(version);
      const fn = 'vfio_ioctl_set_iommu';
      expect(site(io(f, f.c, 'VFIO_SET_IOMMU', TYPE1V2))).toEqual(['EINVAL', fn]);
      expect(errnoOf(setContainer(f, f.g, f.c))).toBe(0);
      for (const t of [SPAPR, NOIOMMU, DMA_CC, 99n]) {
        expect(site(io(f, f.c, 'VFIO_SET_IOMMU', t))).toEqual(['ENODEV', fn]);
      }
      expect(errnoOf(io(f, f.c, 'VFIO_SET_IOMMU', TYPE1))).toBe(0);
      expect(site(io(f, f.c, 'VFIO_SET_IOMMU', TYPE1V2))).toEqual(['EINVAL', fn]);
    });
  }

  test('vfio_iommu_type1_open @ 6.12: UNMAP_ALL is claimed by CHECK_EXTENSION but is no type: EINVAL', () => {
    const f = containerWithGroup('6.12');
    expect(errnoOf(setContainer(f, f.g, f.c))).toBe(0);
    expect(site(io(f, f.c, 'VFIO_SET_IOMMU', UNMAP_ALL))).toEqual(['EINVAL', 'vfio_iommu_type1_open']);
    // UPDATE_VADDR is not claimed without an instance (6.3's restriction): ENODEV
    expect(site(io(f, f.c, 'VFIO_SET_IOMMU', UPDATE_VADDR))).toEqual(['ENODEV', 'vfio_ioctl_set_iommu']);
    expect(errnoOf(io(f, f.c, 'VFIO_SET_IOMMU', TYPE1V2))).toBe(0);
  });

  test('vfio_iommu_type1_open @ 5.15: UPDATE_VADDR and UNMAP_ALL both claimed then refused, EINVAL; 5.10 claims neither, ENODEV', () => {
    const f = containerWithGroup('5.15');
    expect(errnoOf(setContainer(f, f.g, f.c))).toBe(0);
    for (const t of [UNMAP_ALL, UPDATE_VADDR])
      expect(site(io(f, f.c, 'VFIO_SET_IOMMU', t))).toEqual(['EINVAL', 'vfio_iommu_type1_open']);
    const old = containerWithGroup('5.10');
    expect(errnoOf(setContainer(old, old.g, old.c))).toBe(0);
    for (const t of [UNMAP_ALL, UPDATE_VADDR])
      expect(site(io(old, old.c, 'VFIO_SET_IOMMU', t))).toEqual(['ENODEV', 'vfio_ioctl_set_iommu']);
  });
});

describe('VFIO_IOMMU_DIRTY_PAGES: the checks before any bitmap', () => {
  test('vfio_iommu_type1_dirty_pages @ 6.12: v1 EACCES before reading; EFAULT; argsz, unknown or several flags EINVAL; START and STOP 0', () => {
    const f = containerWithGroup('6.12');
    expect(errnoOf(setContainer(f, f.g, f.c))).toBe(0);
    expect(errnoOf(io(f, f.c, 'VFIO_SET_IOMMU', TYPE1))).toBe(0);
    const fn = 'vfio_iommu_type1_dirty_pages';
    expect(site(io(f, f.c, 'VFIO_IOMMU_DIRTY_PAGES', 0n))).toEqual(['EACCES', fn]);
    const v2 = containerWithGroup('6.12');
    expect(errnoOf(setContainer(v2, v2.g, v2.c))).toBe(0);
    expect(errnoOf(io(v2, v2.c, 'VFIO_SET_IOMMU', TYPE1V2))).toBe(0);
    const dirty = (argsz: number, flags: number) => {
      const b = new Uint8Array(48);
      new DataView(b.buffer).setUint32(0, argsz, true);
      new DataView(b.buffer).setUint32(4, flags, true);
      return site(io(v2, v2.c, 'VFIO_IOMMU_DIRTY_PAGES', v2.k.stage(v2.p, b)));
    };
    expect(site(io(v2, v2.c, 'VFIO_IOMMU_DIRTY_PAGES', 0n))).toEqual(['EFAULT', fn]);
    expect(dirty(4, 1)).toEqual(['EINVAL', fn]);
    expect(dirty(8, 8)).toEqual(['EINVAL', fn]);
    expect(dirty(8, 3)).toEqual(['EINVAL', fn]);
    expect(dirty(8, 0)).toEqual(['EINVAL', fn]);
    expect(dirty(8, 1)).toEqual([0, null]);
    expect(dirty(8, 1)).toEqual([0, null]);
    expect(dirty(8, 2)).toEqual([0, null]);
    // GET_BITMAP without room for the range struct
    expect(dirty(8, 4)).toEqual(['EINVAL', fn]);
  });

  test('vfio_iommu_type1_ioctl @ 5.10: DIRTY_PAGES exists (5.8); 3.19 has no such ioctl: ENOTTY', () => {
    const f = containerWithGroup('5.10');
    expect(errnoOf(setContainer(f, f.g, f.c))).toBe(0);
    expect(errnoOf(io(f, f.c, 'VFIO_SET_IOMMU', TYPE1V2))).toBe(0);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, 8, true);
    new DataView(b.buffer).setUint32(4, 1, true);
    expect(errnoOf(io(f, f.c, 'VFIO_IOMMU_DIRTY_PAGES', f.k.stage(f.p, b)))).toBe(0);
    const old = containerWithGroup('3.19');
    expect(errnoOf(setContainer(old, old.g, old.c))).toBe(0);
    expect(errnoOf(io(old, old.c, 'VFIO_SET_IOMMU', TYPE1V2))).toBe(0);
    expect(site(io(old, old.c, 'VFIO_IOMMU_DIRTY_PAGES', old.k.stage(old.p, b)))).toEqual([
      'ENOTTY',
      'vfio_iommu_type1_ioctl',
    ]);
  });
});

describe('VFIO_TYPE1_NESTING_IOMMU on the emulated VT-d', () => {
  for (const v of ['6.1', '6.12']) {
    test(`iommu_enable_nesting @ ${v}: VT-d has no enable_nesting: SET_IOMMU(NESTING) EINVAL, the container stays unset`, () => {
      const f = containerWithGroup(v);
      expect(errnoOf(setContainer(f, f.g, f.c))).toBe(0);
      expect(site(io(f, f.c, 'VFIO_SET_IOMMU', NESTING))).toEqual(['EINVAL', 'iommu_enable_nesting']);
      expect(site(io(f, f.c, 'VFIO_IOMMU_GET_INFO'))).toEqual(['EINVAL', 'vfio_fops_unl_ioctl']);
      expect(errnoOf(io(f, f.c, 'VFIO_SET_IOMMU', TYPE1V2))).toBe(0);
    });
  }
});

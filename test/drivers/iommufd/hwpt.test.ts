// The HWPT-family iommufd commands (drivers/iommu/iommufd/hw_pagetable.c, device.c
// iommufd_get_hw_info, fault.c, io_pagetable.c's dirty helpers; intel iommu.c / nested.c) at the
// modelled releases, on the default machine (QEMU 7.2's VT-d: no scalable mode, so no nesting and
// no dirty tracking) and on machines whose ecap turns those on.
import { describe, expect, test } from 'vitest';
import { registerDrivers } from '../../../src/drivers/index.js';
import type { IommufdCtx } from '../../../src/drivers/iommufd/iommufd.js';
import { Kernel, O_RDWR } from '../../../src/kernel/kernel.js';
import { DEFAULT_MACHINE, QEMU_VTD } from '../../../src/kernel/machine.js';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/memory.js';
import { type KernelProfile, makeProfile } from '../../../src/kernel/profile.js';
import { iommu_hwpt_vtd_s1 } from '../../../src/uapi/iommufd-hwpt.js';
import { encodeStruct } from '../../../src/uapi/struct.js';
import { bindTo, errnoOf, fdOf, iofd, site, type VF, words } from '../vfio/helpers.js';

const SMTS = 1n << 43n;
const NEST = 1n << 26n;
const SLADS = 1n << 45n;
const SMPWC = 1n << 48n;
const SLTS = 1n << 46n;
const FLTS = 1n << 47n;

function kernel(version: string, ecap = QEMU_VTD.ecap): VF {
  const prof = makeProfile(version, []);
  if (typeof prof === 'string') throw new Error(prof);
  const k = new Kernel(prof as KernelProfile, { ...DEFAULT_MACHINE, iommu: { cap: QEMU_VTD.cap, ecap } });
  registerDrivers(k);
  return { k, p: k.spawn('main') };
}

const u32 = (f: VF, a: bigint, off: number) =>
  new DataView(f.p.mm.copyFromUser(a + BigInt(off), 4)!.buffer).getUint32(0, true);
const u64 = (f: VF, a: bigint, off: number) =>
  new DataView(f.p.mm.copyFromUser(a + BigInt(off), 8)!.buffer).getBigUint64(0, true);

/** /dev/iommu, an IOAS, 03:00.0's cdev bound to it */
interface Ctx extends VF {
  fd: number;
  ioas: number;
  dev: number;
  devid: number;
}

function setup(f: VF, bdf = '0000:03:00.0', cdev = 0): Ctx {
  expect(bindTo(f, bdf, 'vfio-pci').ok).toBe(true);
  const fd = fdOf(f.k.open(f.p, '/dev/iommu', O_RDWR));
  const a = words(f, [
    [12n, 4],
    [0n, 4],
    [0n, 4],
  ]);
  expect(errnoOf(iofd(f, fd, 'IOMMU_IOAS_ALLOC', a))).toBe(0);
  const ioas = u32(f, a, 8);
  const dev = fdOf(f.k.open(f.p, `/dev/vfio/devices/vfio${cdev}`, O_RDWR));
  const bind = words(f, [
    [16n, 4],
    [0n, 4],
    [BigInt(fd), 4],
    [0n, 4],
  ]);
  expect(errnoOf(iofd(f, dev, 'VFIO_DEVICE_BIND_IOMMUFD', bind))).toBe(0);
  return { ...f, fd, ioas, dev, devid: u32(f, bind, 12) };
}

interface AllocArgs {
  size?: bigint;
  flags?: bigint;
  dev?: number;
  pt: number;
  reserved?: bigint;
  type?: bigint;
  len?: bigint;
  uptr?: bigint;
  faultId?: bigint;
}
/** IOMMU_HWPT_ALLOC (48 bytes unless `size`); the outcome and out_hwpt_id */
function hwptAlloc(c: Ctx, x: AllocArgs) {
  const size = x.size ?? 48n;
  const ws: [bigint, 4 | 8][] = [
    [size, 4],
    [x.flags ?? 0n, 4],
    [BigInt(x.dev ?? c.devid), 4],
    [BigInt(x.pt), 4],
    [0n, 4],
    [x.reserved ?? 0n, 4],
    [x.type ?? 0n, 4],
    [x.len ?? 0n, 4],
    [x.uptr ?? 0n, 8],
    [x.faultId ?? 0n, 4],
    [0n, 4],
  ];
  const a = words(c, ws);
  const r = iofd(c, c.fd, 'IOMMU_HWPT_ALLOC', a);
  return { r: site(r), id: u32(c, a, 16) };
}

function destroy(c: Ctx, id: number) {
  return site(
    iofd(
      c,
      c.fd,
      'IOMMU_DESTROY',
      words(c, [
        [8n, 4],
        [BigInt(id), 4],
      ]),
    ),
  );
}

function attach(c: Ctx, pt: number) {
  const a = words(c, [
    [12n, 4],
    [0n, 4],
    [BigInt(pt), 4],
  ]);
  const r = site(iofd(c, c.dev, 'VFIO_DEVICE_ATTACH_IOMMUFD_PT', a));
  return { r, pt: u32(c, a, 8) };
}

function detach(c: Ctx) {
  return site(
    iofd(
      c,
      c.dev,
      'VFIO_DEVICE_DETACH_IOMMUFD_PT',
      words(c, [
        [8n, 4],
        [0n, 4],
      ]),
    ),
  );
}

function map(c: Ctx, uptr: bigint, length: bigint, iova: bigint) {
  return site(
    iofd(
      c,
      c.fd,
      'IOMMU_IOAS_MAP',
      words(c, [
        [40n, 4],
        [7n, 4],
        [BigInt(c.ioas), 4],
        [0n, 4],
        [uptr, 8],
        [length, 8],
        [iova, 8],
      ]),
    ),
  );
}

function guest(f: VF, size: bigint): bigint {
  const r = f.k.mmap(f.p, { size, prot: PROT_READ | PROT_WRITE, kind: 'anon' });
  if (r.ok !== true) throw new Error('mmap');
  return BigInt(r.ret);
}

/** how many of the IOAS's areas are pinned (a domain of the IOAS maps them) */
function pinned(c: Ctx): number {
  const ictx = c.p.fds.get(c.fd)!.priv as IommufdCtx;
  const o = ictx.objects.get(c.ioas);
  if (o?.type !== 'ioas') throw new Error('no IOAS');
  return o.areas.filter((a) => a.pinned).length;
}

/** IOMMU_GET_HW_INFO (40 bytes unless `size`) */
function hwInfo(
  c: Ctx,
  x: { size?: bigint; flags?: bigint; dev?: number; len?: bigint; uptr?: bigint; b28?: bigint; b29?: bigint },
) {
  const a = words(c, [
    [x.size ?? 40n, 4],
    [x.flags ?? 0n, 4],
    [BigInt(x.dev ?? c.devid), 4],
    [x.len ?? 0n, 4],
    [x.uptr ?? 0n, 8],
    [0n, 4],
    [(x.b28 ?? 0n) | ((x.b29 ?? 0n) << 8n), 4],
    [0xffn, 8],
  ]);
  const r = site(iofd(c, c.fd, 'IOMMU_GET_HW_INFO', a));
  return { r, a };
}

describe('iommufd_hwpt_alloc @ 6.12 (default VT-d: ecap 0xf00f4a, no SMTS)', () => {
  test('iommufd_hwpt_alloc @ 6.12: __reserved EOPNOTSUPP, data_type / data_len disagreeing EINVAL, dev_id ENOENT, pt_id missing or a device EINVAL', () => {
    const c = setup(kernel('6.12'));
    expect(hwptAlloc(c, { pt: c.ioas, reserved: 1n }).r).toEqual(['EOPNOTSUPP', 'iommufd_hwpt_alloc']);
    expect(hwptAlloc(c, { pt: c.ioas, type: 0n, len: 24n }).r).toEqual(['EINVAL', 'iommufd_hwpt_alloc']);
    expect(hwptAlloc(c, { pt: c.ioas, type: 1n, len: 0n }).r).toEqual(['EINVAL', 'iommufd_hwpt_alloc']);
    expect(hwptAlloc(c, { pt: c.ioas, dev: c.ioas }).r).toEqual(['ENOENT', 'iommufd_get_device']);
    expect(hwptAlloc(c, { pt: 99 }).r).toEqual(['EINVAL', 'iommufd_hwpt_alloc']);
    expect(hwptAlloc(c, { pt: c.devid }).r).toEqual(['EINVAL', 'iommufd_hwpt_alloc']);
    // nothing was made: the next object still gets id 3
    expect(hwptAlloc(c, { pt: c.ioas })).toEqual({ r: [0, null], id: 3 });
  });

  test('iommufd_hwpt_paging_alloc @ 6.12: unknown flags and FAULT_ID_VALID EOPNOTSUPP, DIRTY_TRACKING without IOMMU_CAP_DIRTY_TRACKING, NEST_PARENT without nested_supported, user data', () => {
    const c = setup(kernel('6.12'));
    expect(hwptAlloc(c, { pt: c.ioas, flags: 8n }).r).toEqual(['EOPNOTSUPP', 'iommufd_hwpt_paging_alloc']);
    expect(hwptAlloc(c, { pt: c.ioas, flags: 4n }).r).toEqual(['EOPNOTSUPP', 'iommufd_hwpt_paging_alloc']);
    expect(hwptAlloc(c, { pt: c.ioas, flags: 2n }).r).toEqual(['EOPNOTSUPP', 'iommufd_hwpt_paging_alloc']);
    expect(hwptAlloc(c, { pt: c.ioas, flags: 1n }).r).toEqual([
      'EOPNOTSUPP',
      'intel_iommu_domain_alloc_user',
    ]);
    const data = words(c, [[0n, 8]]);
    expect(hwptAlloc(c, { pt: c.ioas, type: 1n, len: 24n, uptr: data }).r).toEqual([
      'EOPNOTSUPP',
      'intel_iommu_domain_alloc_user',
    ]);
  });

  test('iommufd_hwpt_paging_alloc @ 6.9: DIRTY_TRACKING reaches the driver (no capable() check yet)', () => {
    const c = setup(kernel('6.9'));
    expect(hwptAlloc(c, { size: 40n, pt: c.ioas, flags: 2n }).r).toEqual([
      'EOPNOTSUPP',
      'intel_iommu_domain_alloc_user',
    ]);
  });

  test('iommufd_hwpt_alloc @ 6.12: an explicit HWPT adds its domain to the IOAS at once: pins, page alignment, the aperture reserved, not the MSI window', () => {
    const c = setup(kernel('6.12'));
    const va = guest(c, 0x10000n);
    expect(map(c, va, 0x4000n, 0x100000n)).toEqual([0, null]);
    expect(pinned(c)).toBe(0);
    const h = hwptAlloc(c, { pt: c.ioas });
    expect(h).toEqual({ r: [0, null], id: 3 });
    expect(pinned(c)).toBe(1);
    // iova_alignment is PAGE_SIZE now
    expect(map(c, va, 0x800n, 0x200000n)).toEqual(['EINVAL', 'iopt_alloc_area_pages']);
    // the MSI window is a device's reserved region: free until a device attaches
    expect(map(c, va, 0x1000n, 0xfee00000n)).toEqual([0, null]);
    expect(attach(c, h.id).r).toEqual(['EADDRINUSE', 'iopt_reserve_iova']);
    // beyond the 39-bit aperture: reserved by the domain
    expect(map(c, va, 0x1000n, 1n << 39n)).toEqual(['EINVAL', 'iopt_check_iova']);
    // the IOAS is in use by the HWPT, the HWPT by nobody: DESTROY unpins
    expect(destroy(c, c.ioas)).toEqual(['EBUSY', 'iommufd_object_remove']);
    expect(destroy(c, h.id)).toEqual([0, null]);
    expect(pinned(c)).toBe(0);
    expect(destroy(c, c.ioas)).toEqual([0, null]);
  });

  test('iommufd_hwpt_alloc @ 6.12: a failed copy back aborts the HWPT (its id freed, its pins undone)', () => {
    const c = setup(kernel('6.12'));
    const va = guest(c, 0x10000n);
    expect(map(c, va, 0x2000n, 0x100000n)).toEqual([0, null]);
    // copy_struct_from_user of the command, kzalloc hwpt_paging, intel alloc_domain, copy_to_user
    c.k.fault.armStep(c.p.mm, 4);
    expect(hwptAlloc(c, { pt: c.ioas }).r).toEqual(['EFAULT', 'iommufd_ucmd_respond']);
    c.k.fault.disarmStep();
    expect(pinned(c)).toBe(0);
    c.k.fault.armStep(c.p.mm, 2);
    expect(hwptAlloc(c, { pt: c.ioas }).r).toEqual(['ENOMEM', '_iommufd_object_alloc']);
    c.k.fault.armStep(c.p.mm, 3);
    expect(hwptAlloc(c, { pt: c.ioas }).r).toEqual(['ENOMEM', 'iommufd_hwpt_paging_alloc']);
    c.k.fault.disarmStep();
    expect(hwptAlloc(c, { pt: c.ioas })).toEqual({ r: [0, null], id: 3 });
  });

  test('iommufd_device_attach @ 6.12: an explicit HWPT id attaches directly, is EBUSY while attached, and outlives the detach; an IOAS id never picks it', () => {
    const c = setup(kernel('6.12'));
    const h = hwptAlloc(c, { pt: c.ioas }).id;
    expect(attach(c, h)).toEqual({ r: [0, null], pt: h });
    expect(destroy(c, h)).toEqual(['EBUSY', 'iommufd_object_remove']);
    expect(detach(c)).toEqual([0, null]);
    expect(c.k.files.size).toBeGreaterThan(0);
    // the IOAS id: a new auto domain, not the explicit HWPT
    const auto = attach(c, c.ioas);
    expect(auto.r).toEqual([0, null]);
    expect(auto.pt).toBe(h + 1);
    expect(destroy(c, auto.pt)).toEqual(['EBUSY', 'iommufd_object_remove']);
    // replace onto the explicit HWPT: the auto domain goes with its last device
    expect(attach(c, h)).toEqual({ r: [0, null], pt: h });
    expect(destroy(c, auto.pt)).toEqual(['ENOENT', 'iommufd_object_remove']);
    expect(detach(c)).toEqual([0, null]);
    expect(destroy(c, h)).toEqual([0, null]);
  });
});

describe('iommufd_device_replace @ 6.12 (a second VFIO_DEVICE_ATTACH_IOMMUFD_PT)', () => {
  test('iommufd_device_do_replace @ 6.12: the same HWPT is a no-op; another IOAS with an area in the MSI window EADDRINUSE and the old attachment stays; a new auto domain is added before the replace', () => {
    const c = setup(kernel('6.12'));
    const h = hwptAlloc(c, { pt: c.ioas }).id;
    expect(attach(c, h)).toEqual({ r: [0, null], pt: h });
    expect(attach(c, h)).toEqual({ r: [0, null], pt: h });
    const a = words(c, [
      [12n, 4],
      [0n, 4],
      [0n, 4],
    ]);
    expect(errnoOf(iofd(c, c.fd, 'IOMMU_IOAS_ALLOC', a))).toBe(0);
    const ioas2 = u32(c, a, 8);
    const va = guest(c, 0x10000n);
    const c2 = { ...c, ioas: ioas2 };
    expect(map(c2, va, 0x1000n, 0xfee00000n)).toEqual([0, null]);
    expect(attach(c, ioas2).r).toEqual(['EADDRINUSE', 'iopt_reserve_iova']);
    // nothing was made on ioas2 and the device is still on h
    expect(destroy(c, h)).toEqual(['EBUSY', 'iommufd_object_remove']);
    expect(destroy(c, ioas2)).toEqual([0, null]);
    // onto the first IOAS's auto domain: object, domain, (no new iopt domain), then the handle
    c.k.fault.armStep(c.p.mm, 4); // copy_from_user of the attach, kzalloc hwpt_paging, alloc_domain, handle
    expect(attach(c, c.ioas).r).toEqual(['ENOMEM', 'iommufd_hwpt_replace_device']);
    c.k.fault.disarmStep();
    const auto = attach(c, c.ioas);
    expect(auto.r).toEqual([0, null]);
    expect(auto.pt).not.toBe(h);
    expect(destroy(c, h)).toEqual([0, null]);
  });
});

/** 01:00.0 (vfio0) and 01:00.1 (vfio1), both of iommu group 6, bound to one iommufd */
function groupPair(): [Ctx, Ctx] {
  const c = setup(kernel('6.12'), '0000:01:00.0', 0);
  expect(bindTo(c, '0000:01:00.1', 'vfio-pci').ok).toBe(true);
  const dev = fdOf(c.k.open(c.p, '/dev/vfio/devices/vfio1', O_RDWR));
  const bind = words(c, [
    [16n, 4],
    [0n, 4],
    [BigInt(c.fd), 4],
    [0n, 4],
  ]);
  expect(errnoOf(iofd(c, dev, 'VFIO_DEVICE_BIND_IOMMUFD', bind))).toBe(0);
  return [c, { ...c, dev, devid: u32(c, bind, 12) }];
}

describe('iommufd_device_do_replace @ 6.12: a replace moves the whole iommu group (igroup->hwpt)', () => {
  test("iommufd_device_do_replace @ 6.12: the group's other device follows onto the new HWPT, the old one keeps no user, the other device's own ATTACH is then a no-op", () => {
    const [a, b] = groupPair();
    const h1 = hwptAlloc(a, { pt: a.ioas }).id;
    const h2 = hwptAlloc(a, { pt: a.ioas }).id;
    expect(attach(a, h1)).toEqual({ r: [0, null], pt: h1 });
    expect(attach(b, h1)).toEqual({ r: [0, null], pt: h1 });
    expect(attach(a, h2)).toEqual({ r: [0, null], pt: h2 });
    // refcount_add(num_devices, &hwpt->obj.users), refcount_sub(num_devices - 1, &old_hwpt->obj.users)
    expect(destroy(a, h1)).toEqual([0, null]);
    expect(attach(b, h2)).toEqual({ r: [0, null], pt: h2 }); // hwpt == igroup->hwpt
    // 01:00.1 alone keeps the group on h2: 01:00.0 attaches to it again, to nothing else
    expect(detach(a)).toEqual([0, null]);
    expect(destroy(a, h2)).toEqual(['EBUSY', 'iommufd_object_remove']);
    const h3 = hwptAlloc(a, { pt: a.ioas }).id;
    expect(attach(a, h3).r).toEqual(['EINVAL', 'iommufd_hw_pagetable_attach']);
    expect(attach(a, h2)).toEqual({ r: [0, null], pt: h2 });
    // and 01:00.1's replace back moves 01:00.0 with it
    expect(attach(b, h3)).toEqual({ r: [0, null], pt: h3 });
    expect(destroy(a, h2)).toEqual([0, null]);
    expect(detach(b)).toEqual([0, null]);
    expect(destroy(a, h3)).toEqual(['EBUSY', 'iommufd_object_remove']);
    expect(detach(a)).toEqual([0, null]);
    expect(destroy(a, h3)).toEqual([0, null]);
  });

  test('iommufd_device_do_replace @ 6.12: off an auto domain the whole group leaves it, and iommufd_hw_pagetable_put destroys it; an IOAS replace back makes a new auto domain for both', () => {
    const [a, b] = groupPair();
    const auto = attach(a, a.ioas).pt;
    expect(attach(b, a.ioas)).toEqual({ r: [0, null], pt: auto });
    const h = hwptAlloc(a, { pt: a.ioas }).id;
    expect(attach(b, h)).toEqual({ r: [0, null], pt: h });
    expect(destroy(a, auto)).toEqual(['ENOENT', 'iommufd_object_remove']);
    // no auto domain of the IOAS is left to reuse: iommufd_hwpt_paging_alloc, then the replace
    const next = attach(a, a.ioas);
    expect(next.r).toEqual([0, null]);
    expect([auto, h]).toEqual([4, 5]);
    expect(next.pt).toBe(4); // xa_alloc: the lowest free id, the destroyed auto domain's
    expect(destroy(a, h)).toEqual([0, null]);
    expect(attach(b, a.ioas)).toEqual({ r: [0, null], pt: next.pt });
    expect(detach(a)).toEqual([0, null]);
    expect(detach(b)).toEqual([0, null]);
    expect(destroy(a, next.pt)).toEqual(['ENOENT', 'iommufd_object_remove']);
  });
});

describe('iommufd_hwpt_alloc @ 6.12 with nesting (ecap SMTS | NEST)', () => {
  const nestKernel = () => setup(kernel('6.12', QEMU_VTD.ecap | SMTS | NEST));
  /** struct iommu_hwpt_vtd_s1 {flags, pgtbl_addr, addr_width, __reserved} */
  /** struct iommu_hwpt_vtd_s1 {flags, pgtbl_addr, addr_width, __reserved}, away from the command */
  const s1 = (c: Ctx, flags = 0n, width = 48n) =>
    c.k.stage(
      c.p,
      encodeStruct(iommu_hwpt_vtd_s1, { flags, pgtbl_addr: 0x1000n, addr_width: width }),
      0x1800n,
    );

  test('iommufd_hwpt_nested_alloc @ 6.12: no user data EOPNOTSUPP, an auto-domain or non-NEST_PARENT parent EINVAL; intel_nested_domain_alloc: data type EOPNOTSUPP, data_len EINVAL, EFAULT', () => {
    const c = nestKernel();
    const plain = hwptAlloc(c, { pt: c.ioas }).id;
    const parent = hwptAlloc(c, { pt: c.ioas, flags: 1n });
    expect(parent.r).toEqual([0, null]);
    expect(hwptAlloc(c, { pt: parent.id }).r).toEqual(['EOPNOTSUPP', 'iommufd_hwpt_nested_alloc']);
    expect(hwptAlloc(c, { pt: parent.id, flags: 1n, type: 1n, len: 24n, uptr: s1(c) }).r).toEqual([
      'EOPNOTSUPP',
      'iommufd_hwpt_nested_alloc',
    ]);
    expect(hwptAlloc(c, { pt: plain, type: 1n, len: 24n, uptr: s1(c) }).r).toEqual([
      'EINVAL',
      'iommufd_hwpt_nested_alloc',
    ]);
    const auto = attach(c, c.ioas).pt;
    expect(hwptAlloc(c, { pt: auto, type: 1n, len: 24n, uptr: s1(c) }).r).toEqual([
      'EINVAL',
      'iommufd_hwpt_nested_alloc',
    ]);
    expect(detach(c)).toEqual([0, null]);
    expect(hwptAlloc(c, { pt: parent.id, type: 2n, len: 24n, uptr: s1(c) }).r).toEqual([
      'EOPNOTSUPP',
      'intel_nested_domain_alloc',
    ]);
    expect(hwptAlloc(c, { pt: parent.id, type: 1n, len: 16n, uptr: s1(c) }).r).toEqual([
      'EINVAL',
      '__iommu_copy_struct_from_user',
    ]);
    expect(hwptAlloc(c, { pt: parent.id, type: 1n, len: 32n, uptr: s1(c) }).r).toEqual([
      'EINVAL',
      '__iommu_copy_struct_from_user',
    ]);
    expect(hwptAlloc(c, { pt: parent.id, type: 1n, len: 24n, uptr: 0x10n }).r).toEqual([
      'EFAULT',
      'copy_struct_from_user',
    ]);
    const nested = hwptAlloc(c, { pt: parent.id, type: 1n, len: 24n, uptr: s1(c) });
    expect(nested.r).toEqual([0, null]);
    // the nested HWPT holds its parent; a nested HWPT is no parent
    expect(destroy(c, parent.id)).toEqual(['EBUSY', 'iommufd_object_remove']);
    expect(hwptAlloc(c, { pt: nested.id, type: 1n, len: 24n, uptr: s1(c) }).r).toEqual([
      'EINVAL',
      'iommufd_hwpt_alloc',
    ]);
    expect(destroy(c, nested.id)).toEqual([0, null]);
    expect(destroy(c, parent.id)).toEqual([0, null]);
  });

  test('intel_pasid_setup_nested @ 6.12: attaching a nested HWPT checks addr_width and SRE against the registers', () => {
    const c = nestKernel();
    const parent = hwptAlloc(c, { pt: c.ioas, flags: 1n }).id;
    const w39 = hwptAlloc(c, { pt: parent, type: 1n, len: 24n, uptr: s1(c, 0n, 39n) }).id;
    const sre = hwptAlloc(c, { pt: parent, type: 1n, len: 24n, uptr: s1(c, 1n) }).id;
    const good = hwptAlloc(c, { pt: parent, type: 1n, len: 24n, uptr: s1(c) }).id;
    expect(attach(c, w39).r).toEqual(['EINVAL', 'intel_pasid_setup_nested']);
    expect(attach(c, sre).r).toEqual(['EINVAL', 'intel_pasid_setup_nested']);
    expect(attach(c, good)).toEqual({ r: [0, null], pt: good });
    expect(destroy(c, good)).toEqual(['EBUSY', 'iommufd_object_remove']);
  });

  test('iommufd_hwpt_invalidate @ 6.12: __reserved EOPNOTSUPP, entry bounds EINVAL, a paging HWPT ENOENT; intel_nested_cache_invalidate_user per entry; entry_num copied back', () => {
    const c = nestKernel();
    const parent = hwptAlloc(c, { pt: c.ioas, flags: 1n }).id;
    const nested = hwptAlloc(c, { pt: parent, type: 1n, len: 24n, uptr: s1(c) }).id;
    const entries = (es: [bigint, bigint, bigint][]) =>
      words(
        c,
        es.flatMap(([addr, npages, flags]): [bigint, 4 | 8][] => [
          [addr, 8],
          [npages, 8],
          [flags, 4],
          [0n, 4],
        ]),
      );
    const inv = (x: {
      hwpt?: number;
      uptr?: bigint;
      type?: bigint;
      len?: bigint;
      num?: bigint;
      reserved?: bigint;
    }) => {
      const a = words(c, [
        [32n, 4],
        [BigInt(x.hwpt ?? nested), 4],
        [x.uptr ?? 0n, 8],
        [x.type ?? 0n, 4],
        [x.len ?? 24n, 4],
        [x.num ?? 0n, 4],
        [x.reserved ?? 0n, 4],
      ]);
      const r = site(iofd(c, c.fd, 'IOMMU_HWPT_INVALIDATE', a));
      return { r, num: u32(c, a, 24) };
    };
    // the entry array lives past the command in the scratch area: build it first, it is reused
    const ok2 = entries([
      [0x1000n, 1n, 0n],
      [0x2000n, 1n, 1n],
    ]);
    const arr = new Uint8Array(c.p.mm.copyFromUser(ok2, 48)!);
    const far = c.k.stage(c.p, arr, 0x1000n);
    expect(inv({ reserved: 1n, num: 5n })).toEqual({ r: ['EOPNOTSUPP', 'iommufd_hwpt_invalidate'], num: 0 });
    expect(inv({ num: 1n }).r).toEqual(['EINVAL', 'iommufd_hwpt_invalidate']);
    expect(inv({ uptr: far, num: 1n, len: 0n }).r).toEqual(['EINVAL', 'iommufd_hwpt_invalidate']);
    expect(inv({ uptr: far, num: 1n, len: 4097n }).r).toEqual(['EINVAL', 'iommufd_hwpt_invalidate']);
    expect(inv({ uptr: far, num: (1n << 19n) + 1n }).r).toEqual(['EINVAL', 'iommufd_hwpt_invalidate']);
    expect(inv({ hwpt: parent, uptr: far, num: 1n }).r).toEqual(['ENOENT', 'iommufd_get_hwpt_nested']);
    expect(inv({ uptr: far, num: 1n, type: 1n }).r).toEqual(['EINVAL', 'intel_nested_cache_invalidate_user']);
    expect(inv({ uptr: far, num: 1n, len: 16n }).r).toEqual(['EINVAL', '__iommu_copy_struct_from_user']);
    expect(inv({ uptr: far, num: 2n })).toEqual({ r: [0, null], num: 2 });
    // no entries: nothing to do, success
    expect(inv({})).toEqual({ r: [0, null], num: 0 });
    // the second entry's flags / alignment stop the walk after one
    const bad = c.k.stage(
      c.p,
      new Uint8Array([...arr.subarray(0, 24), ...new Uint8Array(16), 2, 0, 0, 0, 0, 0, 0, 0]),
      0x2000n,
    );
    expect(inv({ uptr: bad, num: 2n })).toEqual({
      r: ['EOPNOTSUPP', 'intel_nested_cache_invalidate_user'],
      num: 1,
    });
    const odd = c.k.stage(c.p, new Uint8Array([0x10, ...new Uint8Array(23)]), 0x3000n);
    expect(inv({ uptr: odd, num: 1n })).toEqual({
      r: ['EINVAL', 'intel_nested_cache_invalidate_user'],
      num: 0,
    });
    expect(inv({ uptr: 0x10n, num: 1n })).toEqual({ r: ['EFAULT', 'copy_struct_from_user'], num: 0 });
  });

  test('iommufd_hwpt_invalidate @ 6.9: no entry_len / entry_num bounds (the HWPT lookup answers)', () => {
    const c = setup(kernel('6.9'));
    const a = words(c, [
      [32n, 4],
      [BigInt(c.ioas), 4],
      [0x1000n, 8],
      [0n, 4],
      [8192n, 4],
      [1n, 4],
      [0n, 4],
    ]);
    expect(site(iofd(c, c.fd, 'IOMMU_HWPT_INVALIDATE', a))).toEqual(['ENOENT', 'iommufd_get_hwpt_nested']);
  });
});

describe('dirty tracking @ 6.12 (ecap SMTS | SLADS | SMPWC: ssads_supported)', () => {
  const dirtyKernel = () => setup(kernel('6.12', QEMU_VTD.ecap | SMTS | SLADS | SMPWC));
  const setDirty = (c: Ctx, hwpt: number, flags: bigint) =>
    site(
      iofd(
        c,
        c.fd,
        'IOMMU_HWPT_SET_DIRTY_TRACKING',
        words(c, [
          [16n, 4],
          [flags, 4],
          [BigInt(hwpt), 4],
          [0n, 4],
        ]),
      ),
    );
  const getDirty = (
    c: Ctx,
    x: {
      hwpt: number;
      flags?: bigint;
      reserved?: bigint;
      iova: bigint;
      length: bigint;
      ps: bigint;
      data: bigint;
    },
  ) =>
    site(
      iofd(
        c,
        c.fd,
        'IOMMU_HWPT_GET_DIRTY_BITMAP',
        words(c, [
          [48n, 4],
          [BigInt(x.hwpt), 4],
          [x.flags ?? 0n, 4],
          [x.reserved ?? 0n, 4],
          [x.iova, 8],
          [x.length, 8],
          [x.ps, 8],
          [x.data, 8],
        ]),
      ),
    );

  test('iommufd_hwpt_set_dirty_tracking @ 6.12: flags EOPNOTSUPP, not a paging HWPT ENOENT, a domain without dirty_ops EOPNOTSUPP, a DIRTY_TRACKING one 0', () => {
    const c = dirtyKernel();
    const plain = hwptAlloc(c, { pt: c.ioas }).id;
    const dirty = hwptAlloc(c, { pt: c.ioas, flags: 2n });
    expect(dirty.r).toEqual([0, null]);
    expect(setDirty(c, dirty.id, 2n)).toEqual(['EOPNOTSUPP', 'iommufd_hwpt_set_dirty_tracking']);
    expect(setDirty(c, c.ioas, 1n)).toEqual(['ENOENT', 'iommufd_get_hwpt_paging']);
    expect(setDirty(c, plain, 1n)).toEqual(['EOPNOTSUPP', 'iopt_set_dirty_tracking']);
    expect(setDirty(c, dirty.id, 1n)).toEqual([0, null]);
    expect(setDirty(c, dirty.id, 0n)).toEqual([0, null]);
    // a dirty-tracking domain attaches (prepare_domain_attach_device: ssads_supported)
    expect(attach(c, dirty.id).r).toEqual([0, null]);
  });

  test('iommufd_hwpt_get_dirty_bitmap @ 6.12: flags / __reserved EOPNOTSUPP, ENOENT, iommufd_check_iova_range EINVAL / EOVERFLOW, no dirty_ops EOPNOTSUPP, else 0 with the bitmap untouched', () => {
    const c = dirtyKernel();
    const plain = hwptAlloc(c, { pt: c.ioas }).id;
    const dirty = hwptAlloc(c, { pt: c.ioas, flags: 2n }).id;
    const bm = c.k.stage(c.p, new Uint8Array(8).fill(0xaa), 0x1000n);
    const d = { hwpt: dirty, iova: 0x100000n, length: 0x10000n, ps: 0x1000n, data: bm };
    expect(getDirty(c, { ...d, flags: 2n })).toEqual(['EOPNOTSUPP', 'iommufd_hwpt_get_dirty_bitmap']);
    expect(getDirty(c, { ...d, reserved: 1n })).toEqual(['EOPNOTSUPP', 'iommufd_hwpt_get_dirty_bitmap']);
    expect(getDirty(c, { ...d, hwpt: c.ioas })).toEqual(['ENOENT', 'iommufd_get_hwpt_paging']);
    expect(getDirty(c, { ...d, length: 0n })).toEqual(['EINVAL', 'iommufd_check_iova_range']);
    // last_iova + 1 off the IOAS's PAGE_SIZE alignment; one that wraps to 0 would pass
    expect(getDirty(c, { ...d, length: 0x10800n })).toEqual(['EINVAL', 'iommufd_check_iova_range']);
    expect(getDirty(c, { ...d, iova: (1n << 64n) - 0x1000n, length: 0x2000n })).toEqual([
      'EOVERFLOW',
      'iommufd_check_iova_range',
    ]);
    expect(getDirty(c, { ...d, iova: 0x100800n })).toEqual(['EINVAL', 'iommufd_check_iova_range']);
    expect(getDirty(c, { ...d, ps: 0n })).toEqual(['EINVAL', 'iommufd_check_iova_range']);
    expect(getDirty(c, { ...d, ps: 0x200000n })).toEqual(['EINVAL', 'iommufd_check_iova_range']);
    expect(getDirty(c, { ...d, hwpt: plain })).toEqual(['EOPNOTSUPP', 'iommu_read_and_clear_dirty']);
    expect(getDirty(c, d)).toEqual([0, null]);
    expect(u64(c, bm, 0)).toBe(0xaaaaaaaaaaaaaaaan);
    c.k.fault.armStep(c.p.mm, 2); // copy_from_user of the command, then the iova_bitmap kzalloc
    expect(getDirty(c, d)).toEqual(['ENOMEM', 'iommu_read_and_clear_dirty']);
    c.k.fault.disarmStep();
  });

  test('iommufd_check_iova_range @ 6.9: no length check; length - 1 wraps: EOVERFLOW for a non-zero iova, success at iova 0', () => {
    const c = setup(kernel('6.9', QEMU_VTD.ecap | SMTS | SLADS | SMPWC));
    const dirty = hwptAlloc(c, { size: 40n, pt: c.ioas, flags: 2n }).id;
    const d = { hwpt: dirty, iova: 0x100000n, length: 0n, ps: 0x1000n, data: 0x10n };
    expect(getDirty(c, d)).toEqual(['EOVERFLOW', 'iommufd_check_iova_range']);
    expect(getDirty(c, { ...d, iova: 0n })).toEqual([0, null]);
  });

  test.each(['6.9', '6.10'])(
    'intel_iommu_domain_alloc_user @ %s: on an FLTS-only scalable unit alloc_domain takes the first stage (first_level_by_default), and DIRTY_TRACKING is EOPNOTSUPP once the domain is made; with SLTS too the UNMANAGED domain is second stage',
    (version) => {
      const flOnly = setup(kernel(version, QEMU_VTD.ecap | SMTS | SLADS | FLTS));
      const r = hwptAlloc(flOnly, { size: 40n, pt: flOnly.ioas, flags: 2n });
      expect(r.r).toEqual(['EOPNOTSUPP', 'intel_iommu_domain_alloc_user']);
      // the domain's kzalloc comes first: a fault there is its ENOMEM, not the first-stage refusal
      flOnly.k.fault.armStep(flOnly.p.mm, 3); // the command's copy, kzalloc hwpt_paging, alloc_domain
      expect(hwptAlloc(flOnly, { size: 40n, pt: flOnly.ioas, flags: 2n }).r).toEqual([
        'ENOMEM',
        'iommufd_hwpt_paging_alloc',
      ]);
      flOnly.k.fault.disarmStep();
      // iommufd_object_abort_and_destroy freed the id the refused HWPT held; a plain one takes it
      expect(hwptAlloc(flOnly, { size: 40n, pt: flOnly.ioas })).toEqual({ r: [0, null], id: 3 });
      const both = setup(kernel(version, QEMU_VTD.ecap | SMTS | SLADS | FLTS | SLTS));
      expect(hwptAlloc(both, { size: 40n, pt: both.ioas, flags: 2n })).toEqual({ r: [0, null], id: 3 });
    },
  );

  test('intel_iommu_domain_alloc_user @ 6.12: user domains are second stage (paging_domain_alloc(dev, false)), so an FLTS-only unit allocates DIRTY_TRACKING', () => {
    const c = setup(kernel('6.12', QEMU_VTD.ecap | SMTS | SLADS | SMPWC | FLTS));
    expect(hwptAlloc(c, { pt: c.ioas, flags: 2n })).toEqual({ r: [0, null], id: 3 });
  });

  test('ssads_supported @ 6.9 is sm_supported && ecap_slads; @ 6.12 it needs ecap_smpwc too', () => {
    const c9 = setup(kernel('6.9', QEMU_VTD.ecap | SMTS | SLADS));
    expect(u64(c9, hwInfo(c9, {}).a, 32)).toBe(1n); // IOMMU_HW_CAP_DIRTY_TRACKING
    expect(hwptAlloc(c9, { size: 40n, pt: c9.ioas, flags: 2n })).toEqual({ r: [0, null], id: 3 });
    const c12 = setup(kernel('6.12', QEMU_VTD.ecap | SMTS | SLADS));
    expect(u64(c12, hwInfo(c12, {}).a, 32)).toBe(0n);
    expect(hwptAlloc(c12, { pt: c12.ioas, flags: 2n }).r).toEqual([
      'EOPNOTSUPP',
      'iommufd_hwpt_paging_alloc',
    ]);
  });

  test('iommufd_get_hw_info @ 6.12: out_capabilities has IOMMU_HW_CAP_DIRTY_TRACKING with ssads_supported', () => {
    const c = dirtyKernel();
    const { r, a } = hwInfo(c, {});
    expect(r).toEqual([0, null]);
    expect(u64(c, a, 32)).toBe(1n);
  });
});

describe('iommufd_get_hw_info', () => {
  test('iommufd_get_hw_info @ 6.12: flags / reserved bytes EOPNOTSUPP, dev_id ENOENT; the VT-d data (QEMU 7.2 cap / ecap), its size back in data_len, the tail cleared', () => {
    const c = setup(kernel('6.12'));
    expect(hwInfo(c, { flags: 1n }).r).toEqual(['EOPNOTSUPP', 'iommufd_get_hw_info']);
    expect(hwInfo(c, { b29: 1n }).r).toEqual(['EOPNOTSUPP', 'iommufd_get_hw_info']);
    expect(hwInfo(c, { dev: c.ioas }).r).toEqual(['ENOENT', 'iommufd_get_device']);
    const buf = c.k.stage(c.p, new Uint8Array(32).fill(0xee), 0x1000n);
    const { r, a } = hwInfo(c, { len: 32n, uptr: buf, b28: 7n });
    expect(r).toEqual([0, null]);
    expect(u32(c, a, 12)).toBe(24); // data_len: sizeof(struct iommu_hw_info_vtd)
    expect(u32(c, a, 24)).toBe(1); // IOMMU_HW_INFO_TYPE_INTEL_VTD
    expect(u32(c, a, 28)).toBe(0); // out_max_pasid_log2 = 0, the reserved bytes as passed (0)
    expect(u64(c, a, 32)).toBe(0n); // no dirty tracking on QEMU's default VT-d
    expect(u32(c, buf, 0)).toBe(1); // IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17
    expect(u64(c, buf, 8)).toBe(0x00d2008c22260206n);
    expect(u64(c, buf, 16)).toBe(0x0000000000f00f4an);
    expect(u64(c, buf, 24)).toBe(0n); // cleared past the 24 bytes
    // data_len 0: nothing copied, the kernel's size reported
    const z = hwInfo(c, {});
    expect(z.r).toEqual([0, null]);
    expect(u32(c, z.a, 12)).toBe(24);
    expect(hwInfo(c, { len: 8n, uptr: 0x10n }).r).toEqual(['EFAULT', 'iommufd_get_hw_info']);
  });

  test('iommufd_get_hw_info @ 6.9: the __u32 __reserved covers byte 28 too (out_max_pasid_log2 is later)', () => {
    const c = setup(kernel('6.9'));
    expect(hwInfo(c, { b28: 1n }).r).toEqual(['EOPNOTSUPP', 'iommufd_get_hw_info']);
  });

  test('iommufd_get_hw_info @ 6.12: a machine override of the registers is what is reported', () => {
    const c = setup(kernel('6.12', 0x12345n));
    const buf = c.k.stage(c.p, new Uint8Array(24), 0x1000n);
    expect(hwInfo(c, { len: 24n, uptr: buf }).r).toEqual([0, null]);
    expect(u64(c, buf, 16)).toBe(0x12345n);
  });
});

describe('struct sizes per release (copy_struct_from_user E2BIG past op->size)', () => {
  test('iommufd_hwpt_alloc @ 6.6: 24 bytes, a non-zero data_type in a 40-byte struct E2BIG; flags EOPNOTSUPP; pt_id not an IOAS ENOENT (iommufd_get_ioas)', () => {
    const c = setup(kernel('6.6'));
    expect(hwptAlloc(c, { size: 40n, pt: c.ioas, type: 1n, len: 24n }).r).toEqual([
      'E2BIG',
      'copy_struct_from_user',
    ]);
    expect(hwptAlloc(c, { size: 24n, pt: c.ioas, flags: 1n }).r).toEqual([
      'EOPNOTSUPP',
      'iommufd_hwpt_alloc',
    ]);
    expect(hwptAlloc(c, { size: 24n, pt: c.devid }).r).toEqual(['ENOENT', 'iommufd_get_ioas']);
    expect(hwptAlloc(c, { size: 24n, pt: c.ioas })).toEqual({ r: [0, null], id: 3 });
  });

  test('iommufd_hw_pagetable_alloc @ 6.6: the object kzalloc, then iommu_domain_alloc NULL (-ENOMEM), each at its own point', () => {
    const c = setup(kernel('6.6'));
    // copy_struct_from_user of the command, kzalloc hwpt, intel alloc_domain
    c.k.fault.armStep(c.p.mm, 2);
    expect(hwptAlloc(c, { size: 24n, pt: c.ioas }).r).toEqual(['ENOMEM', '_iommufd_object_alloc']);
    c.k.fault.armStep(c.p.mm, 3);
    expect(hwptAlloc(c, { size: 24n, pt: c.ioas }).r).toEqual(['ENOMEM', 'iommufd_hw_pagetable_alloc']);
    c.k.fault.disarmStep();
    expect(hwptAlloc(c, { size: 24n, pt: c.ioas })).toEqual({ r: [0, null], id: 3 });
  });

  test('iommufd_hwpt_alloc @ 6.9: 40 bytes, a non-zero fault_id E2BIG; @ 6.12 48 bytes take it', () => {
    const c9 = setup(kernel('6.9'));
    expect(hwptAlloc(c9, { pt: c9.ioas, faultId: 1n }).r).toEqual(['E2BIG', 'copy_struct_from_user']);
    const c12 = setup(kernel('6.12'));
    expect(hwptAlloc(c12, { pt: c12.ioas, faultId: 1n }).r).toEqual([0, null]);
    expect(hwptAlloc(c12, { size: 23n, pt: c12.ioas }).r).toEqual(['EINVAL', 'iommufd_fops_ioctl']);
  });

  test('iommufd_get_hw_info @ 6.6: 32 bytes, a non-zero out_capabilities slot E2BIG; @ 6.9 40 bytes', () => {
    const c = setup(kernel('6.6'));
    expect(hwInfo(c, {}).r).toEqual(['E2BIG', 'copy_struct_from_user']);
    const c9 = setup(kernel('6.9'));
    expect(hwInfo(c9, {}).r).toEqual([0, null]);
  });

  test('iommufd_fops_ioctl @ 6.12: min_size of SET_DIRTY_TRACKING (16), GET_DIRTY_BITMAP (48), INVALIDATE (32), FAULT_QUEUE_ALLOC (16)', () => {
    const c = setup(kernel('6.12'));
    for (const [name, min] of [
      ['IOMMU_HWPT_SET_DIRTY_TRACKING', 16n],
      ['IOMMU_HWPT_GET_DIRTY_BITMAP', 48n],
      ['IOMMU_HWPT_INVALIDATE', 32n],
      ['IOMMU_FAULT_QUEUE_ALLOC', 16n],
    ] as const) {
      const a = words(c, [[min - 4n, 4]]);
      expect(site(iofd(c, c.fd, name, a))).toEqual(['EINVAL', 'iommufd_fops_ioctl']);
    }
  });
});

describe('IOMMU_FAULT_QUEUE_ALLOC @ 6.12', () => {
  const faultAlloc = (c: Ctx, flags = 0n) => {
    const a = words(c, [
      [16n, 4],
      [flags, 4],
      [0n, 4],
      [0n, 4],
    ]);
    const r = site(iofd(c, c.fd, 'IOMMU_FAULT_QUEUE_ALLOC', a));
    return { r, id: u32(c, a, 8), fd: u32(c, a, 12) };
  };

  test('iommufd_fault_alloc @ 6.12: flags EOPNOTSUPP; an object and an fd; the fd reads ESPIPE / 0, writes ESPIPE / EINVAL; DESTROY EBUSY until it is closed', () => {
    const c = setup(kernel('6.12'));
    expect(faultAlloc(c, 1n).r).toEqual(['EOPNOTSUPP', 'iommufd_fault_alloc']);
    const q = faultAlloc(c);
    expect(q.r).toEqual([0, null]);
    expect(q.id).toBe(3);
    expect(c.p.fds.get(q.fd)?.ops.kind).toBe('iommufd-fault');
    const buf = c.k.stage(c.p, new Uint8Array(80), 0x1000n);
    expect(site(c.k.read(c.p, q.fd, buf, 39, true))).toEqual(['ESPIPE', 'iommufd_fault_fops_read']);
    expect(site(c.k.read(c.p, q.fd, buf, 40, true))).toEqual([0, null]);
    expect(site(c.k.write(c.p, q.fd, buf, 7))).toEqual(['ESPIPE', 'iommufd_fault_fops_write']);
    expect(site(c.k.write(c.p, q.fd, buf, 8))).toEqual(['EINVAL', 'iommufd_fault_fops_write']);
    expect(site(c.k.write(c.p, q.fd, 0x10n, 8))).toEqual(['EFAULT', 'iommufd_fault_fops_write']);
    expect(destroy(c, q.id)).toEqual(['EBUSY', 'iommufd_object_remove']);
    expect(c.k.close(c.p, q.fd).ok).toBe(true);
    expect(destroy(c, q.id)).toEqual([0, null]);
  });

  test('iommufd_fault_alloc @ 6.12: the object kzalloc and anon_inode_getfile ENOMEM; a failed copy back leaks the file and its iommufd_ctx_get', () => {
    const c = setup(kernel('6.12'));
    c.k.fault.armStep(c.p.mm, 2);
    expect(faultAlloc(c).r).toEqual(['ENOMEM', '_iommufd_object_alloc']);
    c.k.fault.armStep(c.p.mm, 3);
    expect(faultAlloc(c).r).toEqual(['ENOMEM', 'anon_inode_getfile']);
    const ictx = c.k.files.get(c.p.fds.get(c.fd)!.id)!;
    const refs = ictx.refs;
    c.k.fault.armStep(c.p.mm, 4);
    expect(faultAlloc(c).r).toEqual(['EFAULT', 'iommufd_ucmd_respond']);
    c.k.fault.disarmStep();
    expect(ictx.refs).toBe(refs + 1);
    expect(faultAlloc(c).id).toBe(3);
  });

  test('iommufd_hwpt_alloc @ 6.12 with FAULT_ID_VALID: a paging HWPT EOPNOTSUPP, a nested one needs a fault object (ENOENT); attaching it: intel_iommu_enable_iopf ENODEV', () => {
    const c = setup(kernel('6.12', QEMU_VTD.ecap | SMTS | NEST));
    const q = faultAlloc(c);
    expect(hwptAlloc(c, { pt: c.ioas, flags: 4n, faultId: BigInt(q.id) }).r).toEqual([
      'EOPNOTSUPP',
      'iommufd_hwpt_paging_alloc',
    ]);
    const parent = hwptAlloc(c, { pt: c.ioas, flags: 1n }).id;
    const data = words(c, [
      [0n, 8],
      [0x1000n, 8],
      [48n, 4],
      [0n, 4],
    ]);
    const far = c.k.stage(c.p, new Uint8Array(c.p.mm.copyFromUser(data, 24)!), 0x1000n);
    expect(
      hwptAlloc(c, { pt: parent, flags: 4n, type: 1n, len: 24n, uptr: far, faultId: BigInt(c.ioas) }).r,
    ).toEqual(['ENOENT', 'iommufd_get_fault']);
    const h = hwptAlloc(c, { pt: parent, flags: 4n, type: 1n, len: 24n, uptr: far, faultId: BigInt(q.id) });
    expect(h.r).toEqual([0, null]);
    expect(attach(c, h.id).r).toEqual(['ENODEV', 'intel_iommu_enable_iopf']);
    // the HWPT holds the fault object even with its fd closed
    expect(c.k.close(c.p, q.fd).ok).toBe(true);
    expect(destroy(c, q.id)).toEqual(['EBUSY', 'iommufd_object_remove']);
    expect(destroy(c, h.id)).toEqual([0, null]);
    expect(destroy(c, q.id)).toEqual([0, null]);
  });

  test('iommufd_fops_release @ 6.12: a fault fd holds the context, so closing /dev/iommu frees nothing until it closes too', () => {
    const f = kernel('6.12');
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const fd = fdOf(f.k.open(f.p, '/dev/iommu', O_RDWR));
    const c: Ctx = { ...f, fd, ioas: 0, dev: -1, devid: 0 };
    const a = words(c, [
      [12n, 4],
      [0n, 4],
      [0n, 4],
    ]);
    expect(errnoOf(iofd(c, fd, 'IOMMU_IOAS_ALLOC', a))).toBe(0);
    c.ioas = u32(c, a, 8);
    const q = faultAlloc(c);
    expect(q.r).toEqual([0, null]);
    const ictxFile = c.p.fds.get(fd)!;
    expect(c.k.close(c.p, fd).ok).toBe(true);
    expect(ictxFile.released).toBe(false);
    expect(c.k.close(c.p, q.fd).ok).toBe(true);
    expect(ictxFile.released).toBe(true);
  });
});

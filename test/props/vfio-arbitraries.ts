// Step arbitraries for model fuzzing of the vfio paths (issue 7, part 1): PCI sysfs binds, unbinds
// and driver_override; VFIO containers, groups and device fds with type1 MAP/UNMAP and hot reset;
// iommufd with the vfio cdev; kvm-vfio. A step here is a scenario step (scenario.md) as a map, with
// `p` choosing the acting process and `needs` the mapping it names, so a case is a scenario file as
// it stands and runs through the real loader, compiler and runner (vfio-model.ts).
import fc from 'fast-check';

/** A scenario step: `s` is the step's map without `process:`; `p` picks a process by creation order. */
export interface VStep {
  p: number;
  s: Record<string, unknown>;
  /** the mapping of the acting process the step names ($buf, $guest): left out where it has none */
  needs?: 'buf' | 'guest';
}

/** The vfio eras (vfio.md): classic viability 3.19 / 4.0, the unbound list until 5.18, 6.1, 6.12, and 6.12's iommufd build. */
export const VFIO_PROFILES = ['3.19', '4.0', '5.18', '6.1', '6.12', '6.12-iommufd-vfio-container'] as const;
export type VfioFamily = 'vfio' | 'sysfs' | 'iommufd' | 'kvm';
export const VFIO_FAMILIES: readonly VfioFamily[] = ['vfio', 'sysfs', 'iommufd', 'kvm'];

export interface VCase {
  family: VfioFamily;
  profile: string;
  steps: VStep[];
}

/** The default machine's devices (machine.md), a bridge, and a BDF that is no device. */
export const BDFS = [
  '0000:03:00.0',
  '0000:01:00.0',
  '0000:01:00.1',
  '0000:02:00.0',
  '0000:00:06.0',
  '0000:00:1f.0',
  '0000:00:1f.2',
  '0000:00:03.0',
  '0000:09:00.0',
];
const DRIVERS = [
  'vfio-pci',
  'vfio-pci',
  'vfio-pci',
  'pci-stub',
  'uio_pci_generic',
  'e1000e',
  'pcieport',
  'nvme',
];

const pick = fc.nat({ max: 4 });
const bdf = fc.oneof(
  { arbitrary: fc.constantFrom(...BDFS.slice(0, 5)), weight: 5 },
  fc.constantFrom(...BDFS),
);
const driver = fc.constantFrom(...DRIVERS);

/** fds 3-9 are what the prefixes and later opens made; others are junk. */
const fdArb = fc.oneof(
  { arbitrary: fc.integer({ min: 3, max: 9 }), weight: 12 },
  { arbitrary: fc.integer({ min: 10, max: 14 }), weight: 2 },
  { arbitrary: fc.constantFrom(0, 2, -1, 999), weight: 1 },
);
const fdBig = fdArb.map(BigInt);

const u64Edge = fc.constantFrom(
  0n,
  1n,
  0xfffn,
  0x1000n,
  0x200000n,
  0xfee00000n,
  0x7ffffff000n,
  0x8000000000n,
  (1n << 63n) - 1n,
  (1n << 64n) - 0x1000n,
  (1n << 64n) - 1n,
);
const iovaArb = fc.oneof(
  { arbitrary: fc.bigInt({ min: 0n, max: 0x20n }).map((x) => x << 12n), weight: 4 },
  { arbitrary: fc.bigInt({ min: 0n, max: 8n }).map((x) => x << 20n), weight: 2 },
  { arbitrary: u64Edge, weight: 1 },
);
const sizeArb = fc.oneof(
  { arbitrary: fc.constantFrom(0x1000n, 0x2000n, 0x10000n, 0x100000n, 0x200000n), weight: 5 },
  { arbitrary: fc.constantFrom(0n, 1n, 0x1001n, 0x400000n), weight: 1 },
  { arbitrary: u64Edge, weight: 1 },
);
/** a user address: inside `guest` (2 MiB) or a literal */
const vaddrArb: fc.Arbitrary<{ v: unknown; needs?: 'guest' }> = fc.oneof(
  {
    arbitrary: fc
      .oneof(
        fc.bigInt({ min: 0n, max: 0x1ffn }).map((x) => x << 12n),
        fc.constantFrom(0x1ffffn, 0x200000n),
      )
      .map((off) => ({
        v: off === 0n ? '$guest' : `$guest + 0x${off.toString(16)}`,
        needs: 'guest' as const,
      })),
    weight: 5,
  },
  { arbitrary: u64Edge.map((v) => ({ v })), weight: 1 },
);

const io = (req: string, fd: unknown, arg?: unknown): Record<string, unknown> =>
  arg === undefined ? { ioctl: req, fd } : { ioctl: req, fd, arg };

const ioctlStep = (req: string, arg?: fc.Arbitrary<unknown>, needs?: 'buf' | 'guest'): fc.Arbitrary<VStep> =>
  fc
    .record({ p: pick, fd: fdArb, arg: arg ?? fc.constant(undefined) })
    .map(({ p, fd, arg: a }) => ({ p, s: io(req, fd, a), ...(needs ? { needs } : {}) }));

const mapDma: fc.Arbitrary<VStep> = fc
  .record({
    p: pick,
    fd: fdArb,
    flags: fc.oneof(fc.constantFrom(3n, 3n, 1n, 2n, 0n), fc.bigInt({ min: 0n, max: 15n })),
    vaddr: vaddrArb,
    iova: iovaArb,
    size: sizeArb,
  })
  .map(({ p, fd, flags, vaddr, iova, size }) => ({
    p,
    s: io('VFIO_IOMMU_MAP_DMA', fd, { flags, vaddr: vaddr.v, iova, size }),
    ...(vaddr.needs ? { needs: vaddr.needs } : {}),
  }));

const unmapDma = ioctlStep(
  'VFIO_IOMMU_UNMAP_DMA',
  fc.record({
    flags: fc.oneof(fc.constantFrom(0n, 0n, 0n, 2n), fc.bigInt({ min: 0n, max: 7n })),
    iova: iovaArb,
    size: sizeArb,
  }),
);

const ioasMap: fc.Arbitrary<VStep> = fc
  .record({
    p: pick,
    fd: fdArb,
    flags: fc.oneof(fc.constantFrom(7n, 6n, 3n, 0n), fc.bigInt({ min: 0n, max: 15n })),
    ioas: fc.bigInt({ min: 0n, max: 4n }),
    vaddr: vaddrArb,
    iova: iovaArb,
    length: sizeArb,
  })
  .map(({ p, fd, flags, ioas, vaddr, iova, length }) => ({
    p,
    s: io('IOMMU_IOAS_MAP', fd, { flags, ioas_id: ioas, user_va: vaddr.v, length, iova }),
    ...(vaddr.needs ? { needs: vaddr.needs } : {}),
  }));

const kvmAttr = (req: string): fc.Arbitrary<VStep> =>
  fc
    .record({
      p: pick,
      fd: fdArb,
      group: fc.oneof(fc.constant(1n), fc.bigInt({ min: 0n, max: 3n })),
      attr: fc.oneof(fc.constantFrom(1n, 2n), fc.bigInt({ min: 0n, max: 4n })),
      buf: fc.boolean(),
    })
    .map(({ p, fd, group, attr, buf }) => ({
      p,
      s: io(req, fd, { group, attr, addr: buf ? '$buf' : 0n }),
      ...(buf ? { needs: 'buf' as const } : {}),
    }));

/** writes an fd number (or junk) where KVM_SET_DEVICE_ATTR's addr points */
const pokeFd: fc.Arbitrary<VStep> = fc
  .record({ p: pick, v: fc.oneof(fdBig, fc.constant(0xffffffffn)) })
  .map(({ p, v }) => ({ p, s: { poke: 'buf', value: v & 0xffffffffn, width: 4n }, needs: 'buf' as const }));

const OPEN = [
  '/dev/vfio/vfio',
  '/dev/vfio/8',
  '/dev/vfio/6',
  '/dev/vfio/7',
  '/dev/vfio/4',
  '/dev/vfio/5',
  '/dev/vfio/99',
  '/dev/vfio/devices/vfio0',
  '/dev/vfio/devices/vfio1',
  '/dev/vfio/devices/vfio3',
  '/dev/iommu',
  '/dev/kvm',
];

const sysfsWrite: fc.Arbitrary<VStep> = fc.oneof(
  fc
    .record({ p: pick, d: bdf, v: fc.oneof(driver, fc.constantFrom('\n', '', 'vfio-pci\n')) })
    .map(({ p, d, v }) => ({ p, s: { sysfs: `/sys/bus/pci/devices/${d}/driver_override`, value: v } })),
  fc
    .record({ p: pick, drv: driver, op: fc.constantFrom('bind', 'unbind', 'unbind'), d: bdf })
    .map(({ p, drv, op, d }) => ({ p, s: { sysfs: `/sys/bus/pci/drivers/${drv}/${op}`, value: d } })),
  fc
    .record({ p: pick, d: bdf })
    .map(({ p, d }) => ({ p, s: { sysfs: '/sys/bus/pci/drivers_probe', value: d } })),
  fc
    .record({ p: pick, d: bdf, a: fc.constantFrom('remove', 'reset') })
    .map(({ p, d, a }) => ({ p, s: { sysfs: `/sys/bus/pci/devices/${d}/${a}`, value: '1' } })),
  pick.map((p) => ({ p, s: { sysfs: '/sys/bus/pci/rescan', value: '1' } })),
);

const sysfsLook: fc.Arbitrary<VStep> = fc.oneof(
  fc
    .record({ p: pick, d: bdf, a: fc.constantFrom('driver_override', 'vendor', 'class', 'reset_method') })
    .map(({ p, d, a }) => ({ p, s: { sysfs: `/sys/bus/pci/devices/${d}/${a}` } })),
  fc
    .record({ p: pick, d: bdf, a: fc.constantFrom('driver', 'iommu_group') })
    .map(({ p, d, a }) => ({ p, s: { readlink: `/sys/bus/pci/devices/${d}/${a}` } })),
  fc
    .record({
      p: pick,
      d: fc.constantFrom('/dev/vfio', '/dev/vfio/devices', '/sys/bus/pci/drivers/vfio-pci'),
    })
    .map(({ p, d }) => ({ p, s: { ls: d } })),
);

const bindStep: fc.Arbitrary<VStep> = fc.oneof(
  {
    arbitrary: fc
      .record({ p: pick, d: bdf, drv: driver })
      .map(({ p, d, drv }) => ({ p, s: { bind: { device: d, driver: drv } } })),
    weight: 3,
  },
  { arbitrary: fc.record({ p: pick, d: bdf }).map(({ p, d }) => ({ p, s: { unbind: d } })), weight: 2 },
);

const procStep: fc.Arbitrary<VStep> = fc.oneof(
  { arbitrary: fc.record({ p: pick, fd: fdArb }).map(({ p, fd }) => ({ p, s: { close: fd } })), weight: 6 },
  { arbitrary: pick.map((p) => ({ p, s: { fork: '' } })), weight: 2 },
  { arbitrary: pick.map((p) => ({ p, s: { spawn: '' } })), weight: 1 },
  { arbitrary: pick.map((p) => ({ p, s: { exit: '' } })), weight: 1 },
  {
    arbitrary: fc
      .record({ p: pick, fd: fdArb, to: pick })
      .map(({ p, fd, to }) => ({ p, s: { pass: fd, to } })),
    weight: 2,
  },
  {
    arbitrary: fc
      .record({ p: pick, path: fc.constantFrom(...OPEN) })
      .map(({ p, path }) => ({ p, s: { open: path } })),
    weight: 6,
  },
  {
    arbitrary: fc
      .record({ p: pick, k: fc.constantFrom('vfio_groups', 'pci', 'fds', 'diagnostics') })
      .map(({ p, k }) => ({ p, s: { inspect: k } })),
    weight: 1,
  },
);

const containerStep: fc.Arbitrary<VStep> = fc.oneof(
  ioctlStep('VFIO_GET_API_VERSION'),
  ioctlStep('VFIO_CHECK_EXTENSION', fc.bigInt({ min: 0n, max: 10n })),
  { arbitrary: ioctlStep('VFIO_SET_IOMMU', fc.constantFrom(3n, 3n, 1n, 0n, 2n, 8n, 9n)), weight: 3 },
  ioctlStep('VFIO_IOMMU_GET_INFO', fc.constantFrom(undefined, { argsz: 4096n }, { argsz: 8n })),
  { arbitrary: mapDma, weight: 5 },
  { arbitrary: unmapDma, weight: 4 },
);

const groupStep: fc.Arbitrary<VStep> = fc.oneof(
  { arbitrary: ioctlStep('VFIO_GROUP_GET_STATUS'), weight: 4 },
  ioctlStep('VFIO_GROUP_GET_STATUS', fc.record({ argsz: fc.constantFrom(0n, 4n, 7n, 16n) })),
  { arbitrary: ioctlStep('VFIO_GROUP_SET_CONTAINER', fdBig), weight: 4 },
  { arbitrary: ioctlStep('VFIO_GROUP_UNSET_CONTAINER'), weight: 2 },
  {
    arbitrary: ioctlStep(
      'VFIO_GROUP_GET_DEVICE_FD',
      fc.oneof(bdf, fc.constantFrom('', '0000:03:00', 'vfio0')),
    ),
    weight: 4,
  },
);

const deviceStep: fc.Arbitrary<VStep> = fc.oneof(
  ioctlStep('VFIO_DEVICE_GET_INFO', fc.constantFrom(undefined, { argsz: 256n }, { argsz: 4n })),
  ioctlStep('VFIO_DEVICE_GET_REGION_INFO', fc.record({ index: fc.bigInt({ min: 0n, max: 10n }) })),
  ioctlStep('VFIO_DEVICE_GET_IRQ_INFO', fc.record({ index: fc.bigInt({ min: 0n, max: 6n }) })),
  { arbitrary: ioctlStep('VFIO_DEVICE_RESET'), weight: 2 },
  {
    arbitrary: ioctlStep(
      'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
      fc.record({ count: fc.bigInt({ min: 0n, max: 4n }) }),
    ),
    weight: 2,
  },
  {
    arbitrary: ioctlStep(
      'VFIO_DEVICE_PCI_HOT_RESET',
      fc.record({ group_fds: fc.array(fdBig, { maxLength: 3 }) }),
    ),
    weight: 2,
  },
);

/** the HWPT-family commands (0x89..0x8e): ids, flags and data lengths around the valid ones */
const objId = fc.bigInt({ min: 0n, max: 6n });
const hwptStep: fc.Arbitrary<VStep> = fc.oneof(
  ioctlStep(
    'IOMMU_HWPT_ALLOC',
    fc.record({
      flags: fc.constantFrom(0n, 0n, 1n, 2n, 4n, 5n),
      dev_id: objId,
      pt_id: objId,
      data_type: fc.constantFrom(0n, 0n, 1n),
      data_len: fc.constantFrom(0n, 0n, 24n),
      fault_id: objId,
    }),
  ),
  ioctlStep('IOMMU_GET_HW_INFO', fc.record({ dev_id: objId, data_len: fc.constantFrom(0n, 24n) })),
  ioctlStep(
    'IOMMU_HWPT_SET_DIRTY_TRACKING',
    fc.record({ flags: fc.constantFrom(0n, 1n, 2n), hwpt_id: objId }),
  ),
  ioctlStep(
    'IOMMU_HWPT_GET_DIRTY_BITMAP',
    fc.record({ hwpt_id: objId, iova: iovaArb, length: sizeArb, page_size: fc.constantFrom(0n, 0x1000n) }),
  ),
  ioctlStep(
    'IOMMU_HWPT_INVALIDATE',
    fc.record({ hwpt_id: objId, entry_len: fc.constantFrom(0n, 24n), entry_num: fc.constantFrom(0n, 1n) }),
  ),
  ioctlStep('IOMMU_FAULT_QUEUE_ALLOC', fc.constantFrom(undefined, { flags: 1n })),
);

/** IOAS_ALLOW_IOVAS / IOAS_IOVA_RANGES: an iommu_iova_range array in the guest memory or a literal */
const iovaRangesStep = (req: string): fc.Arbitrary<VStep> =>
  fc
    .record({
      p: pick,
      fd: fdArb,
      ioas: fc.bigInt({ min: 0n, max: 4n }),
      num: fc.oneof(fc.bigInt({ min: 0n, max: 3n }), fc.constant(0xffffffffn)),
      ptr: vaddrArb,
    })
    .map(({ p, fd, ioas, num, ptr }) => ({
      p,
      s: io(req, fd, { ioas_id: ioas, num_iovas: num, allowed_iovas: ptr.v }),
      ...(ptr.needs ? { needs: ptr.needs } : {}),
    }));

const ioasCopy = ioctlStep(
  'IOMMU_IOAS_COPY',
  fc.record({
    flags: fc.oneof(fc.constantFrom(7n, 6n, 5n, 4n, 1n), fc.bigInt({ min: 0n, max: 15n })),
    src_ioas_id: fc.bigInt({ min: 0n, max: 4n }),
    dst_ioas_id: fc.bigInt({ min: 0n, max: 4n }),
    length: sizeArb,
    src_iova: iovaArb,
    dst_iova: iovaArb,
  }),
);

const iommufdStep: fc.Arbitrary<VStep> = fc.oneof(
  { arbitrary: ioctlStep('IOMMU_IOAS_ALLOC'), weight: 3 },
  { arbitrary: ioasMap, weight: 4 },
  {
    arbitrary: ioctlStep(
      'IOMMU_IOAS_UNMAP',
      fc.record({
        ioas_id: fc.bigInt({ min: 0n, max: 4n }),
        iova: iovaArb,
        length: fc.oneof(sizeArb, fc.constant((1n << 64n) - 1n)),
      }),
    ),
    weight: 3,
  },
  { arbitrary: ioctlStep('IOMMU_DESTROY', fc.record({ id: fc.bigInt({ min: 0n, max: 5n }) })), weight: 2 },
  { arbitrary: iovaRangesStep('IOMMU_IOAS_ALLOW_IOVAS'), weight: 2 },
  { arbitrary: iovaRangesStep('IOMMU_IOAS_IOVA_RANGES'), weight: 2 },
  { arbitrary: ioasCopy, weight: 3 },
  {
    arbitrary: ioctlStep(
      'IOMMU_OPTION',
      fc.record({
        option_id: fc.bigInt({ min: 0n, max: 2n }),
        op: fc.bigInt({ min: 0n, max: 2n }),
        object_id: fc.bigInt({ min: 0n, max: 4n }),
        val64: fc.bigInt({ min: 0n, max: 2n }),
      }),
    ),
    weight: 2,
  },
  {
    arbitrary: ioctlStep(
      'IOMMU_VFIO_IOAS',
      fc.record({ op: fc.bigInt({ min: 0n, max: 3n }), ioas_id: fc.bigInt({ min: 0n, max: 4n }) }),
    ),
    weight: 2,
  },
  { arbitrary: ioctlStep('VFIO_DEVICE_BIND_IOMMUFD', fc.record({ iommufd: fdBig })), weight: 3 },
  {
    arbitrary: ioctlStep(
      'VFIO_DEVICE_ATTACH_IOMMUFD_PT',
      fc.record({ pt_id: fc.bigInt({ min: 0n, max: 5n }) }),
    ),
    weight: 3,
  },
  ioctlStep('VFIO_DEVICE_DETACH_IOMMUFD_PT'),
  { arbitrary: hwptStep, weight: 3 },
);

const kvmStep: fc.Arbitrary<VStep> = fc.oneof(
  ioctlStep('KVM_GET_API_VERSION'),
  { arbitrary: ioctlStep('KVM_CREATE_VM', fc.constantFrom(undefined, 0n, 1n)), weight: 2 },
  {
    arbitrary: ioctlStep(
      'KVM_CREATE_DEVICE',
      fc.record({ type: fc.constantFrom(4n, 4n, 4n, 0n, 9n), flags: fc.constantFrom(0n, 0n, 1n, 2n) }),
    ),
    weight: 3,
  },
  { arbitrary: pokeFd, weight: 4 },
  { arbitrary: kvmAttr('KVM_SET_DEVICE_ATTR'), weight: 5 },
  kvmAttr('KVM_HAS_DEVICE_ATTR'),
);

/** Steps of every vfio family, weighted towards the case's own. */
function stepArbOf(family: VfioFamily): fc.Arbitrary<VStep> {
  const w = (f: VfioFamily, n: number) => (f === family ? n * 3 : n);
  return fc.oneof(
    { arbitrary: procStep, weight: 6 },
    { arbitrary: bindStep, weight: w('sysfs', 1) },
    { arbitrary: sysfsWrite, weight: w('sysfs', 1) },
    { arbitrary: sysfsLook, weight: 1 },
    { arbitrary: containerStep, weight: w('vfio', 2) },
    { arbitrary: groupStep, weight: w('vfio', 2) },
    { arbitrary: deviceStep, weight: w('vfio', 1) + w('sysfs', 1) },
    { arbitrary: iommufdStep, weight: w('iommufd', 2) },
    { arbitrary: kvmStep, weight: w('kvm', 2) },
  );
}

const m = (s: Record<string, unknown>): VStep => ({ p: 0, s });

/**
 * Set-ups that reach the deeper states (fds from 3 in order): the legacy container sequence
 * (container 3, group 4, device 5, a mapping), two functions of group 6 for hot reset, the cdev with
 * iommufd (iommufd 3, cdev 4, an IOAS, a mapping), and kvm-vfio on top of the container sequence.
 */
function prefix(kind: 'none' | 'legacy' | 'hot-reset' | 'cdev' | 'kvm' | 'kvm-cdev'): VStep[] {
  const maps = [m({ mmap: 'buf', size: 0x1000n }), m({ mmap: 'guest', size: 0x200000n })];
  const legacy = (bdfs: string[], group: number): VStep[] => [
    ...bdfs.map((d) => m({ bind: { device: d, driver: 'vfio-pci' } })),
    m({ open: '/dev/vfio/vfio' }),
    m({ open: `/dev/vfio/${group}` }),
    m(io('VFIO_GROUP_SET_CONTAINER', 4, 3n)),
    m(io('VFIO_SET_IOMMU', 3, 3n)),
    ...bdfs.map((d) => m(io('VFIO_GROUP_GET_DEVICE_FD', 4, d))),
    {
      p: 0,
      s: io('VFIO_IOMMU_MAP_DMA', 3, { flags: 3n, vaddr: '$guest', iova: 0n, size: 0x10000n }),
      needs: 'guest',
    },
  ];
  const cdev: VStep[] = [
    m({ bind: { device: '0000:03:00.0', driver: 'vfio-pci' } }),
    m({ open: '/dev/iommu' }),
    m({ open: '/dev/vfio/devices/vfio0' }),
    m(io('VFIO_DEVICE_BIND_IOMMUFD', 4, { iommufd: 3n })),
    m(io('IOMMU_IOAS_ALLOC', 3)),
    m(io('VFIO_DEVICE_ATTACH_IOMMUFD_PT', 4, { pt_id: 2n })),
    {
      p: 0,
      s: io('IOMMU_IOAS_MAP', 3, { flags: 7n, ioas_id: 2n, user_va: '$guest', length: 0x10000n, iova: 0n }),
      needs: 'guest',
    },
  ];
  const kvm = (groupFd: number, first: number): VStep[] => [
    m({ open: '/dev/kvm' }),
    m(io('KVM_CREATE_VM', first)),
    m(io('KVM_CREATE_DEVICE', first + 1, { type: 4n })),
    { p: 0, s: { poke: 'buf', value: BigInt(groupFd), width: 4n }, needs: 'buf' },
    { p: 0, s: io('KVM_SET_DEVICE_ATTR', first + 2, { group: 1n, attr: 1n, addr: '$buf' }), needs: 'buf' },
  ];
  switch (kind) {
    case 'none':
      return maps;
    case 'legacy':
      return [...maps, ...legacy(['0000:03:00.0'], 8)];
    case 'hot-reset':
      return [...maps, ...legacy(['0000:01:00.0', '0000:01:00.1'], 6)];
    case 'cdev':
      return [...maps, ...cdev];
    case 'kvm':
      return [...maps, ...legacy(['0000:03:00.0'], 8), ...kvm(4, 6)];
    case 'kvm-cdev':
      return [...maps, ...cdev, ...kvm(4, 5)];
  }
}

const PREFIXES: Record<VfioFamily, readonly Parameters<typeof prefix>[0][]> = {
  vfio: ['none', 'legacy', 'legacy', 'hot-reset', 'hot-reset'],
  sysfs: ['none', 'legacy', 'hot-reset', 'cdev', 'kvm'],
  iommufd: ['none', 'cdev', 'cdev', 'cdev', 'legacy'],
  kvm: ['none', 'kvm', 'kvm', 'kvm-cdev', 'legacy'],
};

/** iommufd and the cdev exist from 6.2 / 6.6: its cases run on the 6.x profiles only. */
const PROFILES_OF: Record<VfioFamily, readonly string[]> = {
  vfio: VFIO_PROFILES,
  sysfs: VFIO_PROFILES,
  kvm: VFIO_PROFILES,
  iommufd: ['6.1', '6.12', '6.12', '6.12-iommufd-vfio-container'],
};

export function vfioCaseArb(maxSteps = 40, family?: VfioFamily): fc.Arbitrary<VCase> {
  if (family === undefined) return fc.oneof(...VFIO_FAMILIES.map((f) => vfioCaseArb(maxSteps, f)));
  return fc.record({
    family: fc.constant(family),
    profile: fc.constantFrom(...PROFILES_OF[family]),
    steps: fc
      .tuple(
        fc.constantFrom(...PREFIXES[family]).map(prefix),
        fc.array(stepArbOf(family), { minLength: 1, maxLength: maxSteps, size: 'max' }),
      )
      .map(([pre, rest]) => [...pre, ...rest]),
  });
}

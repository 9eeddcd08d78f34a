// Checks of the VFIO container, group and device ioctls (drivers/vfio/container.c, group.c,
// vfio_iommu_type1.c, pci/vfio_pci_core.c, device_cdev.c), iommufd (drivers/iommu/iommufd/) and
// kvm-vfio (virt/kvm/vfio.c). Where releases check in another order, probes follow 6.12's.
// 03:00.0 is alone in group 8 and has a bus reset; 00:06.0 (group 4) has no reset method.
import { type Probe, probe } from './probe.js';

const BIND = '{bind: {device: "0000:03:00.0", driver: vfio-pci}}';
const CONT = '{open: /dev/vfio/vfio, as: c}';
const GROUP = '{open: /dev/vfio/8, as: g}';
const ATTACH = '{ioctl: VFIO_GROUP_SET_CONTAINER, fd: g, arg: $c}';
const TYPE1 = '{ioctl: VFIO_SET_IOMMU, fd: c, arg: VFIO_TYPE1v2_IOMMU}';
/** group 8 in a container with type1 set: ready for DMA mappings and device fds */
const READY = [BIND, CONT, GROUP, ATTACH, TYPE1];
const DEVICE = '{ioctl: VFIO_GROUP_GET_DEVICE_FD, fd: g, arg: "0000:03:00.0", as: dev}';
/** 00:06.0, whose only reset would be a bus reset it cannot do, opened the same way */
const NO_RESET = [
  '{bind: {device: "0000:00:06.0", driver: vfio-pci}}',
  CONT,
  '{open: /dev/vfio/4, as: g}',
  ATTACH,
  TYPE1,
  '{ioctl: VFIO_GROUP_GET_DEVICE_FD, fd: g, arg: "0000:00:06.0", as: dev}',
];

const SET_CONTAINER = 'VFIO_GROUP_SET_CONTAINER';
const setContainer = (arg: string, key = 'arg') => `{ioctl: ${SET_CONTAINER}, fd: g, ${key}: ${arg}}`;
const OLD_SET = 'vfio_group_set_container';
const NEW_SET = 'vfio_group_ioctl_set_container';

const MAP = 'VFIO_IOMMU_MAP_DMA';
const map = (fields: string) => `{ioctl: ${MAP}, fd: c, arg: {${fields}}}`;
const RW = 'flags: [VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE]';
const MEM = '{mmap: m, size: 64K}';
const DO_MAP = 'vfio_dma_do_map';

const UNMAP = 'VFIO_IOMMU_UNMAP_DMA';
const unmap = (fields: string) => `{ioctl: ${UNMAP}, fd: c, arg: {${fields}}}`;

const INFO = 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO';
const info = (arg: string, key = 'arg') => `{ioctl: ${INFO}, fd: dev, ${key}: ${arg}}`;
const RESET = 'VFIO_DEVICE_PCI_HOT_RESET';
const reset = (arg: string, key = 'arg') => `{ioctl: ${RESET}, fd: dev, ${key}: ${arg}}`;
/** 6.1+ each in its own function; vfio_pci_core_ioctl (5.15 – 5.18) and vfio_pci_ioctl before */
const OLD_PCI = ['vfio_pci_core_ioctl', 'vfio_pci_ioctl'];
const HR = ['vfio_pci_ioctl_pci_hot_reset', ...OLD_PCI];
const HRI = ['vfio_pci_ioctl_get_pci_hot_reset_info', ...OLD_PCI];

const IOMMU = '{open: /dev/iommu, as: i}';
const ALLOC = 'IOMMU_IOAS_ALLOC';
const IOAS_MAP = 'IOMMU_IOAS_MAP';
const IOAS = [IOMMU, '{ioctl: IOMMU_IOAS_ALLOC, fd: i, save: {ioas: out_ioas_id}}', MEM];
const FIXED_RW = 'flags: [IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE]';
const ALLOW = 'IOMMU_IOAS_ALLOW_IOVAS';
const COPY = 'IOMMU_IOAS_COPY';
const RANGES = 'IOMMU_IOAS_IOVA_RANGES';
const OPTION = 'IOMMU_OPTION';
const VFIO_IOAS = 'IOMMU_VFIO_IOAS';
const iommufdCall = (name: string, fields: string) => `{ioctl: ${name}, fd: i, arg: {${fields}}}`;
const ioasMap = (fields: string) => iommufdCall(IOAS_MAP, fields);

const BIND_IOMMUFD = 'VFIO_DEVICE_BIND_IOMMUFD';
const CDEV = '{open: /dev/vfio/devices/vfio0, as: dev}';
const bindIommufd = (arg: string, key = 'arg') => `{ioctl: ${BIND_IOMMUFD}, fd: dev, ${key}: ${arg}}`;
const BI = 'vfio_df_ioctl_bind_iommufd';

const ATTR = 'KVM_SET_DEVICE_ATTR';
const KVM = [
  '{open: /dev/kvm, as: kvm}',
  '{ioctl: KVM_CREATE_VM, fd: kvm, as: vm}',
  '{ioctl: KVM_CREATE_DEVICE, fd: vm, arg: {type: KVM_DEV_TYPE_VFIO}, as: kv}',
  '{mmap: buf, size: 4K}',
];
const attr = (fields: string) => `{ioctl: ${ATTR}, fd: kv, arg: {${fields}}}`;
const GROUP_ADD = 'group: KVM_DEV_VFIO_GROUP, attr: KVM_DEV_VFIO_GROUP_ADD, addr: $buf';
const WITH_KVM = '{kvm: true}';

// the second name: the same ioctl answered by iommufd's VFIO compat layer (6.12-iommufd-vfio-container)
export const VFIO_PROBES: readonly Probe[] = [
  probe(
    SET_CONTAINER,
    'the fd cannot be read',
    [NEW_SET, 'vfio_group_fops_unl_ioctl'],
    [BIND, GROUP, setContainer('0', 'argp')],
  ),
  probe(SET_CONTAINER, 'the fd is not open', [NEW_SET, OLD_SET], [BIND, GROUP, setContainer('999')]),
  probe(
    SET_CONTAINER,
    'a negative fd',
    [NEW_SET, 'vfio_group_fops_unl_ioctl'],
    [BIND, GROUP, setContainer('-1')],
  ),
  probe(
    SET_CONTAINER,
    'the group is in a container already',
    [NEW_SET, OLD_SET],
    [BIND, CONT, GROUP, ATTACH, '{open: /dev/vfio/vfio, as: c2}', setContainer('$c2')],
  ),
  probe(SET_CONTAINER, 'the fd is not a container', [NEW_SET, OLD_SET], [BIND, GROUP, setContainer('$g')]),

  probe(
    'VFIO_SET_IOMMU',
    'no group in the container',
    ['vfio_ioctl_set_iommu', 'iommufd_vfio_set_iommu'],
    [CONT, TYPE1],
  ),
  probe(
    'VFIO_SET_IOMMU',
    'no IOMMU driver for the type',
    ['vfio_ioctl_set_iommu', 'iommufd_vfio_set_iommu'],
    [BIND, CONT, GROUP, ATTACH, '{ioctl: VFIO_SET_IOMMU, fd: c, arg: 99}'],
  ),

  probe(
    MAP,
    'no IOMMU driver set yet',
    ['vfio_fops_unl_ioctl', 'iopt_alloc_pages'],
    [BIND, CONT, GROUP, ATTACH, map('argsz: 32')],
  ),
  probe(
    MAP,
    'argsz < minsz',
    ['vfio_iommu_type1_map_dma', 'iommufd_vfio_map_dma'],
    [...READY, map('argsz: 8')],
  ),
  probe(MAP, 'neither READ nor WRITE', DO_MAP, [...READY, MEM, map('vaddr: $m, iova: 0, size: 4K')]),
  probe(
    MAP,
    'size 0',
    [DO_MAP, 'iopt_alloc_pages'],
    [...READY, MEM, map(`${RW}, vaddr: $m, iova: 0, size: 0`)],
  ),
  probe(
    MAP,
    'iova + size - 1 overflows',
    [DO_MAP, 'iopt_check_iova'],
    [...READY, MEM, map(`${RW}, vaddr: $m, iova: 0xfffffffffffff000, size: 0x2000`)],
  ),
  probe(
    MAP,
    'overlaps a mapping',
    [DO_MAP, 'iopt_check_iova'],
    [...READY, MEM, map(`${RW}, vaddr: $m, iova: 0, size: 4K`), map(`${RW}, vaddr: $m, iova: 0, size: 8K`)],
  ),
  probe(MAP, 'iova outside the IOVA ranges (the MSI window)', DO_MAP, [
    ...READY,
    MEM,
    map(`${RW}, vaddr: $m, iova: 0xfee00000, size: 4K`),
  ]),
  probe(MAP, 'vaddr not mapped', 'vaddr_get_pfns', [
    ...READY,
    map(`${RW}, vaddr: 0x1000, iova: 0, size: 4K`),
  ]),
  probe(MAP, 'over RLIMIT_MEMLOCK without CAP_IPC_LOCK', 'vfio_pin_pages_remote', [
    ...READY,
    '{spawn: p, caps: []}',
    '{pass: c, to: p, as: pc}',
    '{mmap: big, size: 16M, process: p}',
    `{ioctl: ${MAP}, fd: pc, process: p, arg: {${RW}, vaddr: $big, iova: 0, size: 16M}}`,
  ]),

  probe(
    UNMAP,
    'argsz < minsz',
    ['vfio_iommu_type1_unmap_dma', 'iommufd_vfio_unmap_dma'],
    [...READY, unmap('argsz: 8')],
  ),
  probe(UNMAP, 'iova not page aligned', 'vfio_dma_do_unmap', [...READY, unmap('iova: 0x800, size: 4K')]),
  probe(
    UNMAP,
    'UNMAP_ALL with an iova',
    ['vfio_dma_do_unmap', 'vfio_iommu_type1_unmap_dma', 'iommufd_vfio_unmap_dma'],
    [...READY, unmap('flags: VFIO_DMA_UNMAP_FLAG_ALL, iova: 0x1000')],
  ),
  probe(UNMAP, 'size 0', ['vfio_dma_do_unmap', 'iopt_unmap_iova'], [...READY, unmap('iova: 0, size: 0')]),
  probe(
    UNMAP,
    'type1v2: it would split a mapping',
    ['vfio_dma_do_unmap', 'iopt_unmap_iova_range'],
    [...READY, MEM, map(`${RW}, vaddr: $m, iova: 0, size: 8K`), unmap('iova: 0x1000, size: 4K')],
  ),

  probe('VFIO_GROUP_GET_DEVICE_FD', 'the name cannot be read', 'strndup_user', [
    ...READY,
    '{ioctl: VFIO_GROUP_GET_DEVICE_FD, fd: g, argp: 0}',
  ]),
  probe('VFIO_GROUP_GET_DEVICE_FD', 'no device of that name in the group', 'vfio_device_get_from_name', [
    ...READY,
    '{ioctl: VFIO_GROUP_GET_DEVICE_FD, fd: g, arg: "0000:99:00.0"}',
  ]),
  probe(
    'VFIO_GROUP_GET_DEVICE_FD',
    'no IOMMU driver set',
    ['vfio_device_assign_container', 'vfio_group_get_device_fd'],
    [BIND, CONT, GROUP, ATTACH, DEVICE],
  ),

  probe(INFO, 'the header cannot be read', HRI, [...READY, DEVICE, info('0', 'argp')]),
  probe(INFO, 'argsz < minsz', HRI, [...READY, DEVICE, info('{argsz: 4}')]),
  probe(INFO, 'no slot or bus reset', HRI, [...NO_RESET, info('{count: 1}')]),
  probe(INFO, 'no room for the affected devices', HRI, [...READY, DEVICE, info('{count: 0}')]),

  probe(RESET, 'the header cannot be read', HR, [...READY, DEVICE, reset('0', 'argp')]),
  probe(RESET, 'flags given', HR, [...READY, DEVICE, reset('{group_fds: [$g], flags: 1}')]),
  probe(RESET, 'a group-opened device with an empty list', HR, [...READY, DEVICE, reset('{group_fds: []}')]),
  probe(RESET, 'no slot or bus reset', HR, [...NO_RESET, reset('{group_fds: [$g]}')]),
  probe(
    RESET,
    'more fds than affected devices',
    [...HR, 'vfio_pci_ioctl_pci_hot_reset_groups'],
    [...READY, DEVICE, reset('{group_fds: [$g, $g]}')],
  ),
  probe(
    RESET,
    'an fd that is not open',
    [...HR, 'vfio_pci_ioctl_pci_hot_reset_groups'],
    [...READY, DEVICE, reset('{group_fds: [999]}')],
  ),
  probe(
    RESET,
    'an fd that is not a group',
    [...HR, 'vfio_pci_ioctl_pci_hot_reset_groups'],
    [...READY, DEVICE, reset('{group_fds: [$c]}')],
  ),

  probe(ALLOC, 'the size cannot be read', 'iommufd_fops_ioctl', [IOMMU, `{ioctl: ${ALLOC}, fd: i, argp: 0}`]),
  probe(ALLOC, 'size < the minimum', 'iommufd_fops_ioctl', [
    IOMMU,
    `{ioctl: ${ALLOC}, fd: i, arg: {size: 4}}`,
  ]),
  probe(ALLOC, 'flags given', 'iommufd_ioas_alloc_ioctl', [
    IOMMU,
    `{ioctl: ${ALLOC}, fd: i, arg: {flags: 1}}`,
  ]),

  probe(IOAS_MAP, 'unknown flags', 'iommufd_ioas_map', [
    ...IOAS,
    ioasMap('flags: 0x100, ioas_id: $ioas, user_va: $m, length: 4K'),
  ]),
  probe(IOAS_MAP, 'iova >= ULONG_MAX', 'iommufd_ioas_map', [
    ...IOAS,
    ioasMap(`${FIXED_RW}, ioas_id: $ioas, user_va: $m, length: 4K, iova: 0xffffffffffffffff`),
  ]),
  probe(IOAS_MAP, 'neither READABLE nor WRITEABLE', 'iommufd_ioas_map', [
    ...IOAS,
    ioasMap('ioas_id: $ioas, user_va: $m, length: 4K'),
  ]),
  probe(IOAS_MAP, 'no IOAS of that id', 'iommufd_get_ioas', [
    ...IOAS,
    ioasMap(`${FIXED_RW}, ioas_id: 99, user_va: $m, length: 4K`),
  ]),
  probe(IOAS_MAP, 'length 0', 'iopt_alloc_pages', [
    ...IOAS,
    ioasMap(`${FIXED_RW}, ioas_id: $ioas, user_va: $m, length: 0`),
  ]),
  probe(IOAS_MAP, 'a fixed iova over a mapped area', 'iopt_check_iova', [
    ...IOAS,
    ioasMap(`${FIXED_RW}, ioas_id: $ioas, user_va: $m, length: 4K, iova: 0x100000`),
    ioasMap(`${FIXED_RW}, ioas_id: $ioas, user_va: $m, length: 8K, iova: 0x100000`),
  ]),
  // (no 'user_va not mapped' probe: with no device attached there is no domain to fill, so IOAS_MAP
  // pins nothing and succeeds; the fault surfaces at the attach)

  probe(ALLOW, '__reserved set', 'iommufd_ioas_allow_iovas', [
    ...IOAS,
    iommufdCall(ALLOW, 'ioas_id: $ioas, __reserved: 1'),
  ]),
  probe(ALLOW, 'no IOAS of that id', 'iommufd_get_ioas', [...IOAS, iommufdCall(ALLOW, 'ioas_id: 99')]),
  probe(ALLOW, 'the ranges cannot be read', 'iommufd_ioas_load_iovas', [
    ...IOAS,
    iommufdCall(ALLOW, 'ioas_id: $ioas, num_iovas: 1, allowed_iovas: 0'),
  ]),
  probe(ALLOW, 'a range with start >= last', 'iommufd_ioas_load_iovas', [
    ...IOAS,
    iommufdCall(ALLOW, 'ioas_id: $ioas, num_iovas: 1, allowed_iovas: $m'),
  ]),

  probe(COPY, 'unknown flags', 'iommufd_ioas_copy', [...IOAS, iommufdCall(COPY, 'flags: 8')]),
  probe(COPY, 'length >= ULONG_MAX', 'iommufd_ioas_copy', [
    ...IOAS,
    iommufdCall(COPY, 'flags: [IOMMU_IOAS_MAP_READABLE], length: 0xffffffffffffffff'),
  ]),
  // before "iommufd: Do not allow creating areas without READ or WRITE" the source IOAS comes next
  probe(
    COPY,
    'neither READABLE nor WRITEABLE',
    ['iommufd_ioas_copy', 'iommufd_get_ioas'],
    [...IOAS, iommufdCall(COPY, 'src_ioas_id: 99')],
  ),
  probe(COPY, 'nothing mapped at src_iova', 'iopt_get_pages', [
    ...IOAS,
    iommufdCall(COPY, 'flags: [IOMMU_IOAS_MAP_READABLE], src_ioas_id: $ioas, dst_ioas_id: $ioas, length: 4K'),
  ]),

  probe(RANGES, '__reserved set', 'iommufd_ioas_iova_ranges', [
    ...IOAS,
    iommufdCall(RANGES, 'ioas_id: $ioas, __reserved: 1'),
  ]),
  probe(RANGES, 'no IOAS of that id', 'iommufd_get_ioas', [...IOAS, iommufdCall(RANGES, 'ioas_id: 99')]),
  probe(RANGES, 'num_iovas below the count of ranges', 'iommufd_ioas_iova_ranges', [
    ...IOAS,
    iommufdCall(RANGES, 'ioas_id: $ioas, num_iovas: 0'),
  ]),

  probe(OPTION, 'an unknown option_id', 'iommufd_option', [IOMMU, iommufdCall(OPTION, 'option_id: 2')]),
  probe(OPTION, 'RLIMIT_MODE with an object_id', 'iommufd_option_rlimit_mode', [
    IOMMU,
    iommufdCall(OPTION, 'option_id: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_GET, object_id: 1'),
  ]),
  probe(OPTION, 'RLIMIT_MODE set while objects exist', 'iommufd_option_rlimit_mode', [
    ...IOAS,
    iommufdCall(OPTION, 'option_id: IOMMU_OPTION_RLIMIT_MODE, op: IOMMU_OPTION_OP_SET, val64: 1'),
  ]),
  probe(OPTION, 'HUGE_PAGES of no IOAS', 'iommufd_get_ioas', [
    IOMMU,
    iommufdCall(OPTION, 'option_id: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_GET, object_id: 99'),
  ]),

  probe(VFIO_IOAS, '__reserved set', 'iommufd_vfio_ioas', [IOMMU, iommufdCall(VFIO_IOAS, '__reserved: 1')]),
  probe(VFIO_IOAS, 'GET without a compat IOAS', 'iommufd_vfio_ioas', [
    IOMMU,
    iommufdCall(VFIO_IOAS, 'op: IOMMU_VFIO_IOAS_GET'),
  ]),
  probe(VFIO_IOAS, 'SET of no IOAS', 'iommufd_get_ioas', [
    IOMMU,
    iommufdCall(VFIO_IOAS, 'op: IOMMU_VFIO_IOAS_SET, ioas_id: 99'),
  ]),

  probe(BIND_IOMMUFD, 'the argument cannot be read', BI, [BIND, IOMMU, CDEV, bindIommufd('0', 'argp')]),
  probe(BIND_IOMMUFD, 'flags given', BI, [BIND, IOMMU, CDEV, bindIommufd('{iommufd: $i, flags: 1}')]),
  probe(BIND_IOMMUFD, "the device's group is open", 'vfio_device_block_group', [
    BIND,
    IOMMU,
    CDEV,
    GROUP,
    bindIommufd('{iommufd: $i}'),
  ]),
  probe(BIND_IOMMUFD, 'the file is bound already', BI, [
    BIND,
    IOMMU,
    CDEV,
    bindIommufd('{iommufd: $i}'),
    bindIommufd('{iommufd: $i}'),
  ]),
  probe(BIND_IOMMUFD, 'the iommufd is not open', 'iommufd_ctx_from_fd', [
    BIND,
    IOMMU,
    CDEV,
    bindIommufd('{iommufd: 999}'),
  ]),
  probe(BIND_IOMMUFD, 'the fd is not an iommufd', 'iommufd_ctx_from_file', [
    BIND,
    IOMMU,
    CDEV,
    bindIommufd('{iommufd: $dev}'),
  ]),

  probe(
    ATTR,
    'the attribute cannot be read',
    'kvm_device_ioctl_attr',
    [...KVM, `{ioctl: ${ATTR}, fd: kv, argp: 0}`],
    WITH_KVM,
  ),
  probe(
    ATTR,
    'a group other than KVM_DEV_VFIO_GROUP (FILE)',
    'kvm_vfio_set_attr',
    [...KVM, attr('group: 7, attr: 1, addr: $buf')],
    WITH_KVM,
  ),
  probe(
    ATTR,
    'an attr other than ADD or DEL',
    ['kvm_vfio_set_group', 'kvm_vfio_set_file'],
    [...KVM, attr('group: KVM_DEV_VFIO_GROUP, attr: 9, addr: $buf')],
    WITH_KVM,
  ),
  probe(
    ATTR,
    'the fd cannot be read',
    ['kvm_vfio_set_group', 'kvm_vfio_set_file'],
    [...KVM, attr('group: KVM_DEV_VFIO_GROUP, attr: KVM_DEV_VFIO_GROUP_ADD, addr: 0')],
    WITH_KVM,
  ),
  probe(
    ATTR,
    'the fd is not open',
    ['kvm_vfio_set_group', 'kvm_vfio_group_add', 'kvm_vfio_file_add'],
    [...KVM, '{poke: buf, value: 999}', attr(GROUP_ADD)],
    WITH_KVM,
  ),
  probe(
    ATTR,
    'ADD of a file that is not a vfio group (or, 6.6+, vfio file)',
    ['vfio_group_get_external_user', 'kvm_vfio_group_add', 'kvm_vfio_file_add'],
    [...KVM, '{poke: buf, value: $kvm}', attr(GROUP_ADD)],
    WITH_KVM,
  ),
];

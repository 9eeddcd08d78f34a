// Kernel profiles: each release is a named set of behaviours. Drivers ask
// `profile.has('feature')`; nothing compares version numbers outside this file.
// A feature is listed with the change that introduced it, so a stable backport
// (Debian's 6.1.192 carries some) can put it out of mainline order.

export type Family =
  | 'vhost-net'
  | 'vhost-vsock'
  | 'vhost-vdpa'
  | 'tun'
  | 'vfio'
  | 'iommufd'
  | 'vfio-cdev'
  | 'kvm';

export interface FeatureDoc {
  readonly name: string;
  readonly change: string;
}

/** Every named behaviour, with what changed (vhost.md §14). */
export const FEATURES = {
  'vsock-iotlb':
    'e13a6915a03f "vhost/vsock: add IOTLB API support" (5.11): vsock offers ACCESS_PLATFORM, read/write/poll of IOTLB messages, backend features',
  'vsock-seqpacket': 'VIRTIO_VSOCK_F_SEQPACKET in vhost-vsock (5.14)',
  'vsock-drop-iotlb':
    'vhost_vsock_set_features drops the device IOTLB when ACCESS_PLATFORM is cleared (seen on Debian 6.12.117; sticky on 6.1)',
  'net-drop-iotlb':
    'vhost_net_set_features drops the device IOTLB when ACCESS_PLATFORM is cleared (Debian 6.12.117, "vhost: invalidate vring access on IOTLB transitions", CVE-2026-97988; sticky on 6.1)',
  'iotlb-invalidate-vrings':
    "the same Debian 6.12.117 patch: the first device IOTLB and its removal clear every vq's desc/avail/used (to 0, log_addr to -1), its removal also drops the queued messages, and vq_meta_prefetch fails on three zero ring addresses",
  'vsock-release-no-owner-check':
    '"vhost/vsock: don\'t check owner in vhost_vsock_stop() while releasing" (5.17)',
  'iotlb-size0-check':
    'e2ae38cf3d91 + 95932ab2ea07 (5.17, stable 5.15.29): write() refuses size-0 UPDATE and INVALIDATE with EINVAL before the handler',
  'iotlb-invalidate-size0':
    'ca50ec377c2e "vhost: Allow null msg.size on VHOST_IOTLB_INVALIDATE" (6.6, Debian 6.1.192): size-0 INVALIDATE reaches the handler again',
  'iotlb-split-full-range': 'e2ae38cf3d91 (5.17): [0, U64_MAX] is stored as two IOTLB entries',
  'net-ring-reset': 'vhost-net offers VIRTIO_F_RING_RESET (6.3)',
  'net-backend-clear-msg':
    '9526f9a2b762 "vhost/net: Clear the pending messages when the backend is removed" (6.2, stable 5.10.168 and 6.1.y)',
  'access-ok-sign-bit':
    '6014bc27561f "x86-64: make access_ok() independent of LAM" (6.4): valid_user_address() is the sign bit, not TASK_SIZE_MAX, until 86e6b1547b3d (6.12) compares with USER_PTR_MAX = TASK_SIZE_MAX again; not in Debian 6.1.192 (generic __access_ok) nor 6.12, where the limit is the 5-level TASK_SIZE_MAX, 2^56 - 4096 (both oracle kernels)',
  'vhost-worker-task': 'vhost_task workers (6.4): worker creation errors reported as ENOMEM',
  'vdpa-sim-blk':
    'vdpa_sim_blk, the simulated block device (5.13): /dev/vhost-vdpa-N for a blk device exists',
  'vdpa-config-size-ioctls':
    'VHOST_VDPA_GET_CONFIG_SIZE (0x79) and VHOST_VDPA_GET_VQS_COUNT (0x80) (>= 5.16, absent @ v5.15.0)',
  'vdpa-asid':
    'a1468175bb17 "vhost-vdpa: support ASID based IOTLB API" (5.19): per-ASID IOTLBs, GET_AS_NUM, GET_GROUP_NUM, GET_VRING_GROUP, SET_GROUP_ASID, VHOST_BACKEND_F_IOTLB_ASID; bda324fd037a vdpa_sim_net control vq, 3 vqs, 2 groups, 2 address spaces',
  'vdpa-keep-empty-as':
    '"vhost_vdpa: fix unmap process in no-batch mode" (Cindy Lu, 6.4, Cc stable; in Debian 6.1.192): an address space left empty is no longer freed',
  'vdpa-suspend':
    'f345a0143b4d "vhost-vdpa: uAPI to suspend the device" (6.0): VHOST_VDPA_SUSPEND, VHOST_BACKEND_F_SUSPEND, vdpa_sim suspend',
  'vdpa-resume':
    '"vhost-vdpa: uAPI to resume the device" (6.3): VHOST_VDPA_RESUME, VHOST_BACKEND_F_RESUME, vdpa_sim resume',
  'vdpa-blk-secure-erase':
    'virtio_blk_config gains the secure-erase fields (6.0): vdpa_sim_blk config 72 bytes (60 before)',
  'vdpa-blk-zoned': 'virtio_blk_config gains the zoned fields (6.3): vdpa_sim_blk config 96 bytes',
  'vdpa-sim-use-va':
    'vdpa_sim use_va module parameter, default on, and bind_mm (6.4): UPDATEs map only shared file-backed memory',
  'vdpa-sim-net-status':
    'vdpa_sim_net offers VIRTIO_NET_F_STATUS (after 6.1, offered @ v6.9; first release UNVERIFIED)',
  'vdpa-enable-after-driver-ok':
    '967800d2d52e VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK (6.6): accepted by SET_BACKEND_FEATURES, offered by vdpa_sim',
  'vdpa-desc-asid-persist':
    'VHOST_BACKEND_F_DESC_ASID + GET_VRING_DESC_GROUP, VHOST_BACKEND_F_IOTLB_PERSIST, compat_reset / reset_map / VDPA_RESET_F_CLEAN_MAP, vdpa_sim passthrough address spaces (6.7)',
  'vdpa-suspended-state':
    'c7e194402be3 "vdpa: Track device suspended state" + a09483c4065f "vdpa: Block vq property changes in DRIVER_OK" (6.8): SET_VRING_ADDR/BASE EINVAL when DRIVER_OK and not suspended',
  'vdpa-vring-size':
    '1496c47065f9 VHOST_VDPA_GET_VRING_SIZE (6.9); c4e8b5aed7cd SUSPEND/RESUME are no-ops without DRIVER_OK; vdpa_sim pending kicks and get_vq_size',
  'vdpa-group-bound-check':
    'cd025c1e876b "vhost: move vdpa group bound check to vhost_vdpa" (Jan 2026, Cc stable): SET_GROUP_ASID group >= ngroups is EINVAL in vhost-vdpa (both Debian oracle kernels have it)',
  'iotlb-limit-enospc':
    'vhost_iotlb_add_range_ctx enforces the limit without RETIRE (ENOSPC; [0, U64_MAX] needs 2 free entries), refuses a limit of 0 (EINVAL) and reuses the oldest map when retiring (seen in the iotlb.c of Debian 6.1.192 and 6.12.117; first mainline release UNVERIFIED)',
  'vdpa-vring-num-max':
    'vhost_vdpa_vring_ioctl checks SET_VRING_NUM against get_vq_num_max (EINVAL above it; seen on Debian 6.12.117, absent on 6.1.192)',
  // ---- the vfio paths (vfio.md §17; the kernel function each one changes is named in the driver)
  'vfio-unbound-list':
    '60720a0fc646 "vfio: Add device tracking during unbind" (4.0) until 93219ea94388 (5.19): the unbound_list keeps the group viable during unbind',
  'kvm-vfio-del-by-file':
    '5d6dee80a1e9 "vfio: New external user group/file match" (4.13): KVM_DEV_VFIO_GROUP_DEL matches the file, no external user',
  'vfio-container-q-stall':
    'after 4.13, until dc15f82f5329 "vfio: Delete container_q" (5.19): unbinding the last device waits until the group leaves its container',
  'vfio-viable-bridges':
    'between 4.0 and 4.12 until 5.19: a non-normal header (bridge) is always viable; pcieport leaves the allow-list',
  'vfio-dma-ownership':
    '"Fix BUG_ON in vfio_iommu_group_notifier()" series (5.19): iommu DMA ownership and driver_managed_dma replace viability; EBUSY probes, EPERM attach',
  'vfio-group-disassociate':
    '3dd59a7dcb97 "vfio: Make the group FD disassociate from the iommu_group" (6.1): the last device leaving force-detaches the group',
  'vfio-group-fdget-first':
    'VFIO_GROUP_SET_CONTAINER resolves the fd first: a negative or closed fd is EBADF (seen in 6.1)',
  'vfio-set-container-ebadfd':
    'group.c (6.2): SET_CONTAINER with a file that is neither container nor iommufd is EBADFD',
  'vfio-unbind-removes-first':
    '291872a533a2 + 38c24544e10a (6.6): unregistering takes the device off the group list before waiting for its fds',
  'vfio-device-registration-ref':
    '"vfio: Simplify the lifetime logic for vfio_device" (~5.13): GET_DEVICE_FD skips a device being unregistered (ENODEV)',
  'vfio-pci-match-op':
    '"vfio/pci: Introduce VF token" (5.7): vfio_pci_core_match accepts "BDF vf_token=UUID"',
  'vfio-pci-dev-set':
    'the dev_set (5.15): a hot reset needs every affected device in the dev_set and its group given',
  'vfio-device-cdev': 'the vfio device cdev /dev/vfio/devices/vfioN (6.6, CONFIG_VFIO_DEVICE_CDEV)',
  'vfio-info-cap-align':
    'the "pad" fix (6.6): capability chains are 8-byte aligned (type1 GET_INFO argsz 116 → 120)',
  'type1-vaddr':
    "Steve Sistare's series (5.12): VFIO_UNMAP_ALL, VFIO_UPDATE_VADDR and the VADDR map/unmap flags",
  'type1-paging-domain-alloc':
    '"vfio/type1: Use iommu_paging_domain_alloc()" (6.11): a failed domain allocation is its ERR_PTR (-ENOMEM), not iommu_domain_alloc\'s NULL (-EIO)',
  'type1-vaddr-restricted':
    'ef3a3f6a294b and companions (6.3, Debian 6.1.192): UPDATE_VADDR only after SET_IOMMU, EBUSY instead of blocking, owner transfer',
  'type1-info-caps':
    'VFIO_IOMMU_GET_INFO capability chain (IOVA_RANGE 5.4, MIGRATION 5.8, DMA_AVAIL 5.10) and dirty-page tracking',
  'type1-iova-list':
    '"vfio/type1: Check reserved region conflict and update iova list" (5.0): MAP_DMA outside the IOVA ranges is EINVAL',
  'type1-unmap-own-mm':
    'v4.10 – v6.2: an unmap walk stops silently at a mapping another mm created (gone in 6.3 / Debian 6.1)',
  'driver-core-probe-errno':
    '"driver core: Flow the return code from ->probe() through to sysfs bind" (5.13): bind of a bound device EBUSY, probe errors returned',
  'kvm-vfio-release':
    '"kvm/vfio: Fix potential deadlock on vfio group_lock" (6.2): the kvm-vfio device goes at its fd close',
  'kvm-vfio-file': '2f99073a722b / dcc31ea60b42 (6.6): KVM_DEV_VFIO_FILE accepts vfio device cdev files',
  'vfio-pci-core':
    '"vfio/pci: Rename vfio_pci.c to vfio_pci_core.c" and its series (5.15): the device ioctls are vfio_pci_core_ioctl (vfio_pci_ioctl before)',
  'vfio-pci-ioctl-split':
    'Jason Gunthorpe\'s split of vfio_pci_core_ioctl ("500 lines is a bit long for a single function", 6.1): each device ioctl\'s checks in its own vfio_pci_ioctl_* function',
  'vtd-no-enable-nesting':
    'the VT-d iommu_ops have no enable_nesting (read in the Debian 6.1 and 6.12 sources): iommu_enable_nesting is EINVAL, so SET_IOMMU(VFIO_TYPE1_NESTING_IOMMU) fails',
  'kvm-vfio-file-names':
    '"kvm/vfio: Rename kvm_vfio_group to prepare for accepting vfio device fd" (6.6; in Debian 6.1.192 as a backport): kvm_vfio_set_file / kvm_vfio_file_add / kvm_vfio_file_del decide what kvm_vfio_set_group / kvm_vfio_group_add / _del did',
  iommufd:
    'the iommufd subsystem (6.2, CONFIG_IOMMUFD): /dev/iommu with DESTROY and the IOAS commands (ALLOC, ALLOW_IOVAS, COPY, IOVA_RANGES, MAP, UNMAP), IOMMU_OPTION and IOMMU_VFIO_IOAS: iommufd_ioctl_ops up to 0x88',
  'iommufd-hwpt-alloc':
    '"iommufd: Add IOMMU_HWPT_ALLOC" and "iommufd: Add IOMMU_GET_HW_INFO" (6.6): iommufd_ioctl_ops grows to 0x8a, so nr 0x89 / 0x8a are iommufd commands and no longer go to iommufd_vfio_ioctl',
  'iommufd-dirty-tracking':
    '"iommufd: Add IOMMU_HWPT_SET_DIRTY_TRACKING" and "iommufd: Add IOMMU_HWPT_GET_DIRTY_BITMAP" (6.7; read in the 6.9 tree): the table grows to 0x8c',
  'iommufd-hwpt-invalidate':
    '"iommufd: Add IOMMU_HWPT_INVALIDATE" (6.8; read in the 6.9 tree): the table grows to 0x8d',
  'iommufd-hwpt-alloc-user-data':
    '"iommufd: Add IOMMU_HWPT_ALLOC nesting" and "iommufd: Support allocating nested parent domain" (6.7; read in the 6.9 tree): iommu_hwpt_alloc grows to 40 bytes (data_type, data_len, data_uptr), flags NEST_PARENT / DIRTY_TRACKING reach ops->domain_alloc_user, pt_id may name a HWPT_PAGING (a nested HWPT) and any other or missing pt_id is EINVAL (6.6: iommufd_get_ioas ENOENT, flags EOPNOTSUPP)',
  'iommufd-hw-info-capabilities':
    '"iommufd: Add a flag to report the dirty tracking capability" (6.7; read in the 6.9 tree): iommu_hw_info grows to 40 bytes with out_capabilities (IOMMU_HW_CAP_DIRTY_TRACKING)',
  'iommufd-hw-info-pasid':
    '"iommufd: Extend IOMMU_GET_HW_INFO to report PASID capability" (6.13; in Debian 6.12.117): the __u32 __reserved becomes __u8 out_max_pasid_log2 + __u8 __reserved[3], so only bytes 29..31 must be zero',
  'iommufd-hwpt-alloc-flag-checks':
    'iommufd_hwpt_paging_alloc checks DIRTY_TRACKING against IOMMU_CAP_DIRTY_TRACKING and FAULT_ID_VALID with NEST_PARENT before allocating the object (read in Debian 6.12.117; not in the 6.9 or 6.10-rc5 trees)',
  'vtd-user-domain-second-stage':
    'intel_iommu_domain_alloc_user allocates with paging_domain_alloc(dev, false), "Do not use first stage for user domain translation" (read in Debian 6.12.117). The 6.9 and 6.10-rc5 trees use iommu_domain_alloc, whose alloc_domain takes the first stage when the unit has FLTS without SLTS (first_level_by_default), and then refuse DIRTY_TRACKING on it (dmar_domain->use_first_level, EOPNOTSUPP)',
  'vtd-ssads-needs-smpwc':
    "ssads_supported(iommu) also needs ecap_smpwc (read in Debian 6.12.117's iommu.h); in the 6.9 and 6.10-rc5 trees it is sm_supported && ecap_slads",
  'iommufd-dirty-bitmap-length-check':
    'iommufd_check_iova_range refuses length 0 first (EINVAL; in Debian 6.12.117). The 6.9 tree has no such check: length - 1 wraps, so a non-zero iova is EOVERFLOW and iova 0 passes',
  'iommufd-invalidate-bounds':
    'iommufd_hwpt_invalidate bounds entry_len (<= PAGE_SIZE) and entry_num (<= 1 << 19), EINVAL (in Debian 6.12.117; the 6.9 tree checks only !data_uptr || !entry_len)',
  'iommufd-fault-queue':
    '"iommufd: Add iommufd fault object" (6.11; read in Debian 6.12.117): IOMMU_FAULT_QUEUE_ALLOC, the table grows to 0x8e',
  'iommufd-compat-unmap-empty':
    'afb47765f923 "iommufd: Make vfio_compats unmap succeed if the range is already empty" (6.18, stable 6.12.59): compat UNMAP_DMA of nothing is 0, not ENOENT',
  'iommufd-map-needs-prot':
    '"iommufd: Do not allow creating areas without READ or WRITE" (absent from the 6.9 and 6.10-rc5 trees, present in Debian 6.12.117 without a stable entry: taken as a late 6.10-rc fix, as 5a88a3f67e37 is, UNVERIFIED): IOAS_MAP and IOAS_COPY with neither READABLE nor WRITEABLE are EINVAL before the IOAS lookup (before it, such an area was made)',
  'iommufd-alloc-iova-align-clamp':
    '"iommufd: Prevent ALIGN() overflow" (stable 6.12.y, in Debian 6.12.117): iopt_alloc_iova caps the IOVA alignment at HPAGE_SIZE and __alloc_iova_check_range refuses an aligned start that overflows or reaches the span\'s last byte',
  'iommufd-vfio-container':
    'a build option, not a release: CONFIG_IOMMUFD_VFIO_CONTAINER=y (so CONFIG_VFIO_CONTAINER=n): iommufd serves /dev/vfio/vfio (vfio_compat.c)',
  'hot-reset-dev-id':
    '9062ff405b49 + 71791b9246c7 (6.6): hot-reset INFO reports dev_ids (DEV_ID, DEV_ID_OWNED) to cdev users; PCI_HOT_RESET takes an empty list from them, and its count / open-mode check precedes ENODEV',
  'hot-reset-info-partial-fill':
    'b56b7aabcf3c "vfio/pci: Copy hot-reset device info to userspace in the devices loop" (6.6) until f6944d4a0b87 (6.10): INFO fills the entries that fit, then ENOSPC with count and flags',
  'hot-reset-info-kernel-buffer':
    'f6944d4a0b87 + cbb325e77fbe + 5a88a3f67e37 (6.10 final): INFO counts first again, ENOSPC with flags 0, ERANGE on a zero count',
  'hot-reset-groups-u32-count':
    '"vfio/pci: clean up a type in vfio_pci_ioctl_pci_hot_reset_groups()" (Dan Carpenter, 6.12): array_count is u32, so a count above INT_MAX is EINVAL; 6.6 – 6.11 took it as a negative int and kcalloc failed (ENOMEM)',
} as const;

export type ProfileFeature = keyof typeof FEATURES;

export const PATCHES = {
  'vhost-iotlb-remap':
    'VHOST_IOTLB_REMAP (type 7) and VHOST_BACKEND_F_IOTLB_REMAP: RFC Jan 2024, V2 Jul 2024, never merged',
  'vhost-new-owner': 'VHOST_NEW_OWNER and VHOST_BACKEND_F_NEW_OWNER: RFC Jan 2024, V2 Jul 2024, never merged',
} as const;

export type PatchName = keyof typeof PATCHES;

const ALL_FAMILIES: readonly Family[] = [
  'vhost-net',
  'vhost-vsock',
  'vhost-vdpa',
  'tun',
  'vfio',
  'iommufd',
  'vfio-cdev',
  'kvm',
];
const VFIO_ONLY: readonly Family[] = ['vfio', 'kvm'];

interface ProfileSpec {
  readonly version: string;
  readonly description: string;
  readonly families: readonly Family[];
  readonly features: readonly ProfileFeature[];
  /** patches may be applied only on the tree they were posted against (6.10) or later */
  readonly patchBase: boolean;
}

const F_511: ProfileFeature[] = ['vsock-iotlb'];
const F_515: ProfileFeature[] = [...F_511, 'vsock-seqpacket', 'vdpa-sim-blk'];
const F_517: ProfileFeature[] = [
  ...F_515,
  'vsock-release-no-owner-check',
  'iotlb-size0-check',
  'iotlb-split-full-range',
];
const F_61_DEBIAN: ProfileFeature[] = [
  ...F_517,
  'iotlb-invalidate-size0',
  'net-backend-clear-msg',
  'vdpa-config-size-ioctls',
  'vdpa-asid',
  'vdpa-keep-empty-as',
  'vdpa-suspend',
  'vdpa-blk-secure-erase',
  'vdpa-group-bound-check',
  'iotlb-limit-enospc',
];
/** vhost-vdpa and vdpa_sim of mainline 6.5: everything up to use_va (6.4) */
const VDPA_65: ProfileFeature[] = [
  'vdpa-config-size-ioctls',
  'vdpa-asid',
  'vdpa-keep-empty-as',
  'vdpa-suspend',
  'vdpa-resume',
  'vdpa-blk-secure-erase',
  'vdpa-blk-zoned',
  'vdpa-sim-use-va',
];
/** vhost-vdpa and vdpa_sim of mainline 6.6 */
const VDPA_66: ProfileFeature[] = [...VDPA_65, 'vdpa-enable-after-driver-ok'];
const VDPA_69: ProfileFeature[] = [
  ...VDPA_66,
  'vdpa-sim-net-status',
  'vdpa-desc-asid-persist',
  'vdpa-suspended-state',
  'vdpa-vring-size',
];
/** vhost of mainline 6.5: vhost_task workers (6.4), not yet the size-0 INVALIDATE of 6.6 */
const F_65: ProfileFeature[] = [
  ...F_517,
  'net-ring-reset',
  'vhost-worker-task',
  'access-ok-sign-bit',
  'net-backend-clear-msg',
];
const F_66: ProfileFeature[] = [...F_65, 'iotlb-invalidate-size0'];
/** Debian's 6.12.117 (both builds of it) */
const F_612_DEBIAN: ProfileFeature[] = [
  // 86e6b1547b3d (6.12): valid_user_address() compares with USER_PTR_MAX again
  ...F_66.filter((f) => f !== 'access-ok-sign-bit'),
  'vsock-drop-iotlb',
  'net-drop-iotlb',
  'iotlb-invalidate-vrings',
  ...VDPA_69,
  'vdpa-group-bound-check',
  'vdpa-vring-num-max',
  'iotlb-limit-enospc',
];

const SPECS: readonly ProfileSpec[] = [
  {
    version: '3.19',
    description: 'mainline v3.19 (vfio paths only)',
    families: VFIO_ONLY,
    features: [],
    patchBase: false,
  },
  {
    version: '4.0',
    description: 'mainline v4.0 (vfio paths only)',
    families: VFIO_ONLY,
    features: [],
    patchBase: false,
  },
  {
    version: '5.10',
    description: 'mainline v5.10',
    families: ALL_FAMILIES,
    features: [],
    patchBase: false,
  },
  {
    version: '5.15',
    description: 'mainline v5.15',
    families: ALL_FAMILIES,
    features: F_515,
    patchBase: false,
  },
  {
    version: '5.18',
    description: 'mainline v5.18 (vfio paths only)',
    families: VFIO_ONLY,
    features: F_517,
    patchBase: false,
  },
  {
    version: '6.1',
    description: "Debian's 6.1.192-2 build (the oracle's kernel), stable backports included",
    families: ALL_FAMILIES,
    features: F_61_DEBIAN,
    patchBase: false,
  },
  {
    version: '6.5',
    description: 'mainline v6.5 (iommufd, no vfio device cdev; the last release before dev_id hot reset)',
    families: ALL_FAMILIES,
    features: [...F_65, ...VDPA_65],
    patchBase: false,
  },
  {
    version: '6.6',
    description: 'mainline v6.6',
    families: ALL_FAMILIES,
    features: [...F_66, ...VDPA_66],
    patchBase: false,
  },
  {
    version: '6.9',
    description: 'mainline v6.9',
    families: ALL_FAMILIES,
    features: [...F_66, ...VDPA_69],
    patchBase: false,
  },
  {
    version: '6.10',
    description: 'mainline v6.10',
    families: ALL_FAMILIES,
    features: [...F_66, ...VDPA_69],
    patchBase: true,
  },
  {
    version: '6.12',
    description:
      "Debian's 6.12.117 source, built with iommufd and the vfio cdev (the oracle's second kernel)",
    families: ALL_FAMILIES,
    features: F_612_DEBIAN,
    patchBase: true,
  },
  {
    // The same source with the other Kconfig choice for /dev/vfio/vfio (vfio.md §5.7)
    version: '6.12-iommufd-vfio-container',
    description:
      'the "6.12" build with CONFIG_IOMMUFD_VFIO_CONTAINER=y: iommufd provides /dev/vfio/vfio (vfio paths only)',
    families: ['vfio', 'iommufd', 'vfio-cdev', 'kvm'],
    features: F_612_DEBIAN,
    patchBase: true,
  },
];

/** The vfio-path features of each profile (vfio.md §17), merged into the profile's list. */
const VFIO_CLASSIC_510: ProfileFeature[] = [
  'vfio-unbound-list',
  'kvm-vfio-del-by-file',
  'vfio-container-q-stall',
  'vfio-viable-bridges',
  'vfio-pci-match-op',
  'type1-info-caps',
  'type1-iova-list',
  'type1-unmap-own-mm',
];
const VFIO_515: ProfileFeature[] = [
  ...VFIO_CLASSIC_510,
  'vfio-pci-core',
  'vfio-device-registration-ref',
  'vfio-pci-dev-set',
  'type1-vaddr',
  'driver-core-probe-errno',
];
const VFIO_61: ProfileFeature[] = [
  'kvm-vfio-del-by-file',
  'vtd-no-enable-nesting',
  'vfio-pci-core',
  'vfio-pci-ioctl-split',
  'vfio-pci-match-op',
  'type1-info-caps',
  'type1-iova-list',
  'vfio-device-registration-ref',
  'vfio-pci-dev-set',
  'type1-vaddr',
  'type1-vaddr-restricted',
  'driver-core-probe-errno',
  'vfio-dma-ownership',
  'vfio-group-disassociate',
  'vfio-group-fdget-first',
];
/** mainline 6.5: the 6.2 changes (group.c's EBADFD, kvm-vfio release, iommufd), none of 6.6's */
const VFIO_65: ProfileFeature[] = [...VFIO_61, 'vfio-set-container-ebadfd', 'kvm-vfio-release', 'iommufd'];
const VFIO_66: ProfileFeature[] = [
  ...VFIO_65,
  'vfio-unbind-removes-first',
  'vfio-device-cdev',
  'vfio-info-cap-align',
  'kvm-vfio-file',
  'kvm-vfio-file-names',
  'hot-reset-dev-id',
  'iommufd-hwpt-alloc',
];
/** 6.7 / 6.8's iommufd commands, in the 6.9 tree (and so in 6.10 and 6.12) */
const IOMMUFD_69: ProfileFeature[] = [
  'iommufd-dirty-tracking',
  'iommufd-hwpt-invalidate',
  'iommufd-hwpt-alloc-user-data',
  'iommufd-hw-info-capabilities',
];
/** what Debian 6.12.117's iommufd has beyond the 6.9 tree and 6.11's fault queue */
const IOMMUFD_612: ProfileFeature[] = [
  'iommufd-fault-queue',
  'iommufd-hw-info-pasid',
  'iommufd-hwpt-alloc-flag-checks',
  'iommufd-invalidate-bounds',
  'iommufd-dirty-bitmap-length-check',
  'vtd-user-domain-second-stage',
  'vtd-ssads-needs-smpwc',
];
const VFIO_BY_VERSION: Readonly<Record<string, readonly ProfileFeature[]>> = {
  '3.19': [],
  '4.0': ['vfio-unbound-list'],
  '5.10': VFIO_CLASSIC_510,
  '5.15': VFIO_515,
  '5.18': VFIO_515,
  '6.1': [...VFIO_61, 'kvm-vfio-file-names'],
  '6.5': VFIO_65,
  '6.6': [...VFIO_66, 'hot-reset-info-partial-fill'],
  '6.9': [...VFIO_66, ...IOMMUFD_69, 'hot-reset-info-partial-fill'],
  '6.10': [...VFIO_66, ...IOMMUFD_69, 'hot-reset-info-kernel-buffer', 'iommufd-map-needs-prot'],
  '6.12': [
    ...VFIO_66,
    ...IOMMUFD_69,
    ...IOMMUFD_612,
    'type1-paging-domain-alloc',
    'hot-reset-info-kernel-buffer',
    'hot-reset-groups-u32-count',
    'iommufd-compat-unmap-empty',
    'iommufd-map-needs-prot',
    'iommufd-alloc-iova-align-clamp',
  ],
  '6.12-iommufd-vfio-container': [
    ...VFIO_66,
    ...IOMMUFD_69,
    ...IOMMUFD_612,
    'type1-paging-domain-alloc',
    'hot-reset-info-kernel-buffer',
    'hot-reset-groups-u32-count',
    'iommufd-compat-unmap-empty',
    'iommufd-map-needs-prot',
    'iommufd-alloc-iova-align-clamp',
    'iommufd-vfio-container',
  ],
};

export const DEFAULT_PROFILE = '6.12';

export class KernelProfile {
  private readonly features: ReadonlySet<ProfileFeature>;
  readonly families: ReadonlySet<Family>;

  constructor(
    private readonly spec: ProfileSpec,
    readonly patches: ReadonlySet<PatchName>,
  ) {
    this.features = new Set([...spec.features, ...(VFIO_BY_VERSION[spec.version] ?? [])]);
    this.families = new Set(spec.families);
  }

  get version(): string {
    return this.spec.version;
  }

  get description(): string {
    return this.spec.description;
  }

  has(feature: ProfileFeature): boolean {
    return this.features.has(feature);
  }

  hasPatch(p: PatchName): boolean {
    return this.patches.has(p);
  }

  models(family: Family): boolean {
    return this.families.has(family);
  }
}

export function profileVersions(): string[] {
  return SPECS.map((s) => s.version);
}

export function isPatchName(s: string): s is PatchName {
  return Object.hasOwn(PATCHES, s);
}

/** Why a profile / patch combination cannot be built, or the profile. */
export function makeProfile(version: string, patches: readonly string[]): KernelProfile | string {
  const spec = SPECS.find((s) => s.version === version);
  if (!spec) return `unknown kernel profile "${version}" (known: ${profileVersions().join(', ')})`;
  const set = new Set<PatchName>();
  for (const p of patches) {
    if (!isPatchName(p)) return `unknown patch "${p}" (known: ${Object.keys(PATCHES).join(', ')})`;
    if (!spec.patchBase) return `patch "${p}" is based on 6.10: it cannot be applied to kernel "${version}"`;
    set.add(p);
  }
  return new KernelProfile(spec, set);
}

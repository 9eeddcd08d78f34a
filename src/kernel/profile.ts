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
    'x86 access_ok() as valid_user_address(): user space ends at the sign bit, not TASK_SIZE_MAX (seen on both oracle kernels)',
  'vhost-worker-task': 'vhost_task workers (6.4): worker creation errors reported as ENOMEM',
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
const F_515: ProfileFeature[] = [...F_511, 'vsock-seqpacket'];
const F_517: ProfileFeature[] = [
  ...F_515,
  'vsock-release-no-owner-check',
  'iotlb-size0-check',
  'iotlb-split-full-range',
];
const F_61_DEBIAN: ProfileFeature[] = [
  ...F_517,
  'iotlb-invalidate-size0',
  'access-ok-sign-bit',
  'net-backend-clear-msg',
];
const F_66: ProfileFeature[] = [
  ...F_517,
  'iotlb-invalidate-size0',
  'net-ring-reset',
  'vhost-worker-task',
  'access-ok-sign-bit',
  'net-backend-clear-msg',
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
    version: '6.6',
    description: 'mainline v6.6',
    families: ALL_FAMILIES,
    features: F_66,
    patchBase: false,
  },
  { version: '6.9', description: 'mainline v6.9', families: ALL_FAMILIES, features: F_66, patchBase: false },
  { version: '6.10', description: 'mainline v6.10', families: ALL_FAMILIES, features: F_66, patchBase: true },
  {
    version: '6.12',
    description:
      "Debian's 6.12.117 source, built with iommufd and the vfio cdev (the oracle's second kernel)",
    families: ALL_FAMILIES,
    features: [...F_66, 'vsock-drop-iotlb'],
    patchBase: true,
  },
];

export const DEFAULT_PROFILE = '6.12';

export class KernelProfile {
  private readonly features: ReadonlySet<ProfileFeature>;
  readonly families: ReadonlySet<Family>;

  constructor(
    private readonly spec: ProfileSpec,
    readonly patches: ReadonlySet<PatchName>,
  ) {
    this.features = new Set(spec.features);
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

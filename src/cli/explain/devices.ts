// Which devices answer an ioctl: the fd types of its table (src/uapi) and, for those opened from a
// device node, the nodes of the default machine, with the profiles on which the node exists (asked
// of the drivers themselves, as `open` would).
import { registerDrivers } from '../../drivers/index.js';
import { Kernel } from '../../kernel/kernel.js';
import { DEFAULT_MACHINE } from '../../kernel/machine.js';
import { makeProfile, profileVersions } from '../../kernel/profile.js';
import type { IoctlDef } from '../../uapi/ioctl-def.js';

export interface DeviceRow {
  /** the fd type (the ioctl table's family, or a vhost device for the shared core) */
  readonly fd: string;
  /** a device node of the default machine, or how such an fd is made */
  readonly node: string;
  /** profiles on which the node exists on the default machine; empty for fds made by an ioctl */
  readonly kernels: readonly string[];
  /** profiles that model the node's family at all (the ranges of `kernels` are counted among them) */
  readonly modelled: readonly string[];
}

/** fd types that are not opened from a node: how a program gets one */
const MADE_BY: Readonly<Record<string, string>> = {
  'vfio-device': 'the fd VFIO_GROUP_GET_DEVICE_FD returns (or /dev/vfio/devices/vfioN)',
  'kvm-vm': 'the fd KVM_CREATE_VM returns',
  'kvm-device': 'the fd KVM_CREATE_DEVICE returns',
};

/** Device nodes of the default machine, by the fd type an open of them gives. */
function nodesOf(fd: string): string[] {
  switch (fd) {
    case 'vhost-net':
      return ['/dev/vhost-net'];
    case 'vhost-vsock':
      return ['/dev/vhost-vsock'];
    case 'vhost-vdpa':
      return DEFAULT_MACHINE.vdpa.map((_, i) => `/dev/vhost-vdpa-${i}`);
    case 'tun':
      return ['/dev/net/tun'];
    case 'vfio-container':
      return ['/dev/vfio/vfio'];
    case 'iommufd':
      return ['/dev/iommu'];
    case 'kvm':
      return ['/dev/kvm'];
    default:
      return [];
  }
}

/** The fd types that answer a table's ioctls: the vhost core's are answered by every vhost device. */
function fdTypesOf(d: IoctlDef): string[] {
  return d.family === 'vhost' ? ['vhost-net', 'vhost-vsock', 'vhost-vdpa'] : [d.family];
}

let kernels: Kernel[] | undefined;

function bootedKernels(): Kernel[] {
  if (!kernels) {
    kernels = [];
    for (const v of profileVersions()) {
      const p = makeProfile(v, []);
      if (typeof p === 'string') continue;
      const k = new Kernel(p, DEFAULT_MACHINE);
      registerDrivers(k);
      kernels.push(k);
    }
  }
  return kernels;
}

function modelledOn(path: string): Kernel[] {
  return bootedKernels().filter((k) => {
    const d = k.drivers.claim(path);
    return d !== undefined && k.profile.models(d.family);
  });
}

function existsOn(path: string): string[] {
  return modelledOn(path)
    .filter((k) => k.drivers.claim(path)?.exists(k, path))
    .map((k) => k.profile.version);
}

const VFIO_GROUP_NODE = '/dev/vfio/GROUP (a group whose devices are bound to vfio-pci)';

export function devicesOf(d: IoctlDef): DeviceRow[] {
  const rows: DeviceRow[] = [];
  for (const fd of fdTypesOf(d)) {
    const made = MADE_BY[fd];
    if (made) rows.push({ fd, node: made, kernels: [], modelled: [] });
    else if (fd === 'vfio-group') rows.push({ fd, node: VFIO_GROUP_NODE, kernels: [], modelled: [] });
    for (const node of nodesOf(fd)) {
      const modelled = modelledOn(node).map((k) => k.profile.version);
      rows.push({ fd, node, kernels: existsOn(node), modelled });
    }
  }
  return rows;
}

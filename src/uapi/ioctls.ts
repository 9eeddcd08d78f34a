// Every ioctl vioctl knows, by name and by number. Numbers repeat across fd
// types (VFIO's do), so a number maps to a list of candidates.
import type { IoctlDef } from './ioctl-def.js';
import { IOMMUFD_IOCTLS } from './iommufd.js';
import { KVM_IOCTLS } from './kvm.js';
import { TUN_IOCTLS } from './tun.js';
import { VFIO_IOCTLS } from './vfio.js';
import { VHOST_IOCTLS } from './vhost.js';

export const ALL_IOCTLS: readonly IoctlDef[] = [
  ...VHOST_IOCTLS,
  ...TUN_IOCTLS,
  ...VFIO_IOCTLS,
  ...IOMMUFD_IOCTLS,
  ...KVM_IOCTLS,
];

const BY_NAME = new Map(ALL_IOCTLS.map((d) => [d.name, d]));
const BY_NUMBER = new Map<number, IoctlDef[]>();
for (const d of ALL_IOCTLS) {
  const l = BY_NUMBER.get(d.number);
  if (l) l.push(d);
  else BY_NUMBER.set(d.number, [d]);
}

export function ioctlByName(name: string): IoctlDef | undefined {
  return BY_NAME.get(name);
}

export function ioctlsByNumber(n: number): readonly IoctlDef[] {
  return BY_NUMBER.get(n >>> 0) ?? [];
}

// include/uapi/linux/kvm.h: the few KVM ioctls the kvm-vfio paths need (vfio.md §2.3).
import { type ArgShape, defineIoctl, type IoctlDef } from './ioctl-def.js';
import { struct } from './struct.js';

export const KVMIO = 0xae;

export const kvm_create_device = struct('kvm_create_device', [
  ['type', 'u32'],
  ['fd', 'u32', 'fd', 'out'],
  ['flags', 'u32'],
]);
export const kvm_device_attr = struct('kvm_device_attr', [
  ['flags', 'u32'],
  ['group', 'u32'],
  ['attr', 'u64'],
  ['addr', 'u64', 'pointer'],
]);

const value: ArgShape = { kind: 'value' };
const attr: ArgShape = { kind: 'struct', def: kvm_device_attr };

export const KVM_IOCTLS: readonly IoctlDef[] = [
  defineIoctl('KVM_GET_API_VERSION', 'kvm', 'none', KVMIO, 0x00, value),
  defineIoctl('KVM_CREATE_VM', 'kvm', 'none', KVMIO, 0x01, value),
  defineIoctl('KVM_CHECK_EXTENSION', 'kvm', 'none', KVMIO, 0x03, value),
  defineIoctl('KVM_CREATE_VCPU', 'kvm-vm', 'none', KVMIO, 0x41, value),
  defineIoctl('KVM_CREATE_DEVICE', 'kvm-vm', 'rw', KVMIO, 0xe0, { kind: 'struct', def: kvm_create_device }),
  defineIoctl('KVM_SET_DEVICE_ATTR', 'kvm-device', 'w', KVMIO, 0xe1, attr),
  defineIoctl('KVM_GET_DEVICE_ATTR', 'kvm-device', 'w', KVMIO, 0xe2, attr),
  defineIoctl('KVM_HAS_DEVICE_ATTR', 'kvm-device', 'w', KVMIO, 0xe3, attr),
];

const BY_NAME: ReadonlyMap<string, IoctlDef> = new Map(KVM_IOCTLS.map((d) => [d.name, d]));

export function kvmNr(name: string): number {
  const d = BY_NAME.get(name);
  if (!d) throw new Error(`internal: no kvm ioctl ${name}`);
  return d.number;
}

export const KVM_API_VERSION = 12;
export const KVM_DEV_TYPE_VFIO = 4;
export const KVM_CREATE_DEVICE_TEST = 1;
export const KVM_DEV_VFIO_GROUP = 1n;
export const KVM_DEV_VFIO_GROUP_ADD = 1n;
export const KVM_DEV_VFIO_GROUP_DEL = 2n;

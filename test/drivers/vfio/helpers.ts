// A kernel on the default machine (with /dev/kvm when asked) and the sysfs / ioctl steps the
// vfio tests repeat.
import { expect } from 'vitest';
import { registerDrivers } from '../../../src/drivers/index.js';
import { Kernel, O_RDWR } from '../../../src/kernel/kernel.js';
import { DEFAULT_MACHINE } from '../../../src/kernel/machine.js';
import type { Process } from '../../../src/kernel/process.js';
import { type KernelProfile, makeProfile } from '../../../src/kernel/profile.js';
import type { SysfsOutcome } from '../../../src/kernel/registry.js';
import { iommufdNr } from '../../../src/uapi/iommufd.js';
import { kvm_create_device, kvm_device_attr, kvmNr } from '../../../src/uapi/kvm.js';
import { encodeStruct } from '../../../src/uapi/struct.js';
import { vfioNr } from '../../../src/uapi/vfio.js';

export interface VF {
  k: Kernel;
  p: Process;
}

export function vfioKernel(version: string, kvm = false): VF {
  const prof = makeProfile(version, []);
  if (typeof prof === 'string') throw new Error(prof);
  const k = new Kernel(prof as KernelProfile, { ...DEFAULT_MACHINE, kvm });
  registerDrivers(k);
  return { k, p: k.spawn('main') };
}

export function fdOf(r: SysfsOutcome): number {
  if (r.ok !== true) throw new Error(`expected success, got ${JSON.stringify(r)}`);
  return Number(r.ret);
}

export function open(f: VF, path: string): number {
  return fdOf(f.k.open(f.p, path, O_RDWR));
}

/** driver_override then drivers_probe, as scenario.md's `bind:` does for a driverless device */
export function bindTo(f: VF, bdf: string, driver: string): SysfsOutcome {
  const r = f.k.sysfsWrite(f.p, `/sys/bus/pci/devices/${bdf}/driver_override`, driver);
  if (r.ok !== true) return r;
  return f.k.sysfsWrite(f.p, '/sys/bus/pci/drivers_probe', bdf);
}

export function io(f: VF, fd: number, name: string, arg = 0n): SysfsOutcome {
  return f.k.ioctl(f.p, fd, vfioNr(name), arg);
}

export function setContainer(f: VF, group: number, container: number): SysfsOutcome {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, container, true);
  return io(f, group, 'VFIO_GROUP_SET_CONTAINER', f.k.stage(f.p, b));
}

export function getDeviceFd(f: VF, group: number, bdf: string): SysfsOutcome {
  return io(f, group, 'VFIO_GROUP_GET_DEVICE_FD', f.k.stage(f.p, new TextEncoder().encode(`${bdf}\0`)));
}

export function groupFlags(f: VF, group: number): number | string {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, 8, true);
  const a = f.k.stage(f.p, b);
  const r = io(f, group, 'VFIO_GROUP_GET_STATUS', a);
  if (r.ok !== true) return r.ok === false ? r.errno : String(r.ok);
  return new DataView(f.p.mm.copyFromUser(a, 8)!.buffer).getUint32(4, true);
}

/** A container with `group` in it and type1v2 set. */
export function attached(f: VF, bdf: string, group: number): { c: number; g: number } {
  expect(bindTo(f, bdf, 'vfio-pci').ok).toBe(true);
  const c = open(f, '/dev/vfio/vfio');
  const g = open(f, `/dev/vfio/${group}`);
  expect(setContainer(f, g, c).ok).toBe(true);
  expect(io(f, c, 'VFIO_SET_IOMMU', 3n).ok).toBe(true);
  return { c, g };
}

/** /dev/kvm → VM → the kvm-vfio device; returns the vm and device fds. */
export function kvmVfio(f: VF): { vm: number; dev: number } {
  const kvm = open(f, '/dev/kvm');
  const vm = fdOf(f.k.ioctl(f.p, kvm, kvmNr('KVM_CREATE_VM'), 0n));
  const a = f.k.stage(f.p, encodeStruct(kvm_create_device, { type: 4n, fd: 0n, flags: 0n }));
  expect(f.k.ioctl(f.p, vm, kvmNr('KVM_CREATE_DEVICE'), a).ok).toBe(true);
  const dev = new DataView(f.p.mm.copyFromUser(a + 4n, 4)!.buffer).getUint32(0, true);
  f.k.close(f.p, kvm);
  return { vm, dev };
}

export function kvmGroup(f: VF, dev: number, attr: bigint, groupFd: number, group = 1n): SysfsOutcome {
  const fdb = new Uint8Array(4);
  new DataView(fdb.buffer).setInt32(0, groupFd, true);
  const addr = f.k.stage(f.p, fdb, 0x800n);
  const a = f.k.stage(f.p, encodeStruct(kvm_device_attr, { flags: 0n, group, attr, addr }));
  return f.k.ioctl(f.p, dev, kvmNr('KVM_SET_DEVICE_ATTR'), a);
}

export function errnoOf(r: SysfsOutcome): string | number | null {
  if (r.ok === false) return r.errno;
  if (r.ok === true) return Number(r.ret);
  return r.ok;
}

/** errno and the site's function, or the return value and null */
export function site(r: SysfsOutcome): [string | number | null, string | null] {
  return [errnoOf(r), r.ok === false ? r.site.function : null];
}

/** little-endian words [value, width] into a staged buffer */
export function words(f: VF, ws: [bigint, 4 | 8][]): bigint {
  const b = new Uint8Array(ws.reduce((n, [, w]) => n + w, 0));
  const v = new DataView(b.buffer);
  let off = 0;
  for (const [x, w] of ws) {
    if (w === 4) v.setUint32(off, Number(x), true);
    else v.setBigUint64(off, x, true);
    off += w;
  }
  return f.k.stage(f.p, b);
}

/** an iommufd ioctl by name on fd */
export const iofd = (f: VF, fd: number, name: string, arg: bigint) =>
  f.k.ioctl(f.p, fd, iommufdNr(name), arg);

/** IOMMU_IOAS_UNMAP of [iova, iova + length) in IOAS id: errno and site, as site() gives them */
export const ioasUnmap = (f: VF, fd: number, id: bigint, iova: bigint, length: bigint) =>
  site(
    iofd(
      f,
      fd,
      'IOMMU_IOAS_UNMAP',
      words(f, [
        [24n, 4],
        [id, 4],
        [iova, 8],
        [length, 8],
      ]),
    ),
  );

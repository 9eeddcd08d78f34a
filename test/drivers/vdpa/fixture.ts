// A kernel with /dev/vhost-vdpa-N open, and the message and ioctl shorthands the vdpa tests share.
import { registerDrivers } from '../../../src/drivers/index.js';
import { Kernel, O_RDWR } from '../../../src/kernel/kernel.js';
import { buildMachine, isMachineError, type Machine } from '../../../src/kernel/machine.js';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/memory.js';
import { type KernelProfile, makeProfile } from '../../../src/kernel/profile.js';
import type { SysOutcome } from '../../../src/kernel/result.js';
import { vhost_vring_state } from '../../../src/uapi/vhost.js';
import { expectOk, type Fixture, ioctlStruct, ioctlU64, nr } from '../../helpers/kernel.js';

export interface Vdpa extends Fixture {
  fd: number;
}

export function kernel(version = '6.1', patches: string[] = [], machine?: unknown): Fixture {
  const prof = makeProfile(version, patches);
  if (typeof prof === 'string') throw new Error(prof);
  let m: Machine | undefined;
  if (machine !== undefined) {
    const b = buildMachine(machine);
    if (isMachineError(b)) throw new Error(b.message);
    m = b;
  }
  const k = new Kernel(prof as KernelProfile, m);
  registerDrivers(k);
  return { k, p: k.spawn('main') };
}

export function vdpa(version = '6.1', node = 0, patches: string[] = [], machine?: unknown): Vdpa {
  const f = kernel(version, patches, machine);
  const r = f.k.open(f.p, `/dev/vhost-vdpa-${node}`, O_RDWR);
  expectOk(r);
  return { ...f, fd: Number((r as { ret: number }).ret) };
}

export function owned(version = '6.1', node = 0, patches: string[] = [], machine?: unknown): Vdpa {
  const f = vdpa(version, node, patches, machine);
  expectOk(f.k.ioctl(f.p, f.fd, nr('VHOST_SET_OWNER'), 0n));
  return f;
}

/** anonymous or memfd memory of the main process */
export function mem(f: Fixture, size: bigint, kind: 'anon' | 'memfd' | 'shared-anon' = 'anon'): bigint {
  const r = f.k.mmap(f.p, { size, prot: PROT_READ | PROT_WRITE, kind });
  expectOk(r);
  return BigInt((r as { ret: number | bigint }).ret);
}

export const UPDATE = 2;
export const INVALIDATE = 3;
export const BATCH_BEGIN = 5;
export const BATCH_END = 6;
export const REMAP = 7;
export const RW = 3;

export interface Msg {
  type: number;
  iova?: bigint;
  size?: bigint;
  uaddr?: bigint;
  perm?: number;
  asid?: number;
  v1?: boolean;
}

/** write(2) of one struct vhost_msg_v2 (or v1) */
export function iotlb(f: Vdpa, m: Msg, proc = f.p): SysOutcome {
  const b = new Uint8Array(72);
  const v = new DataView(b.buffer);
  v.setUint32(0, m.v1 ? 1 : 2, true);
  if (!m.v1) v.setUint32(4, m.asid ?? 0, true);
  v.setBigUint64(8, m.iova ?? 0n, true);
  v.setBigUint64(16, m.size ?? 0n, true);
  v.setBigUint64(24, m.uaddr ?? 0n, true);
  b[32] = m.perm ?? 0;
  b[33] = m.type;
  return f.k.write(proc, f.fd, f.k.stage(proc, b), 72);
}

export const bf = (f: Vdpa, v: bigint): SysOutcome => ioctlU64(f, f.fd, 'VHOST_SET_BACKEND_FEATURES', v).r;
export const status = (f: Vdpa, s: number): SysOutcome => {
  return f.k.ioctl(f.p, f.fd, nr('VHOST_VDPA_SET_STATUS'), f.k.stage(f.p, new Uint8Array([s])));
};
export const vstate = (f: Vdpa, name: string, index: number, num = 0): SysOutcome =>
  ioctlStruct(f, f.fd, name, vhost_vring_state, { index: BigInt(index), num: BigInt(num) });
export const io = (f: Vdpa, name: string, arg = 0n, proc = f.p): SysOutcome =>
  f.k.ioctl(proc, f.fd, nr(name), arg);

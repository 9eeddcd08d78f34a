// One fixture per setup (the iommufd selftests' habit): a kernel of a profile
// with every driver registered, a main process, and paired result helpers.
import { expect } from 'vitest';
import { registerDrivers } from '../../src/drivers/index.js';
import { Kernel, O_RDWR } from '../../src/kernel/kernel.js';
import type { Process } from '../../src/kernel/process.js';
import { type KernelProfile, makeProfile } from '../../src/kernel/profile.js';
import type { SysOutcome } from '../../src/kernel/result.js';
import type { ErrnoName } from '../../src/uapi/errno.js';
import { ioctlByName } from '../../src/uapi/ioctls.js';
import { encodeStruct, type StructDef } from '../../src/uapi/struct.js';

export interface Fixture {
  k: Kernel;
  p: Process;
}

export function makeKernel(version = '6.1', patches: string[] = []): Fixture {
  const prof = makeProfile(version, patches);
  if (typeof prof === 'string') throw new Error(prof);
  const k = new Kernel(prof as KernelProfile);
  registerDrivers(k);
  return { k, p: k.spawn('main') };
}

export function expectOk(r: SysOutcome, ret?: number | bigint): void {
  if (r.ok !== true)
    throw new Error(
      `expected success, got ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
    );
  if (ret !== undefined) expect(r.ret).toBe(ret);
}

export function expectErrno(r: SysOutcome, errno: ErrnoName, innerOrFn?: string): void {
  expect(r.ok).toBe(false);
  if (r.ok !== false) return;
  expect(r.errno).toBe(errno);
  if (innerOrFn) expect([r.site.errno, r.site.function]).toContain(innerOrFn);
}

export function openFd(f: Fixture, path: string): number {
  const r = f.k.open(f.p, path, O_RDWR);
  expectOk(r);
  return (r as { ret: number }).ret;
}

export function nr(name: string): number {
  const d = ioctlByName(name);
  if (!d) throw new Error(`no ioctl ${name}`);
  return d.number;
}

/** ioctl with a u64 argument in the caller's memory; returns the result and the value read back. */
export function ioctlU64(f: Fixture, fd: number, name: string, v = 0n): { r: SysOutcome; out: bigint } {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  const addr = f.k.stage(f.p, b);
  const r = f.k.ioctl(f.p, fd, nr(name), addr);
  const back = f.p.mm.copyFromUser(addr, 8)!;
  return { r, out: new DataView(back.buffer).getBigUint64(0, true) };
}

export function ioctlStruct(f: Fixture, fd: number, name: string, def: StructDef, v: Record<string, bigint>) {
  const addr = f.k.stage(f.p, encodeStruct(def, v));
  return f.k.ioctl(f.p, fd, nr(name), addr);
}

export function ioctlInt(f: Fixture, fd: number, name: string, v: number): SysOutcome {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return f.k.ioctl(f.p, fd, nr(name), f.k.stage(f.p, b));
}

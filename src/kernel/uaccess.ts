// get_user / put_user / copy_{from,to}_user against the caller's mappings. get_user and
// put_user are not fault points (x86 has no should_fail in them); the copy_* forms are (fault.ts).

import {
  decodeStruct,
  readScalar,
  SCALAR_SIZE,
  type Scalar,
  type StructDef,
  writeScalar,
} from '../uapi/struct.js';
import type { CallCtx } from './file.js';
import type { Mm } from './memory.js';

/** get_user of one scalar: undefined where the kernel gets EFAULT. */
export function getUser(mm: Mm, addr: bigint, type: Scalar): bigint | undefined {
  const b = mm.readUser(addr, SCALAR_SIZE[type]);
  return b ? readScalar(b, 0, type) : undefined;
}

/** copy_from_user of one scalar (`copy_from_user(&features, argp, sizeof features)`): a fault point. */
export function copyScalarFromUser(mm: Mm, addr: bigint, type: Scalar): bigint | undefined {
  const b = mm.copyFromUser(addr, SCALAR_SIZE[type]);
  return b ? readScalar(b, 0, type) : undefined;
}

/** copy_to_user of one scalar: a fault point. */
export function copyScalarToUser(mm: Mm, addr: bigint, type: Scalar, v: bigint): boolean {
  const b = new Uint8Array(SCALAR_SIZE[type]);
  writeScalar(b, 0, type, v);
  return mm.copyToUser(addr, b);
}

/** put_user of one scalar: false where the kernel gets EFAULT. */
export function putUser(mm: Mm, addr: bigint, type: Scalar, v: bigint): boolean {
  const b = new Uint8Array(SCALAR_SIZE[type]);
  writeScalar(b, 0, type, v);
  return mm.writeUser(addr, b);
}

/** copy_from_user of a whole struct. */
export function copyStructFromUser(
  ctx: CallCtx,
  addr: bigint,
  def: StructDef,
): Record<string, bigint> | undefined {
  const b = ctx.proc.mm.copyFromUser(addr, def.size);
  return b ? decodeStruct(def, b) : undefined;
}

export function copyStructToUser(
  ctx: CallCtx,
  addr: bigint,
  def: StructDef,
  values: Readonly<Record<string, bigint>>,
): boolean {
  const b = new Uint8Array(def.size);
  for (const f of def.fields) {
    const v = values[f.name];
    if (v !== undefined) writeScalar(b, f.offset, f.type, v);
  }
  return ctx.proc.mm.copyToUser(addr, b);
}

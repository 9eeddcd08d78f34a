// struct iommufd_ucmd (iommufd_private.h): what iommufd_fops_ioctl hands an op once the size
// rules passed: the user buffer, the size user space claimed, the command read at the kernel's
// size (zero-extended), and iommufd_ucmd_respond's copy back.
import type { CallCtx } from '../../kernel/file.js';
import { type Fail, fail, ok, type SysResult } from '../../kernel/result.js';
import { type StructDef, writeScalar } from '../../uapi/struct.js';
import type { Ioas, IommufdCtx, IommufdObject } from './iommufd.js';

export interface Ucmd {
  readonly ctx: CallCtx;
  readonly ictx: IommufdCtx;
  /** ucmd->ubuffer */
  readonly arg: bigint;
  /** ucmd->user_size, read once by get_user on entry */
  readonly userSize: number;
  /** the op's struct at this profile: op->size is def.size */
  readonly def: StructDef;
  /** ucmd->cmd: every field of def, zero where user space passed a shorter struct */
  readonly cmd: Record<string, bigint>;
}

/** iommufd_ucmd_respond: copies back min(user size, kernel size) bytes of `v`. */
export function respond(u: Ucmd, v: Record<string, bigint>): SysResult {
  const b = new Uint8Array(u.def.size);
  for (const f of u.def.fields) writeScalar(b, f.offset, f.type, v[f.name] ?? 0n);
  if (!u.ctx.proc.mm.copyToUser(u.arg, b.subarray(0, Math.min(u.userSize, u.def.size))))
    return fail('EFAULT', 'iommufd_ucmd_respond', 'copy_to_user');
  return ok(0);
}

/**
 * iommufd_get_object(ictx, id, type) and its typed wrappers (iommufd_get_ioas, _device,
 * _hwpt_paging, _hwpt_nested, _fault): the id must name an object of that type (a missing id and
 * any other type are ENOENT alike); `fn` and `cond` name the wrapper's failure.
 */
export function getObject<T extends IommufdObject['type']>(
  ictx: IommufdCtx,
  id: bigint,
  type: T,
  fn: string,
  cond: string,
): Extract<IommufdObject, { type: T }> | Fail {
  const o = ictx.objects.get(Number(id));
  if (o?.type !== type) return fail('ENOENT', fn, cond);
  return o as Extract<IommufdObject, { type: T }>;
}

/** iommufd_get_ioas */
export const getIoas = (ictx: IommufdCtx, id: bigint): Ioas | Fail =>
  getObject(ictx, id, 'ioas', 'iommufd_get_ioas', 'iommufd_get_object(ictx, id, IOMMUFD_OBJ_IOAS)');

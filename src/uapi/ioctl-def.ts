// How an ioctl's third argument is shaped, from its uapi definition (scenario.md,
// "Arguments and outputs"). The number is always computed from the _IOC encoding.
import { type IocDir, ioc } from './ioc.js';
import { type FieldRole, SCALAR_SIZE, type Scalar, type StructDef } from './struct.js';

export type ArgShape =
  /** _IO with the argument unused or read by value (VHOST_SET_OWNER, VFIO_CHECK_EXTENSION). */
  | { kind: 'value' }
  /** a pointer to one integer (__u64 features, int running, __u8 status) */
  | { kind: 'scalar'; type: Scalar; role?: FieldRole }
  /** a pointer to a fixed struct */
  | { kind: 'struct'; def: StructDef }
  /** a header with a variable tail the runner builds itself (vhost_memory, vhost_vdpa_config) */
  | { kind: 'custom'; size: number; layout: string };

export interface IoctlDef {
  readonly name: string;
  /** the fd types that answer it, for decode and for raw numbers shared across fd types */
  readonly family: string;
  readonly number: number;
  readonly dir: IocDir;
  readonly arg: ArgShape;
  /** never merged upstream: only with the named opt-in patch does the kernel know it */
  readonly proposed?: string;
}

export function argSize(a: ArgShape): number {
  switch (a.kind) {
    case 'value':
      return 0;
    case 'scalar':
      return SCALAR_SIZE[a.type];
    case 'struct':
      return a.def.size;
    case 'custom':
      return a.size;
  }
}

/** Declares an ioctl the way its header does: the macro's direction, type, nr and argument. */
export function defineIoctl(
  name: string,
  family: string,
  dir: IocDir,
  type: number,
  nr: number,
  arg: ArgShape,
  extra: { proposed?: string; encodedSize?: number } = {},
): IoctlDef {
  const size = extra.encodedSize ?? (dir === 'none' ? 0 : argSize(arg));
  const def: IoctlDef = { name, family, number: ioc(dir, type, nr, size), dir, arg };
  return extra.proposed ? { ...def, proposed: extra.proposed } : def;
}

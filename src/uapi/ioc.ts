// include/uapi/asm-generic/ioctl.h: the _IOC encoding on x86-64.
// nr 8 bits, type 8 bits, size 14 bits, dir 2 bits (_IOC_WRITE = 1, _IOC_READ = 2).

export type IocDir = 'none' | 'w' | 'r' | 'rw';

const NRSHIFT = 0;
const TYPESHIFT = 8;
const SIZESHIFT = 16;
const DIRSHIFT = 30;
const SIZEBITS = 14;

const DIR_BITS: Record<IocDir, number> = { none: 0, w: 1, r: 2, rw: 3 };
const BITS_DIR: IocDir[] = ['none', 'w', 'r', 'rw'];

/** _IOC(dir, type, nr, size), as an unsigned 32-bit number. */
export function ioc(dir: IocDir, type: number, nr: number, size: number): number {
  if (size < 0 || size >= 1 << SIZEBITS)
    throw new RangeError(`ioctl size ${size} does not fit _IOC_SIZEBITS`);
  return (
    ((DIR_BITS[dir] << DIRSHIFT) |
      (size << SIZESHIFT) |
      ((type & 0xff) << TYPESHIFT) |
      ((nr & 0xff) << NRSHIFT)) >>>
    0
  );
}

export const io = (type: number, nr: number): number => ioc('none', type, nr, 0);
export const ior = (type: number, nr: number, size: number): number => ioc('r', type, nr, size);
export const iow = (type: number, nr: number, size: number): number => ioc('w', type, nr, size);
export const iowr = (type: number, nr: number, size: number): number => ioc('rw', type, nr, size);

export interface IocFields {
  dir: IocDir;
  type: number;
  nr: number;
  size: number;
}

/** _IOC_DIR / _IOC_TYPE / _IOC_NR / _IOC_SIZE of a request number. */
export function iocDecode(cmd: number): IocFields {
  const c = cmd >>> 0;
  return {
    dir: BITS_DIR[(c >>> DIRSHIFT) & 3] as IocDir,
    type: (c >>> TYPESHIFT) & 0xff,
    nr: (c >>> NRSHIFT) & 0xff,
    size: (c >>> SIZESHIFT) & ((1 << SIZEBITS) - 1),
  };
}

// How explain and decode spell uapi facts: the _IOC macro of a number, a struct's layout, the fd
// types that answer an ioctl. All of it read from src/uapi, so new tables (VFIO, iommufd) show up
// without a change here.
import { type IocDir, iocDecode } from '../uapi/ioc.js';
import { type ArgShape, argSize, type IoctlDef } from '../uapi/ioctl-def.js';
import { ALL_IOCTLS } from '../uapi/ioctls.js';
import { SCALAR_SIZE } from '../uapi/struct.js';

const MACRO: Record<IocDir, string> = { none: '_IO', w: '_IOW', r: '_IOR', rw: '_IOWR' };
const DIR_TEXT: Record<IocDir, string> = {
  none: 'none (no data through the pointer by encoding)',
  w: 'write (_IOC_WRITE: userspace → kernel)',
  r: 'read (_IOC_READ: kernel → userspace)',
  rw: 'read|write (userspace → kernel → userspace)',
};

export const hex32 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

function typeText(t: number): string {
  const ch = String.fromCharCode(t);
  return /[A-Za-z;:!]/.test(ch) ? `'${ch}'` : hex2(t);
}

/** `_IOR(0xaf, 0x00, 8)` and the four fields, one per line. */
export function iocLines(cmd: number): string[] {
  const f = iocDecode(cmd);
  const macro =
    f.dir === 'none'
      ? `${MACRO.none}(${typeText(f.type)}, ${hex2(f.nr)})`
      : `${MACRO[f.dir]}(${typeText(f.type)}, ${hex2(f.nr)}, ${f.size} bytes)`;
  return [
    `encoding   ${macro}`,
    `  dir      ${DIR_TEXT[f.dir]}`,
    `  type     ${hex2(f.type)}${typeText(f.type).startsWith("'") ? ` ${typeText(f.type)}` : ''}`,
    `  nr       ${hex2(f.nr)} (${f.nr})`,
    `  size     ${f.size}`,
  ];
}

/** The fd types whose ioctl handler answers it; "vhost" is the shared vhost core. */
export function fdTypesText(d: IoctlDef): string {
  return d.family === 'vhost'
    ? 'vhost (the vhost core: vhost-net, vhost-vsock and vhost-vdpa pass it to vhost_dev_ioctl / vhost_vring_ioctl)'
    : d.family;
}

/** How the scenario language builds the argument, and the struct's layout where there is one. */
export function argLines(d: IoctlDef): string[] {
  const a: ArgShape = d.arg;
  // VFIO and iommufd requests are encoded _IO although the header documents a struct
  const note =
    d.dir === 'none' && a.kind !== 'value'
      ? ['           (encoded _IO: the header documents the argument)']
      : [];
  return [...argShapeLines(a), ...note];
}

function argShapeLines(a: ArgShape): string[] {
  switch (a.kind) {
    case 'value':
      return ['argument   passed by value (arg: an integer, 0 without)'];
    case 'scalar':
      return [
        `argument   pointer to one ${a.type} (${SCALAR_SIZE[a.type]} bytes)${a.role === 'fd' ? ', an fd' : ''}`,
      ];
    case 'custom':
      return [`argument   struct ${a.layout}, ${a.size}-byte header with a variable tail`];
    case 'struct': {
      const rows = a.def.fields.map(
        (f) =>
          `  ${String(f.offset).padStart(6)}  ${String(f.size).padStart(5)}  ${f.type.padEnd(4)}  ${f.name}${f.role ? `  (${f.role})` : ''}`,
      );
      return [
        `argument   struct ${a.def.name}, ${argSize(a)} bytes`,
        '  offset  width  type  field',
        ...rows,
      ];
    }
  }
}

/** Every known fd type: the families of the ioctl tables and the vhost devices sharing the core. */
export function fdTypes(): string[] {
  const s = new Set(ALL_IOCTLS.map((d) => d.family));
  // fd types of the contract whose tables may not be loaded yet (scenario.md, "Arguments and outputs")
  for (const t of [
    'vhost-net',
    'vhost-vsock',
    'vhost-vdpa',
    'vfio-container',
    'vfio-group',
    'vfio-device',
    'iommufd',
  ])
    s.add(t);
  return [...s].sort();
}

/** Whether an ioctl of family `family` is answered on an fd of type `fd` ("vhost" on "vhost-vdpa"). */
export function answersOn(family: string, fd: string): boolean {
  return family === fd || fd.startsWith(`${family}-`);
}

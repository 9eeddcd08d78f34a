// What the importer knows of each traced process while it reads the log: its fd table (which fd
// is which device, eventfd or sysfs file, under what scenario name) and the memory ranges it has
// recreated. Also the small parsers for results and open flags shared by the step builders.
import { CONSTANTS } from '../../uapi/constants.js';
import { errnoByNumber, resolveErrnoName } from '../../uapi/errno.js';
import { atomNumber, type SVal } from './values.js';

export type FdKind = 'device' | 'eventfd' | 'sysfs' | 'foreign';

export interface FdInfo {
  kind: FdKind;
  /** the scenario name (devices, eventfds) */
  name?: string;
  /** the fd type deciding between ioctls that share a number (vhost-vsock, vfio-device, ...) */
  type?: string;
  path?: string;
  nonblock?: boolean;
  /** a sysfs file already read once: later reads are the EOF of the same read */
  read?: boolean;
}

export interface Proc {
  name: string;
  fds: Map<number, FdInfo>;
  /** [start, end) ranges mapped by synthesized mmap steps */
  maps: [bigint, bigint][];
  scratch: boolean;
  /** a read that may block was imported: an exit: of this process could be refused */
  mayWait: boolean;
  exited: boolean;
}

export function newProc(name: string, from?: Proc): Proc {
  return {
    name,
    fds: new Map([...(from?.fds ?? new Map<number, FdInfo>())].map(([k, v]) => [k, { ...v }])),
    maps: [...(from?.maps ?? [])],
    scratch: from?.scratch ?? false,
    mayWait: false,
    exited: false,
  };
}

const NODES: [RegExp, string][] = [
  [/^\/dev\/vhost-net$/, 'vhost-net'],
  [/^\/dev\/vhost-vsock$/, 'vhost-vsock'],
  [/^\/dev\/vhost-vdpa-\d+$/, 'vhost-vdpa'],
  [/^\/dev\/net\/tun$/, 'tun'],
  [/^\/dev\/vfio\/vfio$/, 'vfio-container'],
  [/^\/dev\/vfio\/\d+$/, 'vfio-group'],
  [/^\/dev\/vfio\/devices\/vfio\d+$/, 'vfio-device'],
  [/^\/dev\/iommu$/, 'iommufd'],
  [/^\/dev\/kvm$/, 'kvm'],
];

/** The fd type of a device node vioctl models, or undefined. */
export function nodeType(path: string): string | undefined {
  return NODES.find(([re]) => re.test(path))?.[1];
}

/** `vsock3`, `vfio3`, `group8_4`, `vdpa0_3`: the node's basename (vhost- dropped) and the log's fd. */
export function fdName(path: string, fd: number | undefined): string {
  let base = path.slice(path.lastIndexOf('/') + 1).replace(/^vhost-/, '');
  if (/^\d+$/.test(base)) base = `group${base}`;
  base = base.replace(/[^A-Za-z0-9_]/g, '');
  if (fd === undefined) return base;
  return /\d$/.test(base) ? `${base}_${fd}` : `${base}${fd}`;
}

export interface Result {
  /** the return value, when the call returned one */
  ret?: bigint;
  /** the errno name, canonical, when the call failed */
  errno?: string;
  /** the errno strace printed when vioctl does not know it */
  unknownErrno?: string;
}

/** `0`, `3</dev/vhost-vsock>` (-y), `-1 EFAULT (Bad address)`, `-1 524 (Unknown error 524)`, `?`. */
export function parseResult(text: string): Result {
  const m = /^(-?(?:0x[0-9a-f]+|\d+))(?:<[^>]*>)?(?:\s+(\w+)\s*(?:\(.*\))?)?\s*$/i.exec(text);
  if (!m) return {};
  const ret = m[1]!.startsWith('-') ? -BigInt(m[1]!.slice(1)) : BigInt(m[1]!);
  const e = m[2];
  if (e === undefined || ret !== -1n) return { ret };
  const name = /^\d+$/.test(e) ? errnoByNumber(Number(e))?.name : resolveErrnoName(e);
  return name ? { ret, errno: name } : { ret, unknownErrno: e };
}

export const succeeded = (r: Result): boolean => r.ret !== undefined && r.ret >= 0n && !r.errno;

const OPEN_FLAGS: Record<string, number> = {
  O_RDONLY: 0,
  O_WRONLY: 1,
  O_RDWR: 2,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NOCTTY: 0o400,
  O_TRUNC: 0o1000,
  O_APPEND: 0o2000,
  O_NONBLOCK: 0o4000,
  O_LARGEFILE: 0,
  O_CLOEXEC: 0o2000000,
};

/** openat's flags (names or -X raw's number) as a number; undefined for what is not recognised. */
export function openFlags(v: SVal | undefined): number | undefined {
  const n = atomNumber(v);
  if (n !== undefined) return Number(n);
  if (v?.t !== 'atom') return undefined;
  let f = 0;
  for (const part of v.text.split('|')) {
    const x = OPEN_FLAGS[part.trim()];
    if (x === undefined) return undefined;
    f |= x;
  }
  return f;
}

/** The `flags:` of an open step: omitted for O_RDWR; only the flags the open path models. */
export function openFlagList(flags: number): string[] | undefined {
  const access = ['O_RDONLY', 'O_WRONLY', 'O_RDWR'][flags & 3] ?? 'O_RDWR';
  const list = [access];
  if (flags & OPEN_FLAGS.O_NONBLOCK!) list.push('O_NONBLOCK');
  if (flags & OPEN_FLAGS.O_CLOEXEC!) list.push('O_CLOEXEC');
  return list.length === 1 && access === 'O_RDWR' ? undefined : list.filter((f) => CONSTANTS.has(f));
}

export const isNonblock = (flags: number): boolean => (flags & OPEN_FLAGS.O_NONBLOCK!) !== 0;

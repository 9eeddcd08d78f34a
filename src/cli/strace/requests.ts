// An ioctl request as strace prints it → the ioctl vioctl knows. strace prints a raw number with
// -X raw, a name where its table has one, `A or B` where its table has several (VFIO's numbers
// repeat across fd types), and `_IOC(dir, type, nr, size)` for numbers it cannot name. The fd's
// type decides between the candidates, as the kernel's per-file ioctl handler does.
import { ioc } from '../../uapi/ioc.js';
import type { IoctlDef } from '../../uapi/ioctl-def.js';
import { ioctlByName, ioctlsByNumber } from '../../uapi/ioctls.js';
import { answersOn } from '../uapi-text.js';
import type { SVal } from './values.js';

export interface Request {
  number: number;
  def?: IoctlDef;
  note?: string;
}

const DIRS: Record<string, number> = { _IOC_NONE: 0, _IOC_WRITE: 1, _IOC_READ: 2 };
const MACRO_DIR: Record<string, 'none' | 'w' | 'r' | 'rw'> = {
  _IO: 'none',
  _IOW: 'w',
  _IOR: 'r',
  _IOWR: 'rw',
};

function int(s: string | undefined): number | undefined {
  const t = (s ?? '').trim();
  if (/^'.'$/.test(t)) return t.charCodeAt(1);
  return /^(0x[0-9a-f]+|\d+)$/i.test(t) ? Number(t) : undefined;
}

/** `_IOC(_IOC_READ|_IOC_WRITE, 0xaf, 0x82, 0x8)` and the _IO/_IOR/_IOW/_IOWR forms. */
function macroNumber(text: string): number | undefined {
  const m = /^(_IOC|_IOWR|_IOW|_IOR|_IO)\((.*)\)$/.exec(text);
  if (!m) return undefined;
  const parts = m[2]!.split(',');
  let dir: 'none' | 'w' | 'r' | 'rw';
  if (m[1] === '_IOC') {
    let bits = 0;
    for (const d of (parts.shift() ?? '').split('|')) {
      const v = DIRS[d.trim()] ?? int(d);
      if (v === undefined) return undefined;
      bits |= v;
    }
    dir = (['none', 'w', 'r', 'rw'] as const)[bits & 3]!;
  } else dir = MACRO_DIR[m[1]!]!;
  const [type, nr, size] = parts.map(int);
  if (type === undefined || nr === undefined || (dir !== 'none' && size === undefined)) return undefined;
  if ((size ?? 0) >= 1 << 14) return undefined;
  return ioc(dir, type, nr, size ?? 0);
}

const hex = (n: number) => `0x${(n >>> 0).toString(16)}`;

/** Resolves the request; undefined when the text names nothing vioctl can turn into a number. */
export function resolveRequest(req: SVal | undefined, fdType: string | undefined): Request | undefined {
  if (req?.t !== 'atom') return undefined;
  const text = req.text;
  let number: number | undefined;
  let printed: string[] = [];
  if (/^(0x[0-9a-f]{1,8}|\d{1,10})$/i.test(text)) number = Number(BigInt.asUintN(32, BigInt(text)));
  else number = macroNumber(text);
  if (number === undefined) {
    printed = text.split(/\s+or\s+/);
    const known = printed.map((n) => ioctlByName(n)).find((d) => d !== undefined);
    if (!known) return undefined;
    number = known.number;
  }
  const all = ioctlsByNumber(number);
  const fits = fdType === undefined ? all : all.filter((d) => answersOn(d.family, fdType));
  const pick = fits.find((d) => printed.includes(d.name)) ?? (fits.length === 1 ? fits[0] : undefined);
  if (!pick) {
    const names = all.map((d) => `${d.name} (${d.family})`).join(', ');
    const note =
      all.length === 0
        ? `${hex(number)}: no ioctl vioctl knows has this number, kept raw`
        : fits.length === 0
          ? `${hex(number)} is no ${fdType} ioctl (${names}): kept raw`
          : `${hex(number)} is one of ${names}: kept raw`;
    return { number, note };
  }
  if (printed.length > 0 && !printed.includes(pick.name)) {
    return {
      number,
      def: pick,
      note: `strace named it ${printed.join(' or ')}; on a ${fdType} fd it is ${pick.name}`,
    };
  }
  return { number, def: pick };
}

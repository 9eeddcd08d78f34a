// Checks every value a step gives before anything runs: a constant expression
// is evaluated and must fit its field (`0x100000000` in a __u32 is an input
// error at load time, not at run time), and an expression with `$names` must
// at least parse and name only known constants. Only values computed from
// saved ones are left to run time.

import { CONSTANTS } from '../uapi/constants.js';
import { iocDecode } from '../uapi/ioc.js';
import type { IoctlDef } from '../uapi/ioctl-def.js';
import { ioctlByName } from '../uapi/ioctls.js';
import type { Scalar, StructDef } from '../uapi/struct.js';
import { IOTLB_PERM_NAMES, IOTLB_TYPE_NAMES, vhost_memory_region } from '../uapi/vhost.js';
import { featureMask } from '../uapi/virtio.js';
import { isMap } from './compile-util.js';
import type { YamlPath } from './load.js';
import type { Step } from './model.js';
import { type ExprEnv, ExprError, evalExpr, fitWidth, parseIntLiteral } from './values.js';

export interface ValueSink {
  fail(path: YamlPath, message: string): never;
  failAt(path: YamlPath, offset: number, message: string): never;
}

const BITS: Record<Scalar, number> = { u8: 8, u16: 16, u32: 32, u64: 64, s32: 32, s64: 64 };
const IOTLB_TYPES = new Set(Object.keys(IOTLB_TYPE_NAMES));
const PERMS = new Set(Object.keys(IOTLB_PERM_NAMES));

const STATIC_ENV: ExprEnv = {
  name: (id) => CONSTANTS.get(id) ?? featureMask(id),
  variable: () => undefined,
};
// With $names the value is unknown until run time; any stand-in value works for
// finding unknown names and syntax errors (division by it is not judged here).
const DYNAMIC_ENV: ExprEnv = { name: STATIC_ENV.name, variable: () => 0x1234567n };

function show(x: bigint): string {
  return x < 0n ? `-0x${(-x).toString(16)}` : `0x${x.toString(16)}`;
}

/** One value of a `bits`-wide field: literal, expression or list of names. */
export function checkValue(
  sink: ValueSink,
  v: unknown,
  path: YamlPath,
  bits: number,
  names?: ReadonlySet<string>,
) {
  if (v === undefined) return;
  if (typeof v === 'string' && names?.has(v)) return;
  let x: bigint;
  if (typeof v === 'bigint') {
    x = v;
  } else if (typeof v === 'string') {
    const dynamic = v.includes('$');
    try {
      x = evalExpr(v, dynamic ? DYNAMIC_ENV : STATIC_ENV);
    } catch (e) {
      if (!(e instanceof ExprError)) throw e;
      if (dynamic && /division by zero|shift|too large/.test(e.message)) return;
      const hint = e.message.startsWith('unknown name')
        ? ' (expected a constant or feature-bit name, $name or number)'
        : '';
      sink.failAt(path, e.offset, e.message + hint);
    }
    if (dynamic) return;
  } else if (Array.isArray(v)) {
    for (const [i, y] of v.entries()) checkValue(sink, y, [...path, i], bits, names);
    return;
  } else if (typeof v === 'boolean') {
    return;
  } else {
    sink.fail(
      path,
      `expected an integer, a name or an expression, got ${typeof v === 'number' ? `the number ${v}` : v === null ? 'null' : 'a map'}`,
    );
  }
  if (fitWidth(x, bits) === undefined) sink.fail(path, `${show(x)} does not fit a ${bits}-bit field`);
}

function checkStruct(sink: ValueSink, def: StructDef, arg: unknown, path: YamlPath): void {
  if (arg === undefined) return;
  if (!isMap(arg))
    sink.fail(
      path,
      `arg: expected a map of ${def.name} fields (${def.fields.map((f) => f.name).join(', ')})`,
    );
  for (const [k, v] of Object.entries(arg)) {
    const f = def.fields.find((x) => x.name === k);
    if (!f)
      sink.fail(
        [...path, k],
        `${def.name} has no field "${k}" (fields: ${def.fields.map((x) => x.name).join(', ')})`,
      );
    if (f.role === 'fd' && typeof v === 'string' && !v.startsWith('$') && parseIntLiteral(v) === undefined) {
      sink.fail([...path, k], `${k}: an fd inside arg: is $name or a number`);
    }
    checkValue(sink, v, [...path, k], BITS[f.type]);
  }
}

function checkIoctlArg(sink: ValueSink, def: IoctlDef | undefined, number: number | undefined, step: Step) {
  const raw = step.raw;
  const ap: YamlPath = [...step.path, 'arg'];
  checkValue(sink, raw.argp, [...step.path, 'argp'], 64);
  const arg = raw.arg;
  if (arg === undefined) return;
  if (!def) {
    const d = number === undefined ? undefined : iocDecode(number);
    checkValue(sink, arg, ap, d && d.dir !== 'none' && d.size > 0 ? Math.min(d.size * 8, 64) : 64);
    return;
  }
  const shape = def.arg;
  switch (shape.kind) {
    case 'value':
      checkValue(sink, arg, ap, 64);
      return;
    case 'scalar':
      checkValue(sink, arg, ap, BITS[shape.type]);
      return;
    case 'struct':
      checkStruct(sink, shape.def, arg, ap);
      return;
    case 'custom':
      if (shape.layout === 'vhost_memory') {
        if (!isMap(arg))
          sink.fail(
            ap,
            'arg: expected {regions: [{guest_phys_addr, memory_size, userspace_addr}], nregions, padding}',
          );
        for (const k of Object.keys(arg)) {
          if (!['regions', 'nregions', 'padding'].includes(k)) {
            sink.fail([...ap, k], `vhost_memory has no field "${k}" (regions, nregions, padding)`);
          }
        }
        checkValue(sink, arg.nregions, [...ap, 'nregions'], 32);
        checkValue(sink, arg.padding, [...ap, 'padding'], 32);
        if (arg.regions !== undefined) {
          if (!Array.isArray(arg.regions)) sink.fail([...ap, 'regions'], 'regions: expected a list');
          for (const [i, r] of arg.regions.entries())
            checkStruct(sink, vhost_memory_region, r, [...ap, 'regions', i]);
        }
      } else if (shape.layout === 'vhost_vdpa_config') {
        if (!isMap(arg)) sink.fail(ap, 'arg: expected {off, len, buf}');
        for (const [k, v] of Object.entries(arg)) {
          if (k === 'off' || k === 'len') checkValue(sink, v, [...ap, k], 32);
          else if (k === 'buf') {
            if (typeof v !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(v.replace(/[\s:]/g, '')))
              sink.fail([...ap, k], 'buf: expected hex bytes');
          } else sink.fail([...ap, k], `vhost_vdpa_config has no field "${k}" (off, len, buf)`);
        }
      } else if (shape.layout === 'ifreq') {
        if (!isMap(arg)) sink.fail(ap, 'arg: expected {ifr_name, ifr_flags}');
        for (const [k, v] of Object.entries(arg)) {
          if (k === 'ifr_flags') checkValue(sink, v, [...ap, k], 16);
          else if (k === 'ifr_name') {
            if (typeof v !== 'string') sink.fail([...ap, k], 'ifr_name: expected a string');
          } else sink.fail([...ap, k], `struct ifreq has no field "${k}" (ifr_name, ifr_flags)`);
        }
      }
      return;
  }
}

/** Checks the values of one step by the widths of the fields they fill. */
export function checkStepValues(sink: ValueSink, step: Step): void {
  const raw = step.raw;
  const p = step.path;
  const k = (key: string): YamlPath => [...p, key];
  switch (step.action) {
    case 'ioctl': {
      const m = step.main;
      const def = typeof m === 'string' ? ioctlByName(m) : undefined;
      let number: number | undefined;
      if (!def) {
        checkValue(sink, m, k('ioctl'), 32);
        number =
          typeof m === 'bigint'
            ? Number(m)
            : typeof m === 'string'
              ? Number(parseIntLiteral(m) ?? 0n)
              : undefined;
      }
      checkIoctlArg(sink, def, number, step);
      return;
    }
    case 'write': {
      const m = raw.iotlb;
      if (isMap(m)) {
        const ip = k('iotlb');
        for (const f of ['iova', 'size', 'uaddr'])
          if (m[f] !== undefined) checkValue(sink, m[f], [...ip, f], 64);
        if (m.perm !== undefined) checkValue(sink, m.perm, [...ip, 'perm'], 8, PERMS);
        if (m.type !== undefined) checkValue(sink, m.type, [...ip, 'type'], 8, IOTLB_TYPES);
        if (m.asid !== undefined) checkValue(sink, m.asid, [...ip, 'asid'], 32);
      }
      if (raw.len !== undefined) checkValue(sink, raw.len, k('len'), 32);
      if (raw.header !== undefined) checkValue(sink, raw.header, k('header'), 32);
      return;
    }
    case 'read':
      checkValue(sink, raw.len, k('len'), 32);
      return;
    case 'poll':
      checkValue(sink, raw.events, k('events'), 16);
      return;
    case 'eventfd':
    case 'signal':
      checkValue(sink, raw.value, k('value'), 64);
      return;
    case 'mmap':
      checkValue(sink, raw.size, k('size'), 64);
      checkValue(sink, raw.at, k('at'), 64);
      checkValue(sink, raw.offset, k('offset'), 64);
      return;
    case 'poke':
      checkValue(sink, raw.offset, k('offset'), 64);
      checkValue(sink, raw.value, k('value'), Number(raw.width ?? 4n) * 8);
      return;
    case 'peek':
      checkValue(sink, raw.offset, k('offset'), 64);
      return;
    default:
      return;
  }
}

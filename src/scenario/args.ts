// Builds an ioctl's third argument from `arg:` as its uapi definition shapes it,
// in the caller's memory, and reads `out` back afterwards (scenario.md,
// "Arguments and outputs").
import type { OpenFile } from '../kernel/file.js';
import { iocDecode } from '../uapi/ioc.js';
import type { IoctlDef } from '../uapi/ioctl-def.js';
import { ioctlByName, ioctlsByNumber } from '../uapi/ioctls.js';
import { readScalar, SCALAR_SIZE, type Scalar, type StructDef, writeScalar } from '../uapi/struct.js';
import { IFNAMSIZ, IFREQ_SIZE } from '../uapi/tun.js';
import { vhost_memory, vhost_memory_region } from '../uapi/vhost.js';
import { isMap } from './compile.js';
import { iovaRangesOut } from './iommufd-args.js';
import type { YamlPath } from './load.js';
import type { OutValue } from './run-result.js';
import type { ProcState, Runtime } from './runtime.js';
import { deviceName, hotReset, hotResetInfo, type1Info } from './vfio-args.js';

const BITS: Record<Scalar, number> = { u8: 8, u16: 16, u32: 32, u64: 64, s32: 32, s64: 64 };

/** A request: its number and, when vioctl knows it, its definition. */
export interface Request {
  number: number;
  def?: IoctlDef;
  /** the call column: the name, or the number in hex */
  call: string;
}

/** Whether an ioctl family answers on a file of this kind ('vhost' is every vhost device). */
function familyMatches(family: string, kind: string): boolean {
  return (
    family === kind ||
    (family === 'vhost' && kind.startsWith('vhost-')) ||
    (family === 'kvm-device' && kind === 'kvm-vfio')
  );
}

/** Names a raw number by the fd it is sent to: VFIO numbers repeat across fd types. */
export function resolveRequest(
  rt: Runtime,
  ps: ProcState,
  v: unknown,
  path: YamlPath,
  f?: OpenFile,
): Request {
  if (typeof v === 'string') {
    const def = ioctlByName(v);
    if (def) return { number: def.number, def, call: def.name };
  }
  const n = Number(rt.value(ps, v, path, 32));
  const cands = ioctlsByNumber(n);
  // only an ioctl of the fd's type is that ioctl: on another fd the number is just a number
  const def = f ? cands.find((d) => familyMatches(d.family, f.ops.kind)) : undefined;
  return def ? { number: n, def, call: def.name } : { number: n, call: `0x${n.toString(16)}` };
}

export interface BuiltArg {
  /** the value passed as the third argument */
  arg: bigint;
  /** reads `out` back after the call (null: none) */
  readOut: () => OutValue;
}

const NO_OUT = (): OutValue => null;

function scalarOut(buf: Uint8Array, t: Scalar): OutValue {
  const v = readScalar(buf, 0, t);
  return t === 'u64' || t === 's64' ? v : Number(v);
}

export function structOut(def: StructDef, buf: Uint8Array): { [k: string]: OutValue } {
  const o: { [k: string]: OutValue } = {};
  for (const f of def.fields) {
    const v = readScalar(buf, f.offset, f.type);
    o[f.name] = f.size === 8 ? v : Number(v);
  }
  return o;
}

function fillStruct(
  rt: Runtime,
  ps: ProcState,
  def: StructDef,
  arg: unknown,
  path: YamlPath,
  buf: Uint8Array,
) {
  if (arg === undefined) return;
  if (!isMap(arg))
    rt.fail(path, `arg: expected a map of ${def.name} fields (${def.fields.map((f) => f.name).join(', ')})`);
  for (const [k, v] of Object.entries(arg)) {
    const f = def.fields.find((x) => x.name === k);
    if (!f)
      rt.fail(
        [...path, k],
        `${def.name} has no field "${k}" (fields: ${def.fields.map((x) => x.name).join(', ')})`,
      );
    const fp = [...path, k];
    const x = f.role === 'fd' ? BigInt(rt.fd(ps, v, fp)) : rt.value(ps, v, fp, BITS[f.type]);
    writeScalar(buf, f.offset, f.type, x);
  }
}

/** struct vhost_memory with its regions: `{regions: [...], nregions, padding}` */
function memTable(rt: Runtime, ps: ProcState, arg: unknown, path: YamlPath): Uint8Array {
  if (arg === undefined) return new Uint8Array(vhost_memory.size);
  if (!isMap(arg))
    rt.fail(
      path,
      'arg: expected {regions: [{guest_phys_addr, memory_size, userspace_addr}], nregions, padding}',
    );
  for (const k of Object.keys(arg)) {
    if (!['regions', 'nregions', 'padding'].includes(k))
      rt.fail([...path, k], `vhost_memory has no field "${k}" (regions, nregions, padding)`);
  }
  const regions = arg.regions ?? [];
  if (!Array.isArray(regions)) rt.fail([...path, 'regions'], 'regions: expected a list');
  // more than max_mem_regions is E2BIG before the regions are read: those past it need no memory
  const staged = regions.slice(0, 65);
  const buf = new Uint8Array(vhost_memory.size + staged.length * vhost_memory_region.size);
  const nregions =
    arg.nregions === undefined
      ? BigInt(regions.length)
      : rt.value(ps, arg.nregions, [...path, 'nregions'], 32);
  writeScalar(buf, 0, 'u32', nregions);
  if (arg.padding !== undefined)
    writeScalar(buf, 4, 'u32', rt.value(ps, arg.padding, [...path, 'padding'], 32));
  staged.forEach((r, i) => {
    const base = vhost_memory.size + i * vhost_memory_region.size;
    const rp = [...path, 'regions', i];
    const sub = new Uint8Array(vhost_memory_region.size);
    fillStruct(rt, ps, vhost_memory_region, r, rp, sub);
    buf.set(sub, base);
  });
  return buf;
}

/** struct ifreq for TUNSETIFF: `{ifr_name, ifr_flags}` */
function ifreq(rt: Runtime, ps: ProcState, arg: unknown, path: YamlPath): Uint8Array {
  const buf = new Uint8Array(IFREQ_SIZE);
  if (arg === undefined) return buf;
  if (!isMap(arg)) rt.fail(path, 'arg: expected {ifr_name, ifr_flags}');
  for (const [k, v] of Object.entries(arg)) {
    if (k === 'ifr_name') {
      if (typeof v !== 'string') rt.fail([...path, k], 'ifr_name: expected a string');
      const b = new TextEncoder().encode(v);
      if (b.length >= IFNAMSIZ) rt.fail([...path, k], `ifr_name: at most ${IFNAMSIZ - 1} bytes`);
      buf.set(b, 0);
    } else if (k === 'ifr_flags') {
      writeScalar(buf, 16, 'u16', rt.value(ps, v, [...path, k], 16));
    } else {
      rt.fail([...path, k], `struct ifreq has no field "${k}" (ifr_name, ifr_flags)`);
    }
  }
  return buf;
}

/** struct vhost_vdpa_config and the bytes after it: `{off, len, buf: HEX}` (len defaults to buf's length). */
function vdpaConfig(rt: Runtime, ps: ProcState, arg: unknown, path: YamlPath): Uint8Array {
  if (arg === undefined) return new Uint8Array(8);
  if (!isMap(arg)) rt.fail(path, 'arg: expected {off, len, buf}');
  for (const k of Object.keys(arg)) {
    if (!['off', 'len', 'buf'].includes(k))
      rt.fail([...path, k], `vhost_vdpa_config has no field "${k}" (off, len, buf)`);
  }
  let data = new Uint8Array(0);
  if (arg.buf !== undefined) {
    if (typeof arg.buf !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(arg.buf.replace(/[\s:]/g, ''))) {
      rt.fail([...path, 'buf'], 'buf: expected hex bytes');
    }
    data = Uint8Array.from(Buffer.from(arg.buf.replace(/[\s:]/g, ''), 'hex'));
  }
  const off = arg.off === undefined ? 0n : rt.value(ps, arg.off, [...path, 'off'], 32);
  const len = arg.len === undefined ? BigInt(data.length) : rt.value(ps, arg.len, [...path, 'len'], 32);
  // the buffer after the header holds what the kernel reads (SET) or room for what it writes (GET)
  const room = Math.min(Number(len), 0x4000);
  const buf = new Uint8Array(8 + Math.max(room, data.length));
  writeScalar(buf, 0, 'u32', off);
  writeScalar(buf, 4, 'u32', len);
  buf.set(data, 8);
  return buf;
}

function vdpaConfigOut(b: Uint8Array): OutValue {
  const len = Number(readScalar(b, 4, 'u32'));
  return {
    off: Number(readScalar(b, 0, 'u32')),
    len,
    buf: Buffer.from(b.subarray(8, 8 + Math.min(len, b.length - 8))).toString('hex'),
  };
}

function ifreqOut(buf: Uint8Array): OutValue {
  const end = buf.indexOf(0);
  return { ifr_name: new TextDecoder().decode(buf.subarray(0, end < 0 || end > IFNAMSIZ ? IFNAMSIZ : end)) };
}

/** Builds the argument in the acting process's scratch memory. */
export function buildArg(
  rt: Runtime,
  ps: ProcState,
  req: Request,
  raw: Record<string, unknown>,
  path: YamlPath,
): BuiltArg {
  const k = rt.k;
  if (raw.argp !== undefined) return { arg: rt.value(ps, raw.argp, [...path, 'argp'], 64), readOut: NO_OUT };
  const ap: YamlPath = [...path, 'arg'];
  const arg = raw.arg;
  const stage = (bytes: Uint8Array, reads: boolean, decode: (b: Uint8Array) => OutValue): BuiltArg => {
    const addr = k.stage(ps.proc, bytes);
    return {
      arg: addr,
      readOut: reads
        ? () => {
            const b = ps.proc.mm.readUser(addr, bytes.length);
            return b ? decode(b) : null;
          }
        : NO_OUT,
    };
  };
  const def = req.def;
  if (!def) {
    const d = iocDecode(req.number);
    if (d.dir === 'none' || d.size === 0) {
      return { arg: arg === undefined ? 0n : rt.value(ps, arg, ap, 64), readOut: NO_OUT };
    }
    const buf = new Uint8Array(d.size);
    if (arg !== undefined) {
      let x = BigInt.asUintN(d.size * 8, rt.integer(ps, arg, ap));
      for (let i = 0; i < d.size; i++, x >>= 8n) buf[i] = Number(x & 0xffn);
    }
    return stage(buf, d.dir === 'r' || d.dir === 'rw', (b) => Buffer.from(b).toString('hex'));
  }
  // VFIO and iommufd encode _IO but document a struct the kernel fills: always read it back
  const documented = def.family.startsWith('vfio') || def.family === 'iommufd';
  const reads =
    def.dir === 'r' ||
    def.dir === 'rw' ||
    (documented && (def.arg.kind === 'struct' || def.arg.kind === 'custom'));
  const shape = def.arg;
  switch (shape.kind) {
    case 'value':
      return { arg: arg === undefined ? 0n : rt.value(ps, arg, ap, 64), readOut: NO_OUT };
    case 'scalar': {
      const buf = new Uint8Array(SCALAR_SIZE[shape.type]);
      if (arg !== undefined) {
        const x = shape.role === 'fd' ? BigInt(rt.fd(ps, arg, ap)) : rt.value(ps, arg, ap, BITS[shape.type]);
        writeScalar(buf, 0, shape.type, x);
      }
      return stage(buf, reads, (b) => scalarOut(b, shape.type));
    }
    case 'struct': {
      const buf = new Uint8Array(shape.def.size);
      // argsz (VFIO) is the struct's size unless the scenario gives it (to test minsz checks)
      const argsz = shape.def.fields.find(
        (f) => (f.name === 'argsz' || (f.name === 'size' && def.family === 'iommufd')) && f.offset === 0,
      );
      if (argsz && documented) writeScalar(buf, 0, 'u32', BigInt(shape.def.size));
      fillStruct(rt, ps, shape.def, arg, ap, buf);
      if (def.name === 'IOMMU_IOAS_IOVA_RANGES')
        return stage(buf, reads, iovaRangesOut(ps, shape.def, buf, structOut));
      return stage(buf, reads, (b) => structOut(shape.def, b));
    }
    case 'custom':
      if (shape.layout === 'vhost_memory') return stage(memTable(rt, ps, arg, ap), false, () => null);
      if (shape.layout === 'ifreq') return stage(ifreq(rt, ps, arg, ap), true, ifreqOut);
      if (shape.layout === 'vhost_vdpa_config')
        return stage(vdpaConfig(rt, ps, arg, ap), reads, vdpaConfigOut);
      if (shape.layout === 'string') return stage(deviceName(rt, arg, ap).bytes, false, () => null);
      if (shape.layout === 'vfio_iommu_type1_info') {
        const b = type1Info(rt, ps, arg, ap);
        return stage(b.bytes, true, b.decode!);
      }
      if (shape.layout === 'vfio_pci_hot_reset_info') {
        const b = hotResetInfo(rt, ps, arg, ap);
        return stage(b.bytes, true, b.decode!);
      }
      if (shape.layout === 'vfio_pci_hot_reset')
        return stage(hotReset(rt, ps, arg, ap).bytes, false, () => null);
      return rt.fail(ap, `arguments of ${def.name} are not modelled yet`);
  }
}

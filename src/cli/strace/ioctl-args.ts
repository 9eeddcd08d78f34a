// An ioctl's argument as strace printed it → `arg:` in the uapi struct's field names, and what the
// kernel wrote back → `expect: {out}`. Only what maps onto a field of the src/uapi definition is
// kept; the rest is dropped with a note, so the step still runs (with zeros there).
import { CONSTANTS } from '../../uapi/constants.js';
import type { IoctlDef } from '../../uapi/ioctl-def.js';
import { SCALAR_SIZE, type Scalar, type StructDef } from '../../uapi/struct.js';
import type { YVal } from './emit.js';
import { atomNumber, type SField, type SVal } from './values.js';

/** What mapping an argument needs from the importer: fd names, and memory the log never showed. */
export interface ArgHost {
  /** an fd number of the log as the scenario refers to it ($name, or the raw number) */
  fd(n: bigint, eventfd: boolean): YVal | undefined;
  /** guest memory at [addr, addr + size) that the kernel will read or pin */
  memory(addr: bigint, size: bigint, why: string): void;
  /** a pointer whose target strace printed (`addr=[5]`): the value is poked into a scratch page */
  pointee(value: YVal, width: number): YVal;
}

export interface ArgOut {
  arg?: YVal;
  out?: YVal;
  /** the name an fd returned inside the struct gets (KVM_CREATE_DEVICE's fd) */
  fdOut?: bigint;
  notes: string[];
}

/** ioctls whose fd argument the kernel resolves with eventfd_fget: the importer can recreate those */
const EVENTFD_ARGS = new Set([
  'VHOST_SET_VRING_KICK',
  'VHOST_SET_VRING_CALL',
  'VHOST_SET_VRING_ERR',
  'VHOST_VDPA_SET_CONFIG_CALL',
  'VHOST_SET_LOG_FD',
]);

export const takesEventfd = (def: IoctlDef | undefined): boolean => !!def && EVENTFD_ARGS.has(def.name);

/** A number or a flag expression of known names (`VFIO_GROUP_FLAGS_VIABLE|0x4`); else undefined. */
export function value(v: SVal | undefined): YVal | undefined {
  const n = atomNumber(v);
  if (n !== undefined) return n;
  if (v?.t === 'arr' && v.items.length === 1) return value(v.items[0]);
  if (v?.t !== 'atom') return undefined;
  const parts = v.text.split('|').map((p) => p.trim());
  const ok = parts.every((p) => CONSTANTS.has(p) || /^(0x[0-9a-f]+|\d+)$/i.test(p));
  return ok && parts.length > 0 ? parts.join('|') : undefined;
}

/** Whether a number fits a field as C converts it (the loader refuses wider values, scenario.md). */
export function fits(v: YVal, type: Scalar): boolean {
  if (typeof v !== 'bigint') return true;
  const bits = BigInt(SCALAR_SIZE[type] * 8);
  return v >= -(1n << (bits - 1n)) && v < 1n << bits;
}

const split = (v: SVal | undefined): { before?: SVal; after?: SVal } =>
  v?.t === 'change' ? { before: v.before, after: v.after } : { before: v };

/** Fields the kernel reads from a struct of a getter: the rest of a getter's struct is its answer. */
const INPUT_OF_GETTER = new Set(['argsz', 'index']);

function structFields(def: IoctlDef, v: SVal | undefined): { input: SField[]; output: SField[] } {
  const { before, after } = split(v);
  const fields = (x: SVal | undefined) => (x?.t === 'struct' ? x.fields : []);
  if (after) return { input: fields(before), output: fields(after) };
  const all = fields(before);
  if (def.dir === 'w') return { input: all, output: [] };
  if (def.dir === 'r') return { input: [], output: all };
  const getter = /_GET_/.test(def.name) || def.name === 'KVM_CREATE_DEVICE';
  if (!getter) return { input: all, output: [] };
  const isIn = (f: SField) =>
    def.name === 'KVM_CREATE_DEVICE' ? f.name !== 'fd' : INPUT_OF_GETTER.has(f.name ?? '');
  return { input: all.filter(isIn), output: all.filter((f) => !isIn(f)) };
}

function mapStruct(
  sdef: StructDef,
  fields: SField[],
  host: ArgHost,
  def: IoctlDef,
  notes: string[],
  output: boolean,
): Record<string, YVal> {
  const out: Record<string, YVal> = {};
  const group = value(fields.find((f) => f.name === 'group')?.value);
  for (const f of fields) {
    const fd = sdef.fields.find((x) => x.name === f.name);
    if (!fd) {
      notes.push(`strace showed ${f.name ?? 'an unnamed field'}, which ${sdef.name} lacks: dropped`);
      continue;
    }
    if (output && fd.name === 'fd') continue; // an fd number of the log: names differ, not checked
    if (fd.role === 'fd') {
      const n = atomNumber(f.value);
      const x = n !== undefined && fits(n, fd.type) ? host.fd(n, takesEventfd(def)) : undefined;
      if (x !== undefined) out[fd.name] = x;
      else notes.push(`${fd.name}: not an fd number in the log: dropped`);
      continue;
    }
    if (fd.role === 'pointer' && f.value.t === 'arr' && f.value.items.length === 1) {
      // kvm-vfio reads an fd (an __s32) through kvm_device_attr.addr
      const vfioFd = sdef.name === 'kvm_device_attr' && (group === 1n || group === 'KVM_DEV_VFIO_GROUP');
      const inner = atomNumber(f.value.items[0]);
      const width = vfioFd ? 4 : 8;
      const v = inner === undefined || !fits(inner, vfioFd ? 's32' : 'u64') ? undefined : inner;
      const poked = v !== undefined && vfioFd ? host.fd(v, false) : v;
      if (poked === undefined) notes.push(`${fd.name}: the pointed-to value is not a number: dropped`);
      else out[fd.name] = host.pointee(poked, width);
      continue;
    }
    const x = value(f.value);
    if (x === undefined) notes.push(`${fd.name}: strace printed ${short(f.value)}, not a value: dropped`);
    else if (!fits(x, fd.type))
      notes.push(`${fd.name}: ${scalarText(x)} does not fit its ${fd.type}: dropped`);
    else out[fd.name] = x;
  }
  return out;
}

const scalarText = (x: YVal) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : String(x));

function short(v: SVal): string {
  return v.t === 'atom' ? v.text : v.t === 'str' ? 'a string' : `a ${v.t}`;
}

function memTable(v: SVal | undefined, host: ArgHost, notes: string[]): YVal | undefined {
  if (v?.t !== 'struct') return undefined;
  const regions: YVal[] = [];
  const regs = v.fields.find((f) => f.name === 'regions')?.value;
  for (const r of regs?.t === 'arr' ? regs.items : []) {
    if (r.t !== 'struct') continue;
    const g = (n: string) => value(r.fields.find((f) => f.name === n)?.value);
    const reg: Record<string, YVal> = {};
    for (const n of ['guest_phys_addr', 'memory_size', 'userspace_addr']) {
      const x = g(n);
      if (x !== undefined && fits(x, 'u64')) reg[n] = x;
    }
    const ua = reg.userspace_addr;
    const size = reg.memory_size;
    if (typeof ua === 'bigint' && typeof size === 'bigint') host.memory(ua, size, 'VHOST_SET_MEM_TABLE');
    regions.push(reg);
  }
  const arg: Record<string, YVal> = { regions };
  const nr = value(v.fields.find((f) => f.name === 'nregions')?.value);
  if (nr !== undefined && nr !== BigInt(regions.length)) {
    arg.nregions = nr;
    notes.push(`nregions ${nr} but the log shows ${regions.length} regions (strace abbreviates arrays)`);
  }
  return arg;
}

const HOT_RESET_FIELDS = ['argsz', 'flags', 'count'];

/** `{argsz=16, flags=0, count=1, group_fds=[10]}` (HOT_RESET) or `{argsz=12, flags=0, count=0}` (INFO). */
function hotReset(v: SVal & { t: 'struct' }, host: ArgHost, notes: string[]): Record<string, YVal> {
  const arg: Record<string, YVal> = {};
  for (const f of v.fields) {
    if (f.name === 'group_fds' && f.value.t === 'arr') {
      arg.group_fds = f.value.items.flatMap((x) => {
        const n = atomNumber(x);
        const fd = n !== undefined && fits(n, 's32') ? host.fd(n, false) : undefined;
        if (fd === undefined) notes.push('group_fds: an entry that is not an fd number: dropped');
        return fd === undefined ? [] : [fd];
      });
    } else if (HOT_RESET_FIELDS.includes(f.name ?? '')) {
      const x = value(f.value);
      if (x !== undefined && fits(x, 'u32')) arg[f.name!] = x;
      else notes.push(`${f.name}: strace printed ${short(f.value)}: dropped`);
    } else if (f.name !== 'devices') notes.push(`strace showed ${f.name ?? 'an unnamed field'}: dropped`);
  }
  return arg;
}

/** INFO's answer: flags, count and the devices[] strace printed (group_id or devid, segment, bus, devfn). */
function hotResetInfoOut(v: SVal & { t: 'struct' }): Record<string, YVal> {
  const out: Record<string, YVal> = {};
  for (const n of ['flags', 'count']) {
    const x = value(v.fields.find((f) => f.name === n)?.value);
    if (typeof x === 'bigint' && fits(x, 'u32')) out[n] = x;
  }
  const devs = v.fields.find((f) => f.name === 'devices')?.value;
  if (devs?.t === 'arr' && devs.items.every((d) => d.t === 'struct')) {
    out.devices = devs.items.map((d) => {
      const dev: Record<string, YVal> = {};
      for (const f of d.t === 'struct' ? d.fields : []) {
        const x = atomNumber(f.value);
        if (
          ['group_id', 'devid', 'segment', 'bus', 'devfn'].includes(f.name ?? '') &&
          x !== undefined &&
          x >= 0n
        )
          dev[f.name!] = x;
      }
      return dev;
    });
  }
  return out;
}

/** Maps the argument of a known ioctl. `ok`: the call succeeded, so what it wrote back is the answer. */
export function mapArg(def: IoctlDef, v: SVal | undefined, host: ArgHost, ok: boolean): ArgOut {
  const notes: string[] = [];
  const res: ArgOut = { notes };
  const shape = def.arg;
  const pointer = () => notes.push('the log shows only the argument pointer: arg omitted (zeros)');
  if (shape.kind === 'value') {
    const x = value(v);
    if (x === undefined || !fits(x, 'u64')) {
      if (v !== undefined) notes.push(`strace printed ${short(v)}: arg omitted`);
    } else if (x !== 0n) res.arg = x;
    return res;
  }
  if (shape.kind === 'scalar') {
    const { before, after } = split(v);
    const shown = (x: SVal | undefined) => (x?.t === 'arr' ? x.items[0] : undefined);
    const input = def.dir === 'r' ? undefined : shown(before);
    const output = def.dir === 'r' ? shown(after ?? before) : shown(after);
    if (input !== undefined) {
      const n = atomNumber(input);
      const x = shape.role === 'fd' && n !== undefined ? host.fd(n, takesEventfd(def)) : value(input);
      if (x === undefined || !fits(x, shape.type)) notes.push(`strace printed ${short(input)}: arg omitted`);
      else res.arg = x;
    } else if (def.dir !== 'r') pointer();
    const o = value(output);
    if (ok && o !== undefined && fits(o, shape.type)) res.out = o;
    return res;
  }
  if (shape.kind === 'struct') {
    if (split(v).before?.t !== 'struct') {
      if (def.dir !== 'r') pointer();
      return res;
    }
    const { input, output } = structFields(def, v);
    const arg = mapStruct(shape.def, input, host, def, notes, false);
    if (Object.keys(arg).length > 0) res.arg = arg;
    const fdOut = output.find((f) => f.name === 'fd');
    if (fdOut && def.name === 'KVM_CREATE_DEVICE') res.fdOut = atomNumber(fdOut.value);
    const out = mapStruct(shape.def, output, host, def, [], true);
    if (ok && Object.keys(out).length > 0) res.out = out;
    const m = arg as Record<string, YVal>;
    if (def.name === 'VFIO_IOMMU_MAP_DMA' && typeof m.vaddr === 'bigint' && typeof m.size === 'bigint')
      host.memory(m.vaddr, m.size, 'VFIO_IOMMU_MAP_DMA');
    return res;
  }
  switch (shape.layout) {
    case 'vhost_memory': {
      const arg = memTable(v, host, notes);
      if (arg === undefined) pointer();
      else res.arg = arg;
      return res;
    }
    case 'string':
      if (v?.t === 'str' && !v.truncated)
        res.arg = Buffer.from(v.bytes).toString('latin1').replace(/\0.*$/s, '');
      else notes.push('the device name is not in the log: arg omitted');
      return res;
    case 'ifreq': {
      const { before } = split(v);
      if (before?.t !== 'struct') {
        pointer();
        return res;
      }
      const arg: Record<string, YVal> = {};
      for (const f of before.fields) {
        if (f.name === 'ifr_name' && f.value.t === 'str')
          arg.ifr_name = Buffer.from(f.value.bytes).toString('latin1');
        else if (f.name === 'ifr_flags' && value(f.value) !== undefined) arg.ifr_flags = value(f.value)!;
        else notes.push(`${f.name}: not imported`);
      }
      res.arg = arg;
      return res;
    }
    case 'vfio_pci_hot_reset_info':
    case 'vfio_pci_hot_reset': {
      const { before, after } = split(v);
      if (before?.t !== 'struct') return res; // a pointer: the importer follows QEMU's protocol
      res.arg = hotReset(before, host, notes);
      if (ok && after?.t === 'struct' && shape.layout === 'vfio_pci_hot_reset_info')
        res.out = hotResetInfoOut(after);
      return res;
    }
    default:
      notes.push(`the argument of ${def.name} (${shape.layout}) is not imported: arg omitted`);
      return res;
  }
}

// The executors of the message, memory and process actions.
import { SCRATCH_SIZE } from '../kernel/kernel.js';
import { type MemObject, PROT_READ, PROT_WRITE } from '../kernel/memory.js';
import type { Blocked, Outcome } from '../kernel/result.js';
import { IOTLB_PERM_NAMES, IOTLB_TYPE_NAMES } from '../uapi/vhost.js';
import { isMap } from './compile.js';
import type { Step } from './model.js';
import { outcomeFields } from './outcome.js';
import type { OutValue, StepRecord } from './run-result.js';
import type { ProcState, Runtime } from './runtime.js';

const IOTLB_TYPES = IOTLB_TYPE_NAMES;
const PERMS = IOTLB_PERM_NAMES;
const MSG_SIZE = 72;
/** where in the scratch pages a read() buffer goes (arguments use the start), and its largest size */
const READ_AT = 0x8000n;
const READ_MAX = Number(SCRATCH_SIZE - READ_AT);
const POLL_DEFAULT = 0x1 | 0x2 | 0x4; // POLLIN | POLLPRI | POLLOUT

/** 2^bits − 1 for the widths a message has */
const FIELD_MAX: Record<number, bigint> = { 8: 0xffn, 32: 0xffff_ffffn, 64: (1n << 64n) - 1n };

/**
 * One field's value: a literal that fits is itself (the common case of machine-written files, so no
 * path is built); anything else goes through rt.value, which evaluates and reports at the field.
 */
function field(rt: Runtime, ps: ProcState, v: unknown, step: Step, key: string, bits: number): bigint {
  if (v === undefined) return 0n;
  if (typeof v === 'bigint' && v >= 0n && v <= FIELD_MAX[bits]!) return v;
  return rt.value(ps, v, [...step.path, 'iotlb', key], bits);
}

function named(
  rt: Runtime,
  ps: ProcState,
  v: unknown,
  table: Record<string, number>,
  step: Step,
  key: string,
): number {
  if (typeof v === 'string' && Object.hasOwn(table, v)) return table[v]!;
  return Number(field(rt, ps, v, step, key, 8));
}

/**
 * The bytes of the message being written. One buffer for every write: k.stage copies it into the
 * process's memory before the call, and nothing keeps it (a new typed array per step cost more than
 * encoding the message).
 */
const SCRATCH = new Uint8Array(MSG_SIZE);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);

/** A vhost message as write() takes it: struct vhost_msg (v1) or vhost_msg_v2. */
function encodeMessage(rt: Runtime, ps: ProcState, step: Step, version: 1 | 2): Uint8Array {
  const raw = step.raw;
  if (raw.data !== undefined) {
    return Uint8Array.from(Buffer.from((raw.data as string).replace(/[\s:]/g, ''), 'hex'));
  }
  const m = (raw.iotlb ?? {}) as Record<string, unknown>;
  const b = SCRATCH;
  const v = SCRATCH_VIEW;
  b.fill(0);
  const header =
    raw.header === undefined ? BigInt(version) : rt.value(ps, raw.header, [...step.path, 'header'], 32);
  v.setUint32(0, Number(header), true);
  if (version === 2 && m.asid !== undefined)
    v.setUint32(4, Number(field(rt, ps, m.asid, step, 'asid', 32)), true);
  v.setBigUint64(8, field(rt, ps, m.iova, step, 'iova', 64), true);
  v.setBigUint64(16, field(rt, ps, m.size, step, 'size', 64), true);
  v.setBigUint64(24, field(rt, ps, m.uaddr, step, 'uaddr', 64), true);
  b[32] = named(rt, ps, m.perm, PERMS, step, 'perm');
  b[33] = named(rt, ps, m.type, IOTLB_TYPES, step, 'type');
  return b;
}

/** read()'s out: the header's type and asid, and the iotlb message. */
function decodeMessage(b: Uint8Array): OutValue {
  const v = new DataView(b.buffer, b.byteOffset);
  return {
    type: v.getUint32(0, true),
    asid: v.getUint32(4, true),
    iotlb: {
      type: b[33]!,
      iova: v.getBigUint64(8, true),
      size: v.getBigUint64(16, true),
      uaddr: v.getBigUint64(24, true),
      perm: b[32]!,
    },
  };
}

export interface Pending {
  blocked: Blocked;
  finish: (o: Outcome) => Partial<StepRecord>;
}

/** write:, read:, poll:, signal: — returns a pending task when the call blocks. */
export function doMessage(rt: Runtime, ps: ProcState, step: Step, rec: StepRecord): Pending | undefined {
  const k = rt.k;
  const raw = step.raw;
  const p = step.path;
  const m = step.main;
  const named = typeof m === 'string' ? ps.fds.get(m) : undefined;
  const fd = named ?? rt.fd(ps, m, [...p, step.action]);
  const f = k.fget(ps.proc, fd);
  switch (step.action) {
    case 'write': {
      const dflt = f?.ops.defaultMsgVersion?.(f) ?? 1;
      const version = raw.version === undefined ? dflt : (Number(raw.version) as 1 | 2);
      const bytes = encodeMessage(rt, ps, step, version);
      const len = raw.len === undefined ? bytes.length : Number(rt.value(ps, raw.len, [...p, 'len'], 32));
      // write() reads at most one message from the buffer, whatever len says: the first page of
      // what the scenario gives is all that needs to be in memory
      const addr = k.stage(ps.proc, bytes.length > 4096 ? bytes.subarray(0, 4096) : bytes);
      Object.assign(rec, outcomeFields(k.write(ps.proc, fd, addr, len)));
      return undefined;
    }
    case 'signal': {
      const b = new Uint8Array(8);
      const val = raw.value === undefined ? 1n : rt.value(ps, raw.value, [...p, 'value'], 64);
      new DataView(b.buffer).setBigUint64(0, val, true);
      const addr = k.stage(ps.proc, b);
      Object.assign(rec, outcomeFields(k.write(ps.proc, fd, addr, 8)));
      return undefined;
    }
    case 'poll': {
      const events =
        raw.events === undefined ? POLL_DEFAULT : Number(rt.value(ps, raw.events, [...p, 'events'], 16));
      const r = k.poll(ps.proc, fd, events);
      rec.ret = r.ret;
      rec.out = { revents: r.revents };
      return undefined;
    }
    default: {
      const isEventfd = f?.ops.kind === 'eventfd';
      const len =
        raw.len === undefined ? (isEventfd ? 8 : MSG_SIZE) : Number(rt.value(ps, raw.len, [...p, 'len'], 32));
      const addr = k.stage(ps.proc, new Uint8Array(Math.min(len, READ_MAX)), READ_AT);
      const finish = (o: Outcome): Partial<StepRecord> => {
        const fields = outcomeFields(o);
        let out: OutValue = null;
        if (o.ok === true && typeof o.ret === 'number' && o.ret > 0) {
          const b = ps.proc.mm.readUser(addr, o.ret);
          if (b) out = isEventfd ? { value: new DataView(b.buffer).getBigUint64(0, true) } : decodeMessage(b);
        }
        return { ...fields, out };
      };
      const o = k.read(ps.proc, fd, addr, len, raw.nonblock === true);
      Object.assign(rec, finish(o));
      return o.ok === 'blocked' ? { blocked: o, finish } : undefined;
    }
  }
}

const PROTS: Record<string, number> = { rw: PROT_READ | PROT_WRITE, r: PROT_READ, w: PROT_WRITE, none: 0 };

/** mmap:, poke:, peek:, munmap: */
export function doMemory(
  rt: Runtime,
  ps: ProcState,
  step: Step,
  rec: StepRecord,
  self: Map<string, bigint>,
): void {
  const k = rt.k;
  const raw = step.raw;
  const p = step.path;
  const name = step.main as string;
  switch (step.action) {
    case 'mmap': {
      const size = rt.value(ps, raw.size, [...p, 'size'], 64);
      if (raw.fd !== undefined) {
        // a device file (a vhost-vdpa doorbell): MAP_SHARED unless shared: false
        const fd = rt.fd(ps, raw.fd, [...p, 'fd']);
        const off = raw.offset === undefined ? 0n : rt.value(ps, raw.offset, [...p, 'offset'], 64);
        const o = k.mmapFile(
          ps.proc,
          fd,
          off,
          size,
          PROTS[(raw.prot as string) ?? 'rw']!,
          raw.shared !== false,
        );
        Object.assign(rec, outcomeFields(o));
        const addr = o.ok ? (o.ret as bigint) : -1n;
        ps.maps.set(name, { addr, size: o.ok ? size : 0n });
        self.set(name, addr);
        return;
      }
      let object: MemObject | undefined;
      if (typeof raw.object === 'string') {
        const holder =
          ps.maps.get(raw.object) !== undefined
            ? ps
            : [...rt.procs.values()].find((x) => x.maps.has(raw.object as string));
        const m = holder?.maps.get(raw.object);
        object = m ? holder?.proc.mm.findVma(m.addr)?.obj : undefined;
        if (!object) rt.fail([...p, 'object'], `object: mapping "${raw.object}" is gone`);
      }
      const kind = raw.memfd === true || object ? 'memfd' : raw.shared === true ? 'shared-anon' : 'anon';
      const at = raw.at === undefined ? undefined : rt.value(ps, raw.at, [...p, 'at'], 64);
      const o = k.mmap(ps.proc, {
        size,
        prot: PROTS[(raw.prot as string) ?? 'rw']!,
        kind,
        ...(object ? { object } : {}),
        ...(at !== undefined ? { at } : {}),
      });
      Object.assign(rec, outcomeFields(o));
      if (o.ok) {
        const addr = o.ret as bigint;
        ps.maps.set(name, { addr, size });
        const v = ps.proc.mm.findVma(addr);
        if (v) v.name = name;
        self.set(name, addr);
      } else {
        ps.maps.set(name, { addr: -1n, size: 0n });
        self.set(name, -1n);
      }
      return;
    }
    case 'munmap': {
      const m = ps.maps.get(name)!;
      Object.assign(rec, outcomeFields(k.munmap(ps.proc, m.addr, m.size)));
      return;
    }
    default: {
      const m = ps.maps.get(name)!;
      const width = raw.width === undefined ? 4 : Number(raw.width);
      const off = raw.offset === undefined ? 0n : rt.value(ps, raw.offset, [...p, 'offset'], 64);
      const addr = m.addr + off;
      const vma = ps.proc.mm.findVma(addr);
      const inside = vma !== undefined && addr + BigInt(width) <= vma.end;
      if (!inside)
        rt.fail(
          [...p, 'offset'],
          `${step.action}: offset 0x${off.toString(16)} is outside mapping "${name}"`,
        );
      const objOff = vma.pgoff + (addr - vma.start);
      if (step.action === 'poke') {
        const x = rt.value(ps, raw.value, [...p, 'value'], width * 8);
        const b = new Uint8Array(width);
        let y = x;
        for (let i = 0; i < width; i++, y >>= 8n) b[i] = Number(y & 0xffn);
        vma.obj.write(objOff, b);
        rec.ret = 0;
        return;
      }
      const b = vma.obj.read(objOff, width);
      let x = 0n;
      for (let i = width - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
      rec.ret = width === 8 ? x : Number(x);
      rec.out = rec.ret;
      return;
    }
  }
}

/** fork:, spawn:, pass:, exit: */
export function doProcess(rt: Runtime, ps: ProcState, step: Step, rec: StepRecord): void {
  const k = rt.k;
  const raw = step.raw;
  const p = step.path;
  const caps = Array.isArray(raw.caps) ? new Set(raw.caps as string[]) : undefined;
  switch (step.action) {
    case 'fork': {
      const name = step.main as string;
      const child = k.fork(ps.proc, name, caps);
      rt.procs.set(name, { name, proc: child, fds: new Map(ps.fds), maps: new Map(ps.maps) });
      rec.ret = child.pid;
      return;
    }
    case 'spawn': {
      const name = step.main as string;
      const child = k.spawn(name, caps);
      rt.procs.set(name, { name, proc: child, fds: new Map(), maps: new Map() });
      rec.ret = 0;
      return;
    }
    case 'pass': {
      const fd = rt.fd(ps, step.main, [...p, 'pass']);
      const toName = raw.to as string;
      // a receiver a kernel BUG killed, or never started (its fork:/spawn: skipped), has no fds
      const to = rt.killed.has(toName) ? undefined : rt.procs.get(toName);
      const f = k.fget(ps.proc, fd);
      // unix_stream_sendmsg: scm_send copies the fds (scm_fp_copy) before the socket is looked at
      if (!f) {
        Object.assign(
          rec,
          outcomeFields({
            ok: false,
            errno: 'EBADF',
            site: { function: 'scm_fp_copy', check: '!fget_raw(fd)', errno: 'EBADF' },
          }),
        );
        rt.procs.get(toName)?.fds.set(raw.as as string, -1);
        return;
      }
      if (!to) {
        // do_exit (make_task_dead, after the oops) closed the dead receiver's files and its end of
        // the socket with them; unix_release_sock shut the sender's end down too, so the send fails
        // and no fd is installed: `sk->sk_shutdown & SEND_SHUTDOWN` → EPIPE.
        Object.assign(
          rec,
          outcomeFields({
            ok: false,
            errno: 'EPIPE',
            site: {
              function: 'unix_stream_sendmsg',
              check: 'sk->sk_shutdown & SEND_SHUTDOWN',
              errno: 'EPIPE',
            },
          }),
        );
        rt.procs.get(toName)?.fds.set(raw.as as string, -1);
        return;
      }
      f.refs++;
      const n = k.installFd(to.proc, f);
      to.fds.set(raw.as as string, n);
      rec.ret = n;
      return;
    }
    case 'exit': {
      k.exit(rt.proc(step.main as string).proc);
      rec.ret = 0;
      return;
    }
    default:
      if (isMap(raw)) rt.fail(p, `internal: ${step.action}`);
  }
}

// Runs step descriptors straight against the Kernel, making the same calls `vioctl run` makes for the
// scenario to-yaml.ts writes (arguments staged at the start of the scratch pages, read buffers at
// 0x8000, pokes into the mapping's object), and checks the model's invariants after every step.
import { registerDrivers } from '../../src/drivers/index.js';
import type { VhostDev } from '../../src/drivers/vhost/dev.js';
import type { VhostNet } from '../../src/drivers/vhost/net.js';
import type { VhostVdpa } from '../../src/drivers/vhost/vdpa-dev.js';
import type { VhostVsock } from '../../src/drivers/vhost/vsock.js';
import type { OpenFile } from '../../src/kernel/file.js';
import { Kernel, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from '../../src/kernel/kernel.js';
import { PROT_READ, PROT_WRITE } from '../../src/kernel/memory.js';
import type { Process } from '../../src/kernel/process.js';
import { makeProfile } from '../../src/kernel/profile.js';
import type { StateRow, StateTables } from '../../src/kernel/registry.js';
import type { SysOutcome } from '../../src/kernel/result.js';
import { ERRNO_NAMES } from '../../src/uapi/errno.js';
import { iocDecode } from '../../src/uapi/ioc.js';
import { argSize, type IoctlDef } from '../../src/uapi/ioctl-def.js';
import { ioctlByName, ioctlsByNumber } from '../../src/uapi/ioctls.js';
import { encodeStruct, writeScalar } from '../../src/uapi/struct.js';
import { IFREQ_SIZE } from '../../src/uapi/tun.js';
import { vhost_memory, vhost_memory_region } from '../../src/uapi/vhost.js';
import {
  type ArgDesc,
  type Case,
  type ProfileName,
  profileOf,
  type Step,
  U64_MAX,
  type Val,
} from './arbitraries.js';

const MSG_SIZE = 72;
const READ_AT = 0x8000n;
const POLL_EVENTS = 0x1 | 0x2 | 0x4;
const POLLIN = 0x1;
const POLLNVAL = 0x20;
const MAX_IOTLB_ENTRIES = 2048;
const TWO64 = 1n << 64n;

/** What each profile offers (vhost.md §11, §10; scenario fixtures), written out independently of src. */
const OFFER: Record<ProfileName, { vsock: bigint; net: bigint; vsockBackend: bigint | null }> = {
  '5.10': { vsock: 0x13d000000n, net: 0x33d008000n, vsockBackend: null },
  '5.15': { vsock: 0x33d000002n, net: 0x33d008000n, vsockBackend: 0x2n },
  '6.1': { vsock: 0x33d000002n, net: 0x33d008000n, vsockBackend: 0x2n },
  '6.12': { vsock: 0x33d000002n, net: 0x1033d008000n, vsockBackend: 0x2n },
  '6.12+patches': { vsock: 0x33d000002n, net: 0x1033d008000n, vsockBackend: 0x2n },
};

/** Kernel-internal codes that must never reach userspace (524 ENOTSUPP leaks on purpose: vhost.md §0.3). */
const INTERNAL = new Set([
  'ERESTARTSYS',
  'ERESTARTNOINTR',
  'ERESTARTNOHAND',
  'ENOIOCTLCMD',
  'ERESTART_RESTARTBLOCK',
  'EPROBE_DEFER',
  'EOPENSTALE',
  'ENOPARAM',
  'EBADHANDLE',
  'ENOTSYNC',
  'EBADCOOKIE',
]);
const ERRNOS = new Set<string>(ERRNO_NAMES);

/** The errnos each path can return (the kernel functions of drivers/vhost, drivers/net/tun.c, fs/). */
const ALLOWED: Record<string, string[]> = {
  'ioctl vhost-vsock': [
    'E2BIG',
    'EADDRINUSE',
    'EBUSY',
    'EFAULT',
    'EINVAL',
    'ENOBUFS',
    'ENOTTY',
    'EOPNOTSUPP',
    'EPERM',
    'EBADF',
  ],
  'ioctl vhost-net': [
    'E2BIG',
    'EBUSY',
    'EFAULT',
    'EINVAL',
    'ENOBUFS',
    'ENOTTY',
    'EOPNOTSUPP',
    'EPERM',
    'EBADF',
    'ENOTSOCK',
  ],
  'ioctl tun': ['EFAULT', 'EEXIST', 'EBADFD', 'EINVAL', 'EPERM', 'EBUSY', 'ENFILE', 'E2BIG'],
  'ioctl eventfd': ['ENOTTY'],
  'read vhost-vsock': ['EAGAIN', 'EBADFD', 'EINVAL', 'EBADF'],
  'read vhost-net': ['EAGAIN', 'EBADFD', 'EBADF'],
  'read eventfd': ['EAGAIN', 'EINVAL', 'EFAULT', 'EBADF'],
  'read tun': ['EAGAIN', 'EBADFD', 'EBADF'],
  'write vhost-vsock': ['EINVAL', 'EFAULT', 'EBADF'],
  'write vhost-net': ['EINVAL', 'EFAULT', 'EBADF'],
  'write eventfd': ['EINVAL', 'EAGAIN', 'EFAULT', 'EBADF'],
  'write tun': ['EBADFD', 'EINVAL', 'EFAULT', 'EIO', 'EBADF'],
  'ioctl vhost-vdpa': [
    'E2BIG',
    'EBUSY',
    'EFAULT',
    'EINVAL',
    'EIO',
    'ENOBUFS',
    'ENOMEM',
    'ENOTTY',
    'EOPNOTSUPP',
    'EPERM',
    'EBADF',
    'ENOTSUPP',
  ],
  'read vhost-vdpa': ['EAGAIN', 'EBADFD', 'EINVAL', 'EBADF'],
  'write vhost-vdpa': ['EINVAL', 'EFAULT', 'EBADF'],
  open: ['ENOENT', 'EBUSY'],
  close: ['EBADF'],
  pass: ['EBADF'],
};

/** A step as it ran: the descriptor, the names to write it with, and its outcome. */
export interface Ran {
  step: Step;
  proc: string;
  /** the scenario step that makes the same calls (to-yaml.ts writes it) */
  yaml: Record<string, unknown>;
  ret: string;
  errno: string | null;
}

export interface Violation {
  /** index into `ran` of the step after which it was seen (ran.length for the final checks) */
  at: number;
  kind: string;
  message: string;
}

export interface Outcome {
  ran: Ran[];
  violations: Violation[];
  steps: number;
}

interface PState {
  name: string;
  proc: Process;
  alive: boolean;
  maps: { name: string; addr: bigint; size: bigint }[];
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    typeof x === 'bigint' ? `${x < 0n ? '-' : ''}0x${(x < 0n ? -x : x).toString(16)}` : x,
  );
}

class Sim {
  readonly k: Kernel;
  readonly procs: PState[] = [];
  readonly ran: Ran[] = [];
  readonly violations: Violation[] = [];
  private mapNo = 0;
  private efdNo = 0;
  private procNo = 0;

  constructor(
    readonly profile: ProfileName,
    private readonly ignore: ReadonlySet<string> = new Set(),
  ) {
    const pp = profileOf(profile);
    const prof = makeProfile(pp.kernel, pp.patches);
    if (typeof prof === 'string') throw new Error(prof);
    this.k = new Kernel(prof);
    registerDrivers(this.k);
    const main = this.k.spawn('main');
    this.procs.push({ name: 'main', proc: main, alive: true, maps: [] });
    // fput on a released file, or one without references, is a double release
    const orig = this.k.fput.bind(this.k);
    this.k.fput = (f: OpenFile) => {
      if (f.released || f.refs <= 0)
        this.violate('double-release', `fput of file ${f.id} (${f.path}) with refs ${f.refs}`);
      orig(f);
      if (f.refs < 0) this.violate('negative-refs', `file ${f.id} refs ${f.refs}`);
    };
  }

  violate(kind: string, message: string): void {
    if (this.ignore.has(kind)) return;
    this.violations.push({ at: this.ran.length, kind, message });
  }

  resolve(ps: PState, v: Val): { value: bigint; yaml: bigint | string } {
    if (typeof v === 'bigint') return { value: v, yaml: v };
    const m = ps.maps[v.map % Math.max(ps.maps.length, 1)];
    if (!m) return { value: v.off, yaml: v.off };
    return { value: BigInt.asUintN(64, m.addr + v.off), yaml: `$${m.name} + 0x${v.off.toString(16)}` };
  }

  // ---- one step ----

  run(step: Step): void {
    const ps =
      step.op === 'spawn' ? this.procs[0]! : this.procs[(step as { p: number }).p % this.procs.length]!;
    if (!ps.alive) return;
    const y: Record<string, unknown> = {};
    const rec: Ran = { step, proc: ps.name, yaml: y, ret: '0', errno: null };
    const k = this.k;
    const p = ps.proc;
    const before = this.tables();
    const fdOf = (step as { fd?: number }).fd;
    const kindBefore = fdOf === undefined ? undefined : p.fds.get(fdOf)?.ops.kind;
    let o: SysOutcome | undefined;
    let usedFd: number | undefined;
    switch (step.op) {
      case 'open': {
        let flags = O_RDWR;
        if (step.flags) {
          flags = 0;
          for (const f of step.flags) flags |= { O_RDONLY, O_WRONLY, O_RDWR, O_NONBLOCK }[f] ?? 0;
        }
        y.open = step.path;
        if (step.flags) y.flags = step.flags;
        let lowest = 3;
        while (p.fds.get(lowest)) lowest++;
        o = k.open(p, step.path, flags);
        if (o.ok === true && o.ret !== lowest)
          this.violate('fd-not-lowest', `open gave ${o.ret}, lowest free ${lowest}`);
        break;
      }
      case 'close':
        usedFd = step.fd;
        y.close = BigInt(step.fd);
        o = k.close(p, step.fd);
        break;
      case 'fork': {
        const name = `p${++this.procNo}`;
        const child = k.fork(p, name);
        this.procs.push({ name, proc: child, alive: true, maps: ps.maps.map((m) => ({ ...m })) });
        y.fork = name;
        rec.ret = String(child.pid);
        break;
      }
      case 'spawn': {
        const name = `p${++this.procNo}`;
        this.procs.push({ name, proc: k.spawn(name), alive: true, maps: [] });
        y.spawn = name;
        break;
      }
      case 'exit':
        y.exit = ps.name;
        k.exit(p);
        ps.alive = false;
        break;
      case 'pass': {
        const to = this.procs[step.to % this.procs.length]!;
        if (!to.alive) return;
        Object.assign(y, { pass: BigInt(step.fd), to: to.name, as: `x${this.efdNo++}` });
        const f = k.fget(p, step.fd);
        if (!f)
          o = {
            ok: false,
            errno: 'EBADF',
            site: { function: 'scm_fp_copy', check: '!fget_raw(fd)', errno: 'EBADF' },
          };
        else {
          f.refs++;
          o = { ok: true, ret: k.installFd(to.proc, f) };
        }
        break;
      }
      case 'eventfd':
        y.eventfd = `e${this.efdNo++}`;
        o = k.eventfd(p);
        break;
      case 'mmap': {
        const name = `m${this.mapNo++}`;
        Object.assign(y, { mmap: name, size: step.size, ...(step.memfd ? { memfd: true } : {}) });
        o = k.mmap(p, { size: step.size, prot: PROT_READ | PROT_WRITE, kind: step.memfd ? 'memfd' : 'anon' });
        const addr = o.ok === true ? BigInt(o.ret) : -1n;
        // do_mmap: PAGE_ALIGN(len) == 0 or len > TASK_SIZE is ENOMEM; an address is page-aligned user space
        if (o.ok === true && (addr < 0x1000n || addr % 0x1000n !== 0n || addr + step.size > 0x7ffffffff000n))
          this.violate(
            'mmap-address',
            `mmap of 0x${step.size.toString(16)} bytes gave address ${show(addr)}`,
          );
        ps.maps.push({ name, addr, size: o.ok === true ? step.size : 0n });
        const v = p.mm.findVma(addr);
        if (v) v.name = name;
        break;
      }
      case 'poke': {
        const m = ps.maps[step.map % Math.max(ps.maps.length, 1)];
        if (!m || m.addr < 0n) return;
        const addr = m.addr + step.off;
        const vma = p.mm.findVma(addr);
        if (!vma || addr + BigInt(step.width) > vma.end) return; // outside: an input error, not a call
        Object.assign(y, {
          poke: m.name,
          offset: step.off,
          value: step.value & ((1n << BigInt(step.width * 8)) - 1n),
          width: BigInt(step.width),
        });
        const b = new Uint8Array(step.width);
        let x = step.value & ((1n << BigInt(step.width * 8)) - 1n);
        for (let i = 0; i < step.width; i++, x >>= 8n) b[i] = Number(x & 0xffn);
        vma.obj.write(vma.pgoff + (addr - vma.start), b);
        break;
      }
      case 'ioctl': {
        usedFd = step.fd;
        const r = this.ioctl(ps, step, rec, before);
        if (r === 'skip') return;
        o = r;
        break;
      }
      case 'write': {
        usedFd = step.fd;
        o = this.write(ps, step, rec, before);
        break;
      }
      case 'read': {
        usedFd = step.fd;
        const f = p.fds.get(step.fd);
        const isEventfd = f?.ops.kind === 'eventfd';
        const len = step.len ?? (isEventfd ? 8 : MSG_SIZE);
        Object.assign(y, {
          read: BigInt(step.fd),
          nonblock: true,
          ...(step.len !== undefined ? { len: BigInt(step.len) } : {}),
        });
        const addr = k.stage(p, new Uint8Array(Math.min(len, 0x8000)), READ_AT);
        const hadMsg = this.rows(before, 'pending').some((r) => f && r.file === f.id && r.list === 'read');
        o = k.read(p, step.fd, addr, len, true);
        if (
          f?.ops.read &&
          f.ops.kind.startsWith('vhost-') &&
          (f.flags & 3) !== O_WRONLY &&
          len >= MSG_SIZE &&
          o.ok !== 'blocked'
        ) {
          const got = o.ok === true ? Number(o.ret) : -1;
          if (hadMsg !== (got === MSG_SIZE))
            this.violate(
              'read-vs-pending',
              `read gave ${show(o)} with ${hadMsg ? 'a' : 'no'} queued message`,
            );
        }
        break;
      }
      case 'poll': {
        usedFd = step.fd;
        const f = p.fds.get(step.fd);
        y.poll = BigInt(step.fd);
        const r = k.poll(p, step.fd, POLL_EVENTS);
        rec.ret = String(r.ret);
        if (!f && r.revents !== POLLNVAL)
          this.violate('closed-fd-usable', `poll of closed fd ${step.fd}: ${r.revents}`);
        if (f?.ops.poll && f.ops.kind.startsWith('vhost-')) {
          const queued = this.rows(before, 'pending').some((x) => x.file === f.id && x.list === 'read');
          if (queued !== ((r.revents & POLLIN) !== 0))
            this.violate('poll-vs-pending', `poll revents ${r.revents}, queued message: ${queued}`);
        }
        break;
      }
      case 'signal': {
        usedFd = step.fd;
        const b = new Uint8Array(8);
        b[0] = 1;
        y.signal = BigInt(step.fd);
        o = k.write(p, step.fd, k.stage(p, b), 8);
        break;
      }
    }
    if (o) {
      if (o.ok === 'blocked') {
        this.violate('blocked', `${step.op} blocked although it does not wait`);
      } else if (o.ok) {
        rec.ret = String(o.ret);
      } else {
        rec.ret = '-1';
        rec.errno = o.errno;
        if (!ERRNOS.has(o.errno) || INTERNAL.has(o.errno))
          this.violate('bad-errno', `${step.op} failed with ${o.errno}, not an errno userspace can see`);
        if (!o.site || typeof o.site.function !== 'string' || !o.site.function || !o.site.check)
          this.violate('no-site', `${step.op} failed with ${o.errno} without a site: ${show(o.site)}`);
        else if (!ERRNOS.has(o.site.errno)) this.violate('bad-errno', `site errno ${o.site.errno}`);
        const op = step.op === 'signal' ? 'write' : step.op;
        const path =
          kindBefore === undefined || !['ioctl', 'read', 'write'].includes(op) ? op : `${op} ${kindBefore}`;
        const allowed = ALLOWED[path];
        if (kindBefore === undefined && ['ioctl', 'read', 'write'].includes(op)) {
          if (o.errno !== 'EBADF') this.violate('errno-path', `${op} on no file gave ${o.errno}`);
        } else if (allowed && !allowed.includes(o.errno))
          this.violate(
            'errno-path',
            `${path} gave ${o.errno} (${o.site.function}: ${o.site.check}), not one of ${allowed.join(' ')}`,
          );
      }
    }
    if (usedFd !== undefined && step.op !== 'poll') {
      const wasOpen = this.rows(before, '__fds').some((r) => r.proc === ps.name && r.fd === usedFd);
      if (!wasOpen && (o?.ok !== false || o.errno !== 'EBADF'))
        this.violate('closed-fd-usable', `${step.op} on fd ${usedFd}, not open, gave ${show(o)}, not EBADF`);
    }
    this.ran.push(rec);
    if (step.op === 'close' && o?.ok === true) {
      // a closed fd is never usable: the next call on it must be EBADF (a real step, so it replays)
      this.run({ op: 'ioctl', p: this.procs.indexOf(ps), fd: step.fd, req: 'VHOST_GET_FEATURES' });
    }
  }

  private ioctl(
    ps: PState,
    step: Extract<Step, { op: 'ioctl' }>,
    rec: Ran,
    before: StateTables,
  ): SysOutcome | 'skip' {
    const k = this.k;
    const p = ps.proc;
    const f = p.fds.get(step.fd);
    let def: IoctlDef | undefined;
    let number: number;
    if (typeof step.req === 'string') {
      def = ioctlByName(step.req);
      if (!def) return 'skip';
      number = def.number;
    } else {
      number = step.req >>> 0;
      const cands = ioctlsByNumber(number);
      def =
        (f &&
          cands.find(
            (d) => d.family === f.ops.kind || (d.family === 'vhost' && f.ops.kind.startsWith('vhost-')),
          )) ??
        (cands.length === 1 ? cands[0] : undefined);
    }
    let arg: bigint;
    let staged: { addr: bigint; len: number } | undefined;
    const stage = (b: Uint8Array) => {
      const addr = k.stage(p, b);
      staged = { addr, len: b.length };
      return addr;
    };
    const y = rec.yaml;
    y.ioctl = typeof step.req === 'string' ? step.req : BigInt(number);
    y.fd = BigInt(step.fd);
    const ya: Record<string, unknown> = {};
    /** resolves a value for the call and notes how the scenario writes it under `key` of arg: */
    const val = (v: Val, key?: string) => {
      const r = this.resolve(ps, v);
      if (key) ya[key] = r.yaml;
      return r.value;
    };
    if (step.argp !== undefined) {
      y.argp = this.resolve(ps, step.argp).yaml;
      arg = val(step.argp);
    } else if (!def) {
      const d = iocDecode(number);
      arg = d.dir === 'none' || d.size === 0 ? 0n : stage(new Uint8Array(d.size));
    } else {
      const a = def.arg;
      const desc: ArgDesc | undefined = step.arg;
      if (desc?.kind === 'int') y.arg = desc.v;
      if (a.kind === 'value') arg = desc?.kind === 'int' ? desc.v : 0n;
      else if (a.kind === 'scalar') {
        const b = new Uint8Array(argSize(a));
        if (desc?.kind === 'int') writeScalar(b, 0, a.type, BigInt.asUintN(b.length * 8, desc.v));
        arg = stage(b);
      } else if (a.kind === 'struct') {
        const vals: Record<string, bigint> = {};
        if (desc?.kind === 'struct') {
          for (const fd of a.def.fields) {
            const v = desc.fields[fd.name];
            if (v !== undefined) vals[fd.name] = val(v, fd.name);
          }
          y.arg = ya;
        }
        arg = stage(encodeStruct(a.def, vals));
      } else if (a.layout === 'vhost_memory') {
        const regions = desc?.kind === 'mem' ? desc.regions : [];
        const b = new Uint8Array(vhost_memory.size + regions.length * vhost_memory_region.size);
        writeScalar(
          b,
          0,
          'u32',
          desc?.kind === 'mem' && desc.nregions !== undefined ? desc.nregions : BigInt(regions.length),
        );
        if (desc?.kind === 'mem' && desc.padding !== undefined) writeScalar(b, 4, 'u32', desc.padding);
        const yr: Record<string, unknown>[] = [];
        regions.forEach((r, i) => {
          const o = vhost_memory.size + i * vhost_memory_region.size;
          writeScalar(b, o, 'u64', r.guest_phys_addr);
          writeScalar(b, o + 8, 'u64', r.memory_size);
          const ua = this.resolve(ps, r.userspace_addr);
          writeScalar(b, o + 16, 'u64', ua.value);
          yr.push({
            guest_phys_addr: r.guest_phys_addr,
            memory_size: r.memory_size,
            userspace_addr: ua.yaml,
          });
        });
        if (desc?.kind === 'mem') {
          y.arg = {
            regions: yr,
            ...(desc.nregions !== undefined ? { nregions: desc.nregions } : {}),
            ...(desc.padding !== undefined ? { padding: desc.padding } : {}),
          };
        }
        arg = stage(b);
      } else if (a.layout === 'ifreq') {
        const b = new Uint8Array(IFREQ_SIZE);
        if (desc?.kind === 'ifreq') {
          b.set(new TextEncoder().encode(desc.name), 0);
          writeScalar(b, 16, 'u16', desc.flags);
          y.arg = { ifr_name: desc.name, ifr_flags: desc.flags };
        }
        arg = stage(b);
      } else return 'skip';
    }
    const o = k.ioctl(p, step.fd, number, arg);
    if (f && o.ok !== 'blocked') this.crossCheck(ps, f, def?.name, step, o, staged, before);
    return o;
  }

  private write(ps: PState, step: Extract<Step, { op: 'write' }>, rec: Ran, before: StateTables): SysOutcome {
    const k = this.k;
    const p = ps.proc;
    const f = p.fds.get(step.fd);
    const version = step.version ?? f?.ops.defaultMsgVersion?.(f) ?? 1;
    const b = new Uint8Array(MSG_SIZE);
    const v = new DataView(b.buffer);
    const m = step.msg;
    v.setUint32(0, Number(step.header ?? BigInt(version)), true);
    if (version === 2 && m.asid !== undefined) v.setUint32(4, Number(m.asid), true);
    const iova = this.resolve(ps, m.iova);
    const uaddr = this.resolve(ps, m.uaddr);
    rec.yaml.write = BigInt(step.fd);
    rec.yaml.iotlb = {
      type: BigInt(m.type & 0xff),
      iova: iova.yaml,
      size: m.size,
      uaddr: uaddr.yaml,
      perm: BigInt(m.perm & 0xff),
      ...(m.asid !== undefined ? { asid: m.asid } : {}),
    };
    if (step.version !== undefined) rec.yaml.version = BigInt(step.version);
    if (step.len !== undefined) rec.yaml.len = BigInt(step.len);
    if (step.header !== undefined) rec.yaml.header = step.header;
    v.setBigUint64(8, iova.value, true);
    v.setBigUint64(16, m.size, true);
    v.setBigUint64(24, uaddr.value, true);
    b[32] = m.perm & 0xff;
    b[33] = m.type & 0xff;
    const len = step.len ?? MSG_SIZE;
    const buf = new Uint8Array(Math.max(len, MSG_SIZE));
    buf.set(b);
    const dev = f ? vhostDev(f) : undefined;
    const isVdpa = f?.ops.kind === 'vhost-vdpa';
    // vhost_vdpa_va_map maps only VM_SHARED file-backed VMAs and skips the rest with success, so on a
    // use_va parent an UPDATE may add nothing: the check is for PA parents (vhost_vdpa_pa_map pins all)
    const full = isVdpa
      ? (f!.priv as VhostVdpa).sim.useVa
      : dev?.iotlb
        ? dev.iotlb.nmaps >= MAX_IOTLB_ENTRIES
        : true;
    // the address space a v2 message names: vhost_chr_write_iter reads the header's asid word only
    // with VHOST_BACKEND_F_IOTLB_ASID (bit 3) acked; v1 messages and the rest are ASID 0
    const asidAcked = dev?.vqs[0] ? ((dev.vqs[0].ackedBackendFeatures >> 3n) & 1n) === 1n : false;
    const asid = version === 2 && asidAcked && m.asid !== undefined ? Number(m.asid) : 0;
    const o = k.write(p, step.fd, k.stage(p, buf), len);
    if (o.ok === true && f && dev && len >= MSG_SIZE && step.header === undefined) {
      const last = iova.value + m.size - 1n;
      const rows = this.rows(this.tables(), 'iotlb').filter(
        (r) => r.file === f.id && (!isVdpa || (r.view === 'vhost' && r.asid === asid)),
      );
      const type = m.type & 0xff;
      if (type === 2 && m.size > 0n && !full && !rows.some((r) => covers(r, iova.value)))
        this.violate('iotlb-update-lost', `UPDATE of 0x${iova.value.toString(16)} ok, no entry covers it`);
      if (type === 3 && m.size > 0n && last < TWO64) {
        const left = rows.find((r) => overlaps(r, iova.value, last));
        if (left) this.violate('iotlb-invalidate-kept', `INVALIDATE ok, entry left: ${show(left)}`);
      }
    }
    void before;
    return o;
  }

  /** What an answer says against what `inspect` would show. */
  private crossCheck(
    ps: PState,
    f: OpenFile,
    name: string | undefined,
    step: Extract<Step, { op: 'ioctl' }>,
    o: SysOutcome,
    staged: { addr: bigint; len: number } | undefined,
    before: StateTables,
  ): void {
    const kind = f.ops.kind;
    if (kind === 'vhost-vdpa') {
      this.crossCheckVdpa(ps, f as OpenFile<VhostVdpa>, name, step, o, staged);
      return;
    }
    if (kind !== 'vhost-vsock' && kind !== 'vhost-net') return;
    const fam = kind === 'vhost-vsock' ? 'vsock' : 'net';
    const after = this.tables();
    const row = this.rows(after, 'vhost').find((r) => r.file === f.id);
    const rowBefore = this.rows(before, 'vhost').find((r) => r.file === f.id);
    const readU64 = () => {
      if (!staged) return undefined;
      const b = ps.proc.mm.copyFromUser(staged.addr, 8);
      return b ? new DataView(b.buffer).getBigUint64(0, true) : undefined;
    };
    const argInt =
      step.argp === undefined && step.arg?.kind === 'int'
        ? step.arg.v
        : step.argp === undefined
          ? 0n
          : undefined;
    const fields =
      step.argp === undefined && step.arg?.kind === 'struct'
        ? step.arg.fields
        : step.argp === undefined
          ? {}
          : undefined;
    const lit = (x: Val | undefined) => (x === undefined ? 0n : this.resolve(ps, x).value);
    const ok = o.ok === true;
    const offer = OFFER[this.profile];
    switch (name) {
      case 'VHOST_GET_FEATURES':
        if (ok && staged && readU64() !== offer[fam])
          this.violate(
            'features-offer',
            `${kind} GET_FEATURES on ${this.profile}: 0x${readU64()?.toString(16)}, ` +
              `expected 0x${offer[fam].toString(16)}`,
          );
        if (!ok && staged) this.violate('features-offer', `GET_FEATURES failed: ${show(o)}`);
        break;
      case 'VHOST_GET_BACKEND_FEATURES': {
        const want = fam === 'net' ? 0x2n : offer.vsockBackend;
        if (want === null) {
          if (ok) this.violate('backend-offer', `vsock GET_BACKEND_FEATURES ok on ${this.profile}`);
        } else if (ok && staged && readU64() !== want)
          this.violate('backend-offer', `GET_BACKEND_FEATURES 0x${readU64()?.toString(16)}`);
        break;
      }
      case 'VHOST_SET_FEATURES':
        if (ok && argInt !== undefined && row?.features !== argInt)
          this.violate(
            'inspect-features',
            `SET_FEATURES 0x${argInt.toString(16)} ok, vhost row features ${show(row?.features)}`,
          );
        if (ok && argInt !== undefined && (argInt & ~offer[fam]) !== 0n)
          this.violate('features-offer', `SET_FEATURES of unoffered bits 0x${argInt.toString(16)} succeeded`);
        break;
      case 'VHOST_SET_BACKEND_FEATURES':
        if (ok && argInt !== undefined && row?.backend_features !== argInt)
          this.violate('inspect-features', `SET_BACKEND_FEATURES ok, row ${show(row?.backend_features)}`);
        break;
      case 'VHOST_SET_OWNER':
        if (ok !== (rowBefore?.owner === null))
          this.violate('inspect-owner', `SET_OWNER ${show(o)} with owner ${show(rowBefore?.owner)} before`);
        if (ok && row?.owner !== ps.name)
          this.violate('inspect-owner', `owner ${show(row?.owner)} after SET_OWNER by ${ps.name}`);
        break;
      case 'VHOST_SET_VRING_NUM':
      case 'VHOST_SET_VRING_ADDR':
      case 'VHOST_SET_VRING_KICK':
      case 'VHOST_SET_VRING_CALL':
      case 'VHOST_SET_VRING_ERR': {
        if (!ok || !fields) break;
        const idx = Number(lit(fields.index) & 0xffffffffn);
        const vr = this.rows(after, 'vrings').find((r) => r.file === f.id && r.index === idx);
        const want: Record<string, bigint | number> = {};
        if (name === 'VHOST_SET_VRING_NUM') want.num = Number(lit(fields.num));
        else if (name === 'VHOST_SET_VRING_ADDR') {
          for (const k of ['desc_user_addr', 'avail_user_addr', 'used_user_addr', 'log_guest_addr'] as const)
            want[k] = lit(fields[k]);
        } else {
          const key =
            name === 'VHOST_SET_VRING_KICK' ? 'kick' : name === 'VHOST_SET_VRING_CALL' ? 'call' : 'err';
          want[key] = Number(BigInt.asIntN(32, lit(fields.fd)));
        }
        for (const [key, w] of Object.entries(want)) {
          if (vr?.[key] !== w)
            this.violate('inspect-vring', `${name} ok, vrings row ${key} ${show(vr?.[key])}, set ${show(w)}`);
        }
        break;
      }
      case 'VHOST_GET_VRING_BASE': {
        if (!ok || !staged || !fields) break;
        const b = ps.proc.mm.copyFromUser(staged.addr, 8)!;
        const dv = new DataView(b.buffer);
        const idx = dv.getUint32(0, true);
        const num = dv.getUint32(4, true);
        const vr = this.rows(after, 'vrings').find((r) => r.file === f.id && r.index === idx);
        const feats = typeof row?.features === 'bigint' ? row.features : 0n;
        if (!(feats & (1n << 34n)) && vr?.last_avail_idx !== num)
          this.violate(
            'inspect-vring',
            `GET_VRING_BASE num ${num}, row last_avail_idx ${show(vr?.last_avail_idx)}`,
          );
        break;
      }
      case 'VHOST_VSOCK_SET_GUEST_CID':
        if (ok && argInt !== undefined && row?.guest_cid !== Number(argInt))
          this.violate('inspect-cid', `SET_GUEST_CID ${argInt} ok, row guest_cid ${show(row?.guest_cid)}`);
        break;
      case 'VHOST_VSOCK_SET_RUNNING':
        if (ok && argInt !== undefined && row?.running !== (BigInt.asIntN(32, argInt) !== 0n))
          this.violate('inspect-running', `SET_RUNNING ${argInt} ok, row running ${show(row?.running)}`);
        break;
    }
  }

  /** vhost-vdpa answers against the vhost and vrings rows `inspect` shows. */
  private crossCheckVdpa(
    ps: PState,
    f: OpenFile<VhostVdpa>,
    name: string | undefined,
    step: Extract<Step, { op: 'ioctl' }>,
    o: SysOutcome,
    staged: { addr: bigint; len: number } | undefined,
  ): void {
    if (o.ok !== true) return;
    const after = this.tables();
    const row = this.rows(after, 'vhost').find((r) => r.file === f.id);
    const out = (off: number, width: 1 | 4 | 8): bigint | undefined => {
      if (!staged || step.argp !== undefined) return undefined;
      const b = ps.proc.mm.copyFromUser(staged.addr + BigInt(off), width);
      if (!b) return undefined;
      const dv = new DataView(b.buffer);
      return width === 1
        ? BigInt(dv.getUint8(0))
        : width === 4
          ? BigInt(dv.getUint32(0, true))
          : dv.getBigUint64(0, true);
    };
    const argInt = step.argp === undefined ? (step.arg?.kind === 'int' ? step.arg.v : 0n) : undefined;
    const fields = step.argp === undefined ? (step.arg?.kind === 'struct' ? step.arg.fields : {}) : undefined;
    const lit = (x: Val | undefined) => (x === undefined ? 0n : this.resolve(ps, x).value);
    const vring = (i: bigint) =>
      this.rows(after, 'vrings').find((r) => r.file === f.id && BigInt(r.index as number) === i);
    switch (name) {
      case 'VHOST_VDPA_GET_STATUS': {
        const s = out(0, 1);
        if (s !== undefined && BigInt(row?.status as number) !== s)
          this.violate('inspect-vdpa', `GET_STATUS ${s}, vhost row status ${show(row?.status)}`);
        break;
      }
      case 'VHOST_VDPA_SET_STATUS':
        // vhost_vdpa_set_status: 0 resets (vdpa_reset), anything else is set_status(status)
        if (argInt !== undefined && BigInt(row?.status as number) !== (argInt & 0xffn))
          this.violate(
            'inspect-vdpa',
            `SET_STATUS 0x${argInt.toString(16)} ok, row status ${show(row?.status)}`,
          );
        break;
      case 'VHOST_GET_FEATURES': {
        // vhost_vdpa_get_features: the parent's get_device_features, fixed for the device
        const v = out(0, 8);
        if (v !== undefined && v !== f.priv.sim.supported)
          this.violate(
            'inspect-vdpa',
            `GET_FEATURES 0x${v.toString(16)}, device offers 0x${f.priv.sim.supported.toString(16)}`,
          );
        break;
      }
      case 'VHOST_SET_FEATURES': {
        // vdpasim_set_driver_features keeps features & supported (device_features is what the
        // parent holds); from the ASID series vhost acks get_driver_features() in every vq
        const want = argInt === undefined ? undefined : argInt & f.priv.sim.supported;
        if (want !== undefined && row?.device_features !== want)
          this.violate(
            'inspect-vdpa',
            `SET_FEATURES 0x${argInt!.toString(16)} ok, row device_features ${show(row?.device_features)}`,
          );
        if (want !== undefined && this.k.profile.has('vdpa-asid') && row?.features !== want)
          this.violate(
            'inspect-vdpa',
            `SET_FEATURES 0x${argInt!.toString(16)} ok, row features ${show(row?.features)}`,
          );
        break;
      }
      case 'VHOST_SET_BACKEND_FEATURES':
        if (argInt !== undefined && row?.backend_features !== argInt)
          this.violate('inspect-vdpa', `SET_BACKEND_FEATURES ok, row ${show(row?.backend_features)}`);
        break;
      case 'VHOST_VDPA_GET_VRING_GROUP': {
        const idx = out(0, 4);
        const g = out(4, 4);
        if (idx !== undefined && g !== undefined && BigInt(vring(idx)?.group as number) !== g)
          this.violate(
            'inspect-vdpa',
            `GET_VRING_GROUP ${idx}: ${g}, vrings row group ${show(vring(idx)?.group)}`,
          );
        break;
      }
      case 'VHOST_VDPA_SET_GROUP_ASID': {
        if (!fields) break;
        const g = lit(fields.index) & 0xffffffffn;
        const asid = lit(fields.num) & 0xffffffffn;
        for (const r of this.rows(after, 'vrings').filter(
          (x) => x.file === f.id && BigInt(x.group as number) === g,
        ))
          if (BigInt(r.asid as number) !== asid)
            this.violate(
              'inspect-vdpa',
              `SET_GROUP_ASID group ${g} asid ${asid} ok, vring ${r.index} asid ${show(r.asid)}`,
            );
        break;
      }
      case 'VHOST_VDPA_SUSPEND':
      case 'VHOST_VDPA_RESUME':
        // the suspended flag exists from 6.8; from 6.9 both are no-ops before DRIVER_OK
        if (
          this.k.profile.has('vdpa-suspended-state') &&
          ((row?.status as number) & 4) !== 0 &&
          row?.suspended !== (name === 'VHOST_VDPA_SUSPEND')
        )
          this.violate('inspect-vdpa', `${name} ok, row suspended ${show(row?.suspended)}`);
        break;
      case 'VHOST_VDPA_SET_VRING_ENABLE': {
        if (!fields) break;
        const idx = lit(fields.index) & 0xffffffffn;
        const want = (lit(fields.num) & 0xffffffffn) !== 0n;
        if (vring(idx) && vring(idx)?.ready !== want)
          this.violate(
            'inspect-vdpa',
            `SET_VRING_ENABLE ${idx} ${want} ok, row ready ${show(vring(idx)?.ready)}`,
          );
        break;
      }
    }
  }

  // ---- invariants ----

  tables(): StateTables {
    const t: StateTables = {};
    this.k.driverState(t);
    const fds: StateRow[] = [];
    for (const ps of this.procs) {
      if (!ps.alive) continue;
      for (const [fd, f] of ps.proc.fds.map) fds.push({ proc: ps.name, fd, file: f.id });
    }
    t.__fds = fds;
    return t;
  }

  rows(t: StateTables, key: string): StateRow[] {
    return t[key] ?? [];
  }

  check(final: boolean): void {
    const k = this.k;
    // every reference to a file: fd table entries, and what vhost devices hold
    const refs = new Map<OpenFile, number>();
    const hold = (f: OpenFile | null | undefined) => {
      if (f) refs.set(f, (refs.get(f) ?? 0) + 1);
    };
    for (const ps of this.procs) {
      if (ps.proc.exited !== !ps.alive) this.violate('process-state', `${ps.name} exited=${ps.proc.exited}`);
      if (!ps.alive && ps.proc.fds.map.size) this.violate('exit-leaves-fds', `${ps.name} exited with fds`);
      for (const f of ps.proc.fds.map.values()) hold(f);
    }
    for (const f of k.files.values()) {
      const dev = vhostDev(f);
      if (!dev) continue;
      for (const vq of dev.vqs) {
        hold(vq.kick);
        hold(vq.call);
        hold(vq.err);
        if (dev.family === 'vhost-net') hold(vq.backend as OpenFile | null);
      }
      hold(dev.logCtx);
      if (f.ops.kind === 'vhost-vdpa') hold((f.priv as VhostVdpa).configCtx);
    }
    for (const [f, n] of refs) {
      if (f.released || !k.files.has(f.id))
        this.violate('use-after-release', `file ${f.id} (${f.path}) released but still referenced ${n}x`);
      else if (f.refs !== n)
        this.violate('refcount', `file ${f.id} (${f.path}) refs ${f.refs}, holders ${n}`);
    }
    for (const f of k.files.values()) {
      if (f.refs < 1) this.violate('refcount', `open file ${f.id} (${f.path}) with refs ${f.refs}`);
      if (!refs.has(f)) this.violate('leak', `file ${f.id} (${f.path}) refs ${f.refs} but nothing holds it`);
      const dev = vhostDev(f);
      if (dev) this.checkIotlb(f, dev);
      if (f.ops.kind === 'vhost-vdpa') this.checkVdpa(f as OpenFile<VhostVdpa>);
    }
    for (const r of this.rows(this.tables(), 'iotlb')) {
      if (r.size === 0n || r.size === 0) this.violate('iotlb-size0', `iotlb row of size 0: ${show(r)}`);
    }
    if (final) {
      if (k.files.size)
        this.violate(
          'leak',
          `files left after every process exited: ` +
            show([...k.files.values()].map((f) => `${f.id}:${f.path} refs ${f.refs}`)),
        );
      const cids = k.globals.get('vhost-vsock') as Map<bigint, unknown> | undefined;
      if (cids?.size)
        this.violate('leak', `vsock CIDs left after every file closed: ${show([...cids.keys()])}`);
      const tun = k.globals.get('tun') as Map<string, unknown> | undefined;
      if (tun && [...tun.keys()].some((n) => n !== 'lo'))
        this.violate('leak', `tun interfaces left: ${show([...tun.keys()])}`);
    }
  }

  private checkIotlb(f: OpenFile, dev: VhostDev): void {
    const split = this.k.profile.has('iotlb-split-full-range');
    for (const [what, t] of [
      ['device IOTLB', dev.iotlb],
      ['memory table', dev.umem],
    ] as const) {
      if (!t) continue;
      const maps = t.maps();
      if (maps.length !== t.nmaps)
        this.violate('iotlb-count', `${what} of file ${f.id}: nmaps ${t.nmaps}, ${maps.length} maps`);
      if (what === 'device IOTLB' && t.nmaps > MAX_IOTLB_ENTRIES)
        this.violate('iotlb-count', `nmaps ${t.nmaps}`);
      for (const m of maps) {
        if (
          m.last < m.start ||
          m.size !== m.last - m.start + 1n ||
          m.size <= 0n ||
          m.size > TWO64 ||
          m.last > U64_MAX
        )
          this.violate('iotlb-entry', `${what} of file ${f.id}: bad entry ${show(m)}`);
        if (split && m.size === TWO64)
          this.violate(
            'iotlb-size0',
            `${what} of file ${f.id}: an entry over all 2^64 bytes (u64 size 0) on a splitting profile`,
          );
      }
    }
  }

  /**
   * vhost-vdpa: the entries of each ASID's IOTLB never overlap (vhost_vdpa_process_iotlb_update refuses
   * an overlapping UPDATE with EEXIST), and `inspect: iotlb` shows exactly those entries.
   */
  private checkVdpa(f: OpenFile<VhostVdpa>): void {
    const v = f.priv;
    if (v.file !== null && v.file !== f)
      this.violate('vdpa-state', `vhost-vdpa ${v.path}: file ${f.id} open, device's file ${v.file.id}`);
    if (!v.opened) this.violate('vdpa-state', `vhost-vdpa ${v.path}: file ${f.id} open, device not opened`);
    const want: string[] = [];
    for (const asid of [...v.as.keys()].sort((a, b) => a - b)) {
      const t = v.as.get(asid)!;
      const maps = t.maps();
      if (maps.length !== t.nmaps)
        this.violate(
          'iotlb-count',
          `vdpa ASID ${asid} of file ${f.id}: nmaps ${t.nmaps}, ${maps.length} maps`,
        );
      if (asid < 0 || asid >= v.sim.nas)
        this.violate('vdpa-asid', `vdpa file ${f.id}: address space ${asid} allocated, nas ${v.sim.nas}`);
      let prev: { start: bigint; last: bigint } | undefined;
      for (const m of maps) {
        if (m.last < m.start || m.size !== m.last - m.start + 1n || m.size <= 0n || m.last > U64_MAX)
          this.violate('iotlb-entry', `vdpa ASID ${asid} of file ${f.id}: bad entry ${show(m)}`);
        if (prev && m.start <= prev.last)
          this.violate(
            'iotlb-overlap',
            `vdpa ASID ${asid} of file ${f.id}: entry ${show([m.start, m.last])} overlaps ${show([prev.start, prev.last])}`,
          );
        prev = m;
        want.push(show([asid, m.start, m.size, m.addr, m.perm]));
      }
    }
    const got = this.rows(this.tables(), 'iotlb')
      .filter((r) => r.file === f.id && r.view === 'vhost')
      .map((r) => show([r.asid, r.iova, BigInt(r.size as bigint), r.uaddr, r.perm]));
    if (show(got) !== show(want))
      this.violate('inspect-iotlb', `vdpa file ${f.id}: iotlb rows ${show(got)}, entries ${show(want)}`);
  }

  finish(): void {
    for (const ps of this.procs) {
      if (!ps.alive) continue;
      this.k.exit(ps.proc);
      ps.alive = false;
    }
  }
}

function covers(r: StateRow, a: bigint): boolean {
  const s = r.iova as bigint;
  const n = BigInt(r.size as bigint);
  return s <= a && a < s + n;
}

function overlaps(r: StateRow, a: bigint, last: bigint): boolean {
  const s = r.iova as bigint;
  const e = s + BigInt(r.size as bigint) - 1n;
  return s <= last && a <= e;
}

export function vhostDev(f: OpenFile): VhostDev | undefined {
  if (f.ops.kind === 'vhost-vsock') return (f.priv as VhostVsock).dev;
  if (f.ops.kind === 'vhost-net') return (f.priv as VhostNet).dev;
  if (f.ops.kind === 'vhost-vdpa') return (f.priv as VhostVdpa).dev ?? undefined;
  return undefined;
}

/** Runs a case, checking after every step; exceptions are violations. Stops at the first violation. */
export function runCase(
  c: Case,
  opts: { stopAtFirst?: boolean; ignore?: ReadonlySet<string> } = {},
): Outcome {
  const sim = new Sim(c.profile, opts.ignore);
  let n = 0;
  try {
    for (const s of c.steps) {
      sim.run(s);
      n++;
      sim.check(false);
      if (sim.violations.length && opts.stopAtFirst !== false) break;
    }
    if (!sim.violations.length) {
      sim.finish();
      sim.check(true);
    }
  } catch (e) {
    sim.violate('exception', e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e));
  }
  return { ran: sim.ran, violations: sim.violations, steps: n };
}

/** Greedy minimisation on top of fast-check's shrinking: drop steps while the same kind still fails. */
export function minimise(c: Case, kind: string, ignore?: ReadonlySet<string>): Case {
  let steps = c.steps;
  const fails = (s: Step[]) =>
    runCase({ profile: c.profile, steps: s }, ignore ? { ignore } : {}).violations.some(
      (v) => v.kind === kind,
    );
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = steps.length - 1; i >= 0; i--) {
      const t = [...steps.slice(0, i), ...steps.slice(i + 1)];
      if (fails(t)) {
        steps = t;
        changed = true;
      }
    }
  }
  return { ...c, steps };
}

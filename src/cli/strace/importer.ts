// `vioctl import-strace`: an strace log of a VMM → a scenario. Each call the emulator models
// becomes a step with its result as the expectation; every other line stays, as a comment, where
// it was. Processes come from -f's pid prefixes, fds are named by device and log fd number.
import { basename } from 'node:path';
import { iocDecode } from '../../uapi/ioc.js';
import { ioctlsByNumber } from '../../uapi/ioctls.js';
import { emitScenario, type YVal } from './emit.js';
import { mapArg } from './ioctl-args.js';
import { type CallEvent, readEvents } from './lines.js';
import { FdPassing } from './passing.js';
import { resolveRequest } from './requests.js';
import {
  type FdInfo,
  fdName,
  isNonblock,
  nodeType,
  openFlagList,
  openFlags,
  type Proc,
  parseResult,
  type Result,
} from './state.js';
import type { LineKind } from './steps.js';
import { atomNumber, parseArgs, type SVal } from './values.js';

export interface ImportOptions {
  file: string;
  name?: string;
  kernel?: string;
  /** the proposed patches the traced kernel carried (`patches:`) */
  patches?: string[];
}

export interface ImportStats {
  lines: number;
  steps: number;
  /** lines that became part of a step without one of their own (sysfs open/close, unfinished halves) */
  folded: number;
  comments: number;
}
/** ioctls that return a new fd */
const FD_RETURNING: Record<string, string> = {
  KVM_CREATE_VM: 'vm',
  KVM_CREATE_VCPU: 'vcpu',
  VFIO_GROUP_GET_DEVICE_FD: 'device',
};
/** a sysfs path the scenario language takes (no `..`, nothing a YAML reader could mistake) */
const SYSFS_PATH = /^\/sys\/[A-Za-z0-9_.:+,@/-]+$/;
const TYPE_OF_RETURNED: Record<string, string> = { vm: 'kvm-vm', vcpu: 'kvm-vcpu', device: 'vfio-device' };

class Importer extends FdPassing {
  kvm = false;
  /** the saved counts of INFO calls that answered ENOSPC, by device fd */
  readonly infoCounts = new Set<string>();

  run(): void {
    for (this.index = 0; this.index < this.events.length; this.index++) {
      const ev = this.events[this.index]!;
      if (ev.kind === 'other') {
        this.comment(ev, ev.why);
        continue;
      }
      const p = this.proc(ev.pid);
      if (ev.kind === 'exit') this.exit(ev.pid, p, ev);
      else this.call(p, ev);
    }
  }

  call(p: Proc, ev: CallEvent) {
    const args = parseArgs(ev.args);
    const r = parseResult(ev.result);
    switch (ev.name) {
      case 'open':
      case 'openat':
        return this.open(p, ev, ev.name === 'openat' ? args.slice(1) : args, r);
      case 'close':
        return this.close(p, ev, args, r);
      case 'ioctl':
        return this.ioctl(p, ev, args, r);
      case 'write':
        return this.write(p, ev, args, r);
      case 'read':
        return this.read(p, ev, args, r);
      case 'sendmsg':
        return this.sendmsg(p, ev, args);
      case 'recvmsg':
        return this.recvmsg(ev);
      case 'clone':
      case 'clone3':
      case 'fork':
      case 'vfork': {
        const child = r.ret !== undefined && r.ret > 0n ? Number(r.ret) : undefined;
        if (child === undefined) return this.comment(ev, 'no child was created');
        const before = this.items.length;
        this.proc(child);
        if (this.items.length > before) this.markEvent(ev, 'step');
        else this.markEvent(ev, 'folded');
        return;
      }
      default:
        return this.comment(ev, 'a call vioctl does not import');
    }
  }

  open(p: Proc, ev: CallEvent, args: SVal[], r: Result) {
    const path = args[0]?.t === 'str' ? Buffer.from(args[0].bytes).toString('utf8') : undefined;
    const flags = openFlags(args[1]) ?? 2;
    const ok = r.ret !== undefined && r.ret >= 0n && !r.errno;
    if (path === undefined) return this.comment(ev, 'no path in the log');
    const type = nodeType(path);
    if (SYSFS_PATH.test(path) && !path.split('/').some((s) => s === '..' || s === '.')) {
      if (!ok) return this.comment(ev, 'a sysfs file that did not open: no step expresses that');
      p.fds.set(Number(r.ret), { kind: 'sysfs', path });
      return this.markEvent(ev, 'folded');
    }
    if (!type) {
      if (ok) p.fds.set(Number(r.ret), { kind: 'foreign', path });
      return this.comment(ev, 'not a device node vioctl models');
    }
    if (type === 'kvm') this.kvm = true;
    const name = fdName(path, ok ? Number(r.ret) : undefined);
    const step: Record<string, YVal> = { open: path, as: name };
    const list = openFlagList(flags);
    if (list) step.flags = list;
    const notes: string[] = [];
    this.withExpect(step, r, notes, undefined, true);
    if (ok) p.fds.set(Number(r.ret), { kind: 'device', name, type, path, nonblock: isNonblock(flags) });
    this.push(p, step, notes, ev);
  }

  close(p: Proc, ev: CallEvent, args: SVal[], r: Result) {
    const fd = this.fdOf(p, args[0]);
    if (!fd?.info) return this.comment(ev, 'fd not opened in the log');
    p.fds.delete(fd.n);
    if (fd.info.kind === 'sysfs') return this.markEvent(ev, 'folded');
    if (fd.info.kind === 'foreign') return this.comment(ev, 'not a device vioctl models');
    const step: Record<string, YVal> = { close: fd.info.name! };
    const notes: string[] = [];
    this.withExpect(step, r, notes);
    this.push(p, step, notes, ev);
  }

  ioctl(p: Proc, ev: CallEvent, args: SVal[], r: Result) {
    const fd = this.fdOf(p, args[0]);
    if (fd?.info?.kind !== 'device') {
      return this.comment(ev, fd?.info ? 'not a device vioctl models' : 'fd not opened in the log');
    }
    const req = resolveRequest(args[1], fd.info.type);
    if (!req) return this.comment(ev, 'an ioctl request vioctl cannot name or number');
    const notes: string[] = req.note ? [req.note] : [];
    const ok = r.ret !== undefined && !r.errno && r.ret >= 0n;
    const step: Record<string, YVal> = {
      ioctl: req.def?.name ?? `0x${req.number.toString(16)}`,
      fd: fd.info.name!,
    };
    if (req.def) {
      const host = this.host(p, notes);
      const m = mapArg(req.def, args[2], host, ok);
      notes.push(...m.notes);
      if (m.arg !== undefined) step.arg = m.arg;
      // a name string the log does not show: NULL, as no string can stand for a pointer
      else if (req.def.arg.kind === 'custom' && req.def.arg.layout === 'string') step.argp = 0n;
      const returned = FD_RETURNING[req.def.name];
      if (returned && ok) {
        const name = `${returned}${r.ret}`;
        step.as = name;
        p.fds.set(Number(r.ret), { kind: 'device', name, type: TYPE_OF_RETURNED[returned]! });
      }
      if (m.fdOut !== undefined && ok) {
        const name = `kvmdev${m.fdOut}`;
        step.as = name;
        p.fds.set(Number(m.fdOut), { kind: 'device', name, type: 'kvm-device' });
      }
      if (m.arg === undefined && args[2]?.t === 'atom')
        this.hotResetProtocol(p, req.def.name, fd.info, step, r, notes);
      this.withExpect(step, r, notes, m.out, returned !== undefined);
    } else if (ioctlsByNumber(req.number).length > 0) {
      // an ioctl of another fd type: the kernel refuses it before it reads the argument
      step.argp = 0n;
      this.withExpect(step, r, notes);
    } else {
      // a raw number with a direction gets a buffer: only a value strace showed in it is its content
      const f = iocDecode(req.number);
      const a = args[2];
      const n =
        f.dir !== 'none' && f.size > 0
          ? a?.t === 'arr'
            ? atomNumber(a.items[0])
            : undefined
          : atomNumber(a);
      if (n !== undefined && n !== 0n) step.arg = n;
      else if (a?.t === 'atom' && f.dir !== 'none' && f.size > 0)
        notes.push('the log shows only the argument pointer');
      this.withExpect(step, r, notes);
    }
    this.push(p, step, notes, ev);
  }

  /**
   * strace has no VFIO decoder: INFO and HOT_RESET show only their pointer. QEMU's protocol fills
   * them in (clients.md (d)): INFO first with the header alone (count 0, ENOSPC), its answer's count
   * sizing the second call; HOT_RESET with every group of its own (none for a cdev-opened device).
   */
  hotResetProtocol(
    p: Proc,
    name: string,
    fd: FdInfo,
    step: Record<string, YVal>,
    r: Result,
    notes: string[],
  ): void {
    const pointer = 'the log shows only the pointer';
    if (name === 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO') {
      const saved = `${fd.name}_count`;
      if (r.errno === 'ENOSPC') {
        step.arg = { count: 0n };
        step.save = { [saved]: 'count' };
        this.infoCounts.add(saved);
        notes.push(`${pointer}: QEMU's first call, the header alone; the count it answers sizes the second`);
      } else if (this.infoCounts.has(saved)) {
        step.arg = { count: `$${saved}` };
        notes.push(`${pointer}: QEMU's second call, sized by the count the first answered`);
      } else notes.push(`${pointer}: arg omitted (count 0)`);
    } else if (name === 'VFIO_DEVICE_PCI_HOT_RESET') {
      const cdev = fd.path?.startsWith('/dev/vfio/devices/') ?? false;
      const groups = [...p.fds.entries()]
        .filter(([, i]) => i.kind === 'device' && i.type === 'vfio-group')
        .sort(([a], [b]) => a - b)
        .map(([, i]) => `$${i.name}`);
      step.arg = { group_fds: cdev ? [] : groups };
      notes.push(
        cdev
          ? `${pointer}: a cdev-opened device proves ownership with an empty group_fds (QEMU's iommufd backend)`
          : `${pointer}: group_fds are the groups this process holds, as QEMU passes each of its own that INFO names`,
      );
    }
  }
}

export function importStrace(text: string, opts: ImportOptions): { yaml: string; stats: ImportStats } {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const imp = new Importer(readEvents(text), lines);
  imp.run();
  const count = (k: LineKind) => [...imp.kinds.values()].filter((x) => x === k).length;
  const stats: ImportStats = {
    lines: lines.filter((l) => l.trim() !== '').length,
    steps: count('step'),
    folded: count('folded'),
    comments: count('comment'),
  };
  const head = [
    `Imported by \`vioctl import-strace\` from ${basename(opts.file)}: ${stats.lines} lines,`,
    `${stats.steps} as steps, ${stats.folded} folded into steps (sysfs open/close, unfinished halves,`,
    `threads), ${stats.comments} kept as comments.`,
    'mmap is not traced, so guest memory cannot be reproduced: addresses are the literals of the log.',
    'Ranges a call hands the kernel (VHOST_SET_MEM_TABLE regions, DMA maps, IOTLB updates) are mapped',
    'again, zero-filled, at those addresses; what the guest wrote there (rings, descriptors) is lost,',
    'so a kick finds an empty ring. Fds are named by device and the log fd number (vsock3); eventfds',
    'are created where vhost first gets them (eventfd2 is not traced). Unknown lines are # comments.',
  ];
  if (opts.kernel === undefined)
    head.push('The log does not say which kernel answered: give --kernel to pin one.');
  const top: Record<string, YVal> = { name: opts.name ?? `imported from ${basename(opts.file)}` };
  if (opts.kernel !== undefined) top.kernel = opts.kernel;
  if (opts.patches?.length) top.patches = opts.patches;
  if (imp.kvm) top.machine = { kvm: true };
  return { yaml: emitScenario(head, top, imp.items), stats };
}

// The emulated kernel: processes, open files, memory and the syscall entry
// points a scenario uses. Every call returns a SysResult; nothing a user
// passes makes it throw.
import { asEventFd, EVENTFD_OPS, type EventFd, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from './eventfd.js';
import { FaultInjector } from './fault.js';
import type { CallCtx } from './file.js';
import { OpenFile } from './file.js';
import { DEFAULT_MACHINE, type Machine } from './machine.js';
import {
  accessOk,
  MemObject,
  Mm,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  roundUp,
  SIGN_BIT_LIMIT,
  TASK_SIZE_MAX,
  TASK_SIZE_MAX_LA57,
  type Vma,
} from './memory.js';
import { ALL_CAPS, type Caps, Process } from './process.js';
import type { KernelProfile } from './profile.js';
import {
  type Diagnostic,
  DriverRegistry,
  type KernelBug,
  type OkOut,
  type StateTables,
  type SysfsOutcome,
} from './registry.js';
import { type Fail, fail, type Outcome, ok, type SysOutcome, type SysResult } from './result.js';
import { drive, type Op } from './tasks.js';

/** An argument a scenario built is larger than the argument area: the runner's input error. */
export class ArgumentTooLarge extends Error {
  constructor(readonly bytes: number) {
    super(`an argument of ${bytes} bytes is larger than vioctl's 64 KiB argument area`);
  }
}

/** A driver signals a kernel BUG() from inside an operation by throwing this (the trap it is). */
export class KernelBugTrap extends Error {
  constructor(readonly bug: KernelBug) {
    super(`kernel BUG at ${bug.site.function}`);
  }
}

function isOp(r: Op | SysResult): r is Op {
  return typeof (r as Op).next === 'function';
}

/** Runs a step of an operation, turning a BUG() trap into the KernelBug outcome, also on resume/retry. */
function guarded(run: () => Outcome): Outcome {
  let r: Outcome;
  try {
    r = run();
  } catch (e) {
    if (e instanceof KernelBugTrap) return e.bug;
    throw e;
  }
  if (r.ok === 'paused') {
    const p = r;
    return { ok: 'paused', point: p.point, resume: () => guarded(p.resume) };
  }
  if (r.ok === 'blocked') {
    const b = r;
    return { ok: 'blocked', retry: () => guarded(b.retry) };
  }
  return r;
}

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_NONBLOCK = 0x800;
export const O_CLOEXEC = 0x80000;

/** fs/select.c DEFAULT_POLLMASK: what poll() sees on a file without a poll method. */
export const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/** Each process's allocations start below its own base, so a new process never reuses another's addresses. */
const MM_BASE = 0x7f0000000000n;
const MM_STRIDE = 0x10000000000n;
/** The scratch pages vioctl builds ioctl and message arguments in (the caller's stack, in effect). */
export const SCRATCH_SIZE = 0xf000n;
/**
 * A device page under the scratch pages, right above a process's first mmap: in a real process that
 * neighbour is [vvar] (VM_IO | VM_PFNMAP), which pin_user_pages and vhost-vdpa's VA map refuse, so an
 * IOTLB UPDATE that runs past the end of the first mapping fails there as on the oracle's kernels.
 */
const SCRATCH_GUARD = 0x1000n;

export interface MmapRequest {
  size: bigint;
  prot: number;
  kind: 'anon' | 'shared-anon' | 'memfd';
  /** map this memfd object again (scenario `object:`) */
  object?: MemObject;
  /** MAP_FIXED_NOREPLACE */
  at?: bigint;
}

export class Kernel {
  readonly drivers = new DriverRegistry();
  readonly processes: Process[] = [];
  /** open files by file number, for state tables; removed on release */
  readonly files = new Map<number, OpenFile>();
  /** what drivers noticed during the current step (the runner drains it) */
  diagnostics: Diagnostic[] = [];
  /** per-driver global state (the vsock CID hash, ...), keyed by the driver's name */
  readonly globals = new Map<string, unknown>();
  /** fail_nth: the allocations and user copies that fail on purpose (fault.ts) */
  readonly fault = new FaultInjector();
  /** every memory object made, for the end-of-run leak check (pages still pinned) */
  readonly objects: MemObject[] = [];
  private nextPid = 100;
  private nextFile = 1;
  private nextMm = 1;
  private nextObject = 1;
  private readonly guardObject = new MemObject('anon', SCRATCH_GUARD, 0);
  private spawned = 0;

  constructor(
    readonly profile: KernelProfile,
    readonly machine: Machine = DEFAULT_MACHINE,
  ) {}

  // ---- processes ----

  /** A new process with an empty fd table and a fresh address space below its own base. */
  spawn(name: string, caps: Caps = ALL_CAPS): Process {
    const base = MM_BASE - BigInt(this.spawned++) * MM_STRIDE;
    const mm = new Mm(this.nextMm++, base);
    mm.fault = this.fault;
    const p = new Process(this.nextPid++, name, mm, caps);
    this.mapScratch(p);
    this.processes.push(p);
    return p;
  }

  /** fork(): the same open files under the same numbers, and a copy of the address space. */
  fork(parent: Process, name: string, caps?: Caps): Process {
    const mm = parent.mm.clone(this.nextMm++, () => this.nextObject++);
    for (const v of mm.vmas) if (!this.objects.includes(v.obj)) this.objects.push(v.obj);
    const p = new Process(this.nextPid++, name, mm, caps ?? parent.caps);
    for (const [fd, f] of parent.fds.sorted()) {
      f.refs++;
      p.fds.map.set(fd, f);
    }
    this.processes.push(p);
    return p;
  }

  /** The exited process whose address space `mm` was, if any (diagnostics of stale references). */
  exitedOwnerOf(mm: unknown): Process | undefined {
    return this.processes.find((p) => p.exited && p.mm === mm);
  }

  /** Ends a process: its fds close in order, then its mappings go. */
  exit(p: Process): void {
    for (const [fd] of p.fds.sorted()) this.close(p, fd);
    p.mm.vmas.length = 0;
    p.exited = true;
  }

  /** Fault point of an allocation by `proc` in task context (fault.ts): true when it must fail. */
  allocFails(proc: Process, site: string): boolean {
    return this.fault.alloc(proc.mm, site);
  }

  newObjectId(): number {
    return this.nextObject++;
  }

  private track(o: MemObject): MemObject {
    this.objects.push(o);
    return o;
  }

  scratch(p: Process): bigint {
    return p.mm.scratchVma().start;
  }

  private mapScratch(p: Process): void {
    const guard = p.mm.allocate(SCRATCH_SIZE + SCRATCH_GUARD);
    // one object for every process's guard (id 0, not a scenario's memory): a fork shares it
    p.mm.insert({
      start: guard,
      end: guard + SCRATCH_GUARD,
      obj: this.guardObject,
      pgoff: 0n,
      prot: PROT_READ,
      shared: true,
      hidden: true,
      io: true,
    });
    const start = guard + SCRATCH_GUARD;
    p.mm.insert({
      start,
      end: start + SCRATCH_SIZE,
      obj: this.track(new MemObject('anon', SCRATCH_SIZE, this.nextObject++)),
      pgoff: 0n,
      prot: PROT_READ | PROT_WRITE,
      shared: false,
      hidden: true,
    });
  }

  /** The calling context of proc's syscalls: one per process (it is immutable; proc.mm is read through it). */
  ctx(proc: Process): CallCtx {
    if (proc.callCtx?.k !== this) proc.callCtx = { k: this, proc };
    return proc.callCtx;
  }

  // ---- files ----

  /** A new open file (for drivers that create files: eventfd, vfio device fds). */
  newFile<P>(path: string, flags: number, ops: OpenFile<P>['ops'], priv: P): OpenFile<P> {
    const f = new OpenFile(this.nextFile++, path, flags, ops, priv);
    this.files.set(f.id, f as OpenFile);
    return f;
  }

  fget(proc: Process, fd: number): OpenFile | undefined {
    return proc.fds.get(fd);
  }

  /** fput(): drops one reference; the last one runs the driver's release. */
  fput(f: OpenFile): void {
    if (--f.refs > 0) return;
    f.released = true;
    this.files.delete(f.id);
    f.ops.release?.(this, f);
  }

  /** Installs a file at the lowest free fd of `proc`. */
  installFd(proc: Process, f: OpenFile): number {
    return proc.fds.install(f);
  }

  // ---- syscalls ----

  open(proc: Process, path: string, flags: number): SysResult {
    const drv = this.drivers.claim(path);
    if (!drv || !this.profile.models(drv.family) || !drv.exists(this, path)) {
      return fail('ENOENT', 'do_sys_open', 'no such device node');
    }
    const id = this.nextFile++;
    const r = drv.open(this.ctx(proc), path, flags, id);
    if ('ok' in r) return r;
    const f = new OpenFile(id, path, flags, r.ops, r.priv);
    this.files.set(id, f);
    return ok(this.installFd(proc, f));
  }

  close(proc: Process, fd: number): SysResult {
    const f = proc.fds.remove(fd);
    if (!f) return fail('EBADF', 'close_fd', '!file');
    this.fput(f);
    return ok(0);
  }

  /** ioctl(2): the VFS, then the driver's unlocked_ioctl; ENOIOCTLCMD becomes ENOTTY. */
  ioctl(proc: Process, fd: number, cmd: number, arg: bigint): SysOutcome {
    const f = proc.fds.get(fd);
    if (!f) return fail('EBADF', 'ksys_ioctl', '!f.file');
    if (!f.ops.ioctl) return fail('ENOTTY', 'vfs_ioctl', '!filp->f_op->unlocked_ioctl');
    return f.ops.ioctl(this.ctx(proc), f, cmd >>> 0, arg);
  }

  read(proc: Process, fd: number, buf: bigint, len: number, nonblock: boolean): SysOutcome {
    const f = proc.fds.get(fd);
    if (!f) return fail('EBADF', 'ksys_read', '!f.file');
    if ((f.flags & 3) === O_WRONLY) return fail('EBADF', 'vfs_read', '!(file->f_mode & FMODE_READ)');
    if (!f.ops.read) return fail('EINVAL', 'vfs_read', '!file->f_op->read && !file->f_op->read_iter');
    return f.ops.read(this.ctx(proc), f, buf, len, nonblock || (f.flags & O_NONBLOCK) !== 0);
  }

  write(proc: Process, fd: number, buf: bigint, len: number): SysResult {
    const f = proc.fds.get(fd);
    if (!f) return fail('EBADF', 'ksys_write', '!f.file');
    if ((f.flags & 3) === O_RDONLY) return fail('EBADF', 'vfs_write', '!(file->f_mode & FMODE_WRITE)');
    if (!f.ops.write) return fail('EINVAL', 'vfs_write', '!file->f_op->write && !file->f_op->write_iter');
    return f.ops.write(this.ctx(proc), f, buf, len);
  }

  /** poll(2) on one fd without waiting: returns 0 or 1 with revents. */
  poll(proc: Process, fd: number, events: number): { ret: number; revents: number } {
    const f = proc.fds.get(fd);
    if (!f) return { ret: 1, revents: 0x20 /* POLLNVAL */ };
    const mask = f.ops.poll ? f.ops.poll(this.ctx(proc), f) : DEFAULT_POLLMASK;
    // POLLERR and POLLHUP are always reported, whatever was asked (fs/select.c).
    const revents = mask & (events | 0x8 | 0x10);
    return { ret: revents ? 1 : 0, revents };
  }

  eventfd(proc: Process, initval = 0n): SysResult {
    if (this.allocFails(proc, 'do_eventfd: kmalloc ctx'))
      return fail('ENOMEM', 'do_eventfd', '!ctx (kmalloc)');
    const e: EventFd = { count: initval, waiters: new Set() };
    const f = this.newFile('anon_inode:[eventfd]', O_RDWR | O_NONBLOCK, EVENTFD_OPS, e);
    return ok(this.installFd(proc, f as OpenFile));
  }

  eventfdOf(proc: Process, fd: number): EventFd | undefined {
    return asEventFd(proc.fds.get(fd));
  }

  /** mmap of memory (not of a device file): deterministic top-down placement, EEXIST for a taken fixed address. */
  mmap(proc: Process, req: MmapRequest): SysResult {
    if (req.size === 0n) return fail('EINVAL', 'do_mmap', '!len');
    const len = roundUp(req.size);
    // PAGE_ALIGN(len) wrapping to 0, or more than the address space holds
    if (len >= 1n << 64n || len === 0n) return fail('ENOMEM', 'do_mmap', '!len (PAGE_ALIGN overflowed)');
    if (len > TASK_SIZE_MAX) return fail('ENOMEM', 'get_unmapped_area', 'len > TASK_SIZE');
    let start: bigint;
    if (req.at !== undefined) {
      if (req.at % PAGE_SIZE !== 0n) return fail('EINVAL', 'do_mmap', 'addr & ~PAGE_MASK (MAP_FIXED)');
      if (proc.mm.overlaps(req.at, req.at + len)) {
        return fail('EEXIST', 'do_mmap', 'MAP_FIXED_NOREPLACE && find_vma_intersection');
      }
      start = req.at;
    } else {
      start = proc.mm.allocate(len);
    }
    const obj = req.object ?? this.track(new MemObject(req.kind, len, this.nextObject++));
    const vma: Vma = { start, end: start + len, obj, pgoff: 0n, prot: req.prot, shared: req.kind !== 'anon' };
    proc.mm.insert(vma);
    return ok(start);
  }

  /**
   * mmap(2) of a device file (vhost-vdpa doorbells): do_mmap's own checks, then the driver's f_op->mmap,
   * whose errno is returned as is (vhost-vdpa leaks ENOTSUPP, 524). Success maps a VM_IO | VM_PFNMAP VMA
   * that copy_from_user cannot reach.
   */
  mmapFile(
    proc: Process,
    fd: number,
    offset: bigint,
    size: bigint,
    prot: number,
    shared: boolean,
  ): SysResult {
    const f = proc.fds.get(fd);
    if (!f) return fail('EBADF', 'ksys_mmap_pgoff', '!file');
    if (size === 0n) return fail('EINVAL', 'do_mmap', '!len');
    if (offset % PAGE_SIZE !== 0n) return fail('EINVAL', 'ksys_mmap_pgoff', 'offset & ~PAGE_MASK');
    if (!f.ops.mmap) return fail('ENODEV', 'do_mmap', '!file->f_op->mmap');
    const len = roundUp(size);
    const r = f.ops.mmap(this.ctx(proc), f, { pgoff: offset / PAGE_SIZE, size: len, prot, shared });
    if (!r.ok) return r;
    const start = proc.mm.allocate(len);
    const obj = this.track(new MemObject('device', len, this.nextObject++));
    proc.mm.insert({ start, end: start + len, obj, pgoff: offset, prot, shared, io: true });
    return ok(start);
  }

  munmap(proc: Process, addr: bigint, len: bigint): SysResult {
    if (addr % PAGE_SIZE !== 0n) return fail('EINVAL', '__do_munmap', 'offset_in_page(start)');
    if (len === 0n) return fail('EINVAL', '__do_munmap', '!len');
    proc.mm.unmapRange(addr, addr + roundUp(len));
    return ok(0);
  }

  /** A user buffer for `proc` built from bytes, in its scratch pages (the runner's argument area). */
  stage(proc: Process, bytes: Uint8Array, at = 0n): bigint {
    const v = proc.mm.scratchVma();
    if (at + BigInt(bytes.length) > SCRATCH_SIZE) throw new ArgumentTooLarge(bytes.length);
    // The scratch pages are the runner's own: written directly, as a process writes its stack.
    v.obj.write(v.pgoff + at, bytes);
    return v.start + at;
  }

  // ---- sysfs (and the listing of /dev directories) ----

  /**
   * write(2) of `value` (bytes as written, no newline added) to a sysfs file. A driver unbind is an
   * operation with named points: `pauseAt` stops it there (Paused), and it is Blocked while it waits
   * for the device's fds; `passed` collects the points it went through. A BUG_ON is a KernelBug.
   */
  sysfsWrite(proc: Process, path: string, value: string, pauseAt?: string, passed?: string[]): SysfsOutcome {
    const h = this.drivers.sysfs(path);
    if (!h) return fail('ENOENT', 'do_sys_open', 'no such sysfs file');
    return guarded(() => {
      const r = h.write(this.ctx(proc), path, value);
      return isOp(r) ? drive(r, pauseAt, passed) : r;
    });
  }

  /** The named points a write of `path` passes on this release, in order (empty: none). */
  sysfsPoints(path: string): readonly string[] {
    return this.drivers.sysfs(path)?.points?.(this, path) ?? [];
  }

  /** read(2) of a whole sysfs file: `out` is its text, final newline included. */
  sysfsRead(proc: Process, path: string): OkOut | Fail {
    const h = this.drivers.sysfs(path);
    if (!h) return fail('ENOENT', 'do_sys_open', 'no such sysfs file');
    return h.read(this.ctx(proc), path);
  }

  /** readlink(2): `out` is the raw target (`../../../../bus/pci/drivers/vfio-pci`). */
  readlink(proc: Process, path: string): OkOut | Fail {
    const h = this.drivers.sysfs(path);
    if (!h) return fail('ENOENT', 'do_readlinkat', 'no such file');
    return h.readlink(this.ctx(proc), path);
  }

  /** The entries of a directory (sysfs or /dev/vfio), sorted, without . and .. */
  ls(proc: Process, path: string): OkOut | Fail {
    const h = this.drivers.sysfs(path);
    if (!h) return fail('ENOENT', 'do_sys_open', 'no such directory');
    return h.ls(this.ctx(proc), path);
  }

  /** State rows from every driver, after the core's own. */
  driverState(tables: StateTables): void {
    for (const d of this.drivers.drivers) d.state?.(this, tables);
  }

  /** access_ok() as this release's x86 code checks it (memory.ts). */
  accessOk(addr: bigint, size: bigint): boolean {
    return accessOk(addr, size, this.profile.has('access-ok-sign-bit') ? SIGN_BIT_LIMIT : TASK_SIZE_MAX_LA57);
  }

  diagnose(code: string, message: string): void {
    this.diagnostics.push({ code, message });
  }
}

// Model checking of the vfio paths (PCI sysfs, VFIO container / group / device, type1, hot reset,
// iommufd and the vfio cdev, kvm-vfio): a case (vfio-arbitraries.ts) is written as a scenario file
// and run by the real loader, compiler and runner; the kernel it runs on has its syscall entry
// points wrapped, so that every call's outcome and the state after it are checked, and blocked
// calls (an unbind waiting for fds, a blocking read) are followed to their end. After the last step
// every process exits, the waits this releases finish, and nothing may be left held.
import { nodeFamily, registerDrivers } from '../../src/drivers/index.js';
import { pciBus } from '../../src/drivers/pci/bus.js';
import type { IommuGroup } from '../../src/drivers/pci/topology.js';
import { type VfioGroup, vfio } from '../../src/drivers/vfio/state.js';
import { lockedPages } from '../../src/drivers/vfio/type1.js';
import { mmPinned } from '../../src/drivers/vhost/vdpa-dev.js';
import type { OpenFile } from '../../src/kernel/file.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import type { MemObject, Mm } from '../../src/kernel/memory.js';
import { makeProfile } from '../../src/kernel/profile.js';
import type { StateRow, StateTables } from '../../src/kernel/registry.js';
import type { Outcome } from '../../src/kernel/result.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { loadStream } from '../../src/scenario/load.js';
import { runScenario } from '../../src/scenario/runner.js';
import { ERRNO_NAMES } from '../../src/uapi/errno.js';
import { ioctlsByNumber } from '../../src/uapi/ioctls.js';
import { scalar } from './to-yaml.js';
import type { VCase, VStep } from './vfio-arbitraries.js';

const ERRNOS = new Set<string>(ERRNO_NAMES);
/** kernel-internal codes that never reach userspace */
const INTERNAL = new Set(['ERESTARTSYS', 'ERESTARTNOINTR', 'ERESTARTNOHAND', 'ENOIOCTLCMD', 'EPROBE_DEFER']);

/**
 * The errnos each path can return on the profiles fuzzed (drivers/vfio/{vfio_main,group,container}.c,
 * vfio_iommu_type1.c, vfio_pci_core.c, drivers/iommu/iommufd/*.c, virt/kvm/{kvm_main,vfio}.c,
 * drivers/pci/pci-driver.c and pci-sysfs.c, drivers/base/bus.c and dd.c). An fd-taking call on
 * no file is EBADF (checked apart).
 */
const ALLOWED: Record<string, readonly string[]> = {
  open: ['ENOENT', 'EBUSY', 'EPERM', 'ENODEV', 'EINVAL', 'ENOMEM'],
  close: ['EBADF'],
  'ioctl vfio-container': [
    'EINVAL',
    'EFAULT',
    'ENOTTY',
    'EBUSY',
    'ENODEV',
    'EPERM',
    'ENOENT',
    'EEXIST',
    'ENOSPC',
    'ENOMEM',
    'ENOTSUPP',
    'EOPNOTSUPP',
    'EAGAIN',
    'EOVERFLOW',
  ],
  'ioctl vfio-group': [
    'EINVAL',
    'EFAULT',
    'ENOTTY',
    'EBUSY',
    'ENODEV',
    'EPERM',
    'EBADF',
    'EBADFD',
    'EINVAL',
    'ENOENT',
    'EEXIST',
    'ENOMEM',
    'EIO',
    'EAGAIN',
  ],
  'ioctl vfio-device': [
    'EINVAL',
    'EFAULT',
    'ENOTTY',
    'EBUSY',
    'ENODEV',
    'EPERM',
    'EBADF',
    'EBADFD',
    'ENOSPC',
    'EAGAIN',
    'ENOENT',
    'EEXIST',
    'ENOMEM',
    'ENOTTY',
    'EIO',
    'ENOTSUPP',
    'EOPNOTSUPP',
    'EXDEV',
    // VFIO_DEVICE_ATTACH_IOMMUFD_PT onto an IOAS with an area over the MSI window:
    // iommufd_hw_pagetable_attach → iopt_table_enforce_dev_resv_regions → iopt_reserve_iova
    'EADDRINUSE',
  ],
  'ioctl iommufd': [
    'EINVAL',
    'EFAULT',
    'ENOTTY',
    'ENOENT',
    'EBUSY',
    'EEXIST',
    'ENOSPC',
    'ENOMEM',
    'EOPNOTSUPP',
    'EOVERFLOW',
    'ERANGE',
    'EPERM',
    'ENODEV',
    'E2BIG',
    'EBADF',
    'EMSGSIZE',
    'EADDRINUSE',
  ],
  'ioctl kvm': ['EINVAL', 'ENOTTY', 'EFAULT', 'ENOMEM'],
  'ioctl kvm-vm': ['EINVAL', 'ENOTTY', 'EFAULT', 'ENODEV', 'EEXIST', 'ENOMEM', 'EBUSY'],
  'ioctl kvm-vfio': ['EINVAL', 'ENXIO', 'EFAULT', 'EBADF', 'EEXIST', 'ENOENT', 'ENOTTY', 'EPERM', 'ENOMEM'],
  'ioctl eventfd': ['ENOTTY'],
  sysfs: [
    'EINVAL',
    'ENODEV',
    'ENOENT',
    'EBUSY',
    'EEXIST',
    'ENOMEM',
    'EPERM',
    'EISDIR',
    'ENOTTY',
    'EIO',
    'EAGAIN',
    'ENOTDIR',
    'ENOSPC',
    'EACCES',
  ],
  read: ['EBADF', 'EINVAL', 'EAGAIN', 'EFAULT', 'EIO'],
  write: ['EBADF', 'EINVAL', 'EAGAIN', 'EFAULT', 'EIO'],
};

/**
 * Violations of known, reported bugs outside the files this suite owns: counted, not failed, unless
 * FUZZ_STRICT=1. None now: runner-unborn-process (a step of a process whose fork:/spawn: was skipped
 * after a kernel BUG threw out of runStep) is fixed and pinned in test/scenario/runner-skip.test.ts.
 */
export const KNOWN_VFIO = new Set<string>();

export interface VViolation {
  kind: string;
  message: string;
}

export interface VOutcome {
  yaml: string;
  violations: VViolation[];
  /** syscalls made (checks run) */
  calls: number;
  bugs: number;
  blocked: number;
  /** `path errno` of every failure, counted */
  errnos: Map<string, number>;
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));
}

// ---- a case as a scenario file ----

interface SerProc {
  name: string;
  alive: boolean;
  maps: Set<string>;
  /** has made a call that may still wait (an unbind, a bind, a read): exit would be an input error */
  mayWait: boolean;
}

/** The scenario the case stands for: steps of exited processes, or naming a mapping the process lacks, are left out. */
export function vfioYaml(c: VCase, note?: { name: string; description: string }): string {
  const prof = makeProfile(c.profile, []);
  if (typeof prof === 'string') throw new Error(prof);
  const procs: SerProc[] = [{ name: 'main', alive: true, maps: new Set(), mayWait: false }];
  let n = 0;
  let x = 0;
  const out: string[] = [];
  for (const st of c.steps) {
    const ps = procs[st.p % procs.length]!;
    if (!ps.alive) continue;
    if (st.needs && !ps.maps.has(st.needs)) continue;
    const s: Record<string, unknown> = { ...st.s };
    const key = Object.keys(s)[0]!;
    if (key === 'open') {
      // a node of a family the profile does not model is an input error (scenario.md)
      const fam = nodeFamily(String(s.open));
      if (fam && !prof.models(fam)) continue;
    }
    if (key === 'fork' || key === 'spawn') {
      const name = `p${++n}`;
      s[key] = name;
      procs.push({ name, alive: true, maps: key === 'fork' ? new Set(ps.maps) : new Set(), mayWait: false });
    } else if (key === 'exit') {
      if (ps.mayWait || ps.name === 'main') continue;
      s.exit = ps.name;
      ps.alive = false;
    } else if (key === 'pass') {
      const to = procs[Number(s.to) % procs.length]!;
      if (!to.alive) continue;
      s.to = to.name;
      s.as = `x${x++}`;
    } else if (key === 'mmap') ps.maps.add(String(s.mmap));
    else if (key === 'bind' || key === 'unbind' || (key === 'sysfs' && 'value' in s)) ps.mayWait = true;
    const entries = Object.entries(s);
    const [first, ...rest] = entries;
    out.push(`  - ${first![0]}: ${scalar(first![1])}`);
    if (ps.name !== 'main' || key === 'exit') out.push(`    process: ${ps.name}`);
    for (const [k, v] of rest) out.push(`    ${k}: ${scalar(v)}`);
  }
  return [
    `name: ${JSON.stringify(note?.name ?? `fuzz ${c.family}`)}`,
    ...(note ? [`description: ${JSON.stringify(note.description)}`] : []),
    `kernel: "${c.profile}"`,
    'machine: { kvm: true }',
    out.length ? 'steps:' : 'steps: []',
    ...out,
    '',
  ].join('\n');
}

// ---- the checker on the wrapped kernel ----

class Checker {
  readonly violations: VViolation[] = [];
  calls = 0;
  bugs = 0;
  blocked = 0;
  readonly errnos = new Map<string, number>();
  private depth = 0;
  /** the current continuation of every call still waiting */
  readonly waiting = new Set<{ cur: Outcome }>();
  readonly objects = new Set<MemObject>();
  readonly mms = new Set<Mm>();

  constructor(readonly k: Kernel) {}

  violate(kind: string, message: string): void {
    if (this.violations.length < 20) this.violations.push({ kind, message });
  }

  /** Follows a blocked call: its retries (by the runner, or the final teardown) stay tracked. */
  track(o: Outcome, what: string): Outcome {
    if (o.ok !== 'blocked') {
      this.outcome(o, what);
      return o;
    }
    this.blocked++;
    const slot = { cur: o as Outcome };
    this.waiting.add(slot);
    const wrap = (b: Outcome): Outcome => {
      if (b.ok !== 'blocked') {
        this.waiting.delete(slot);
        this.outcome(b, `${what} (after waiting)`);
        return b;
      }
      const w: Outcome = {
        ok: 'blocked',
        retry: () => {
          const r = this.guard(() => b.retry());
          return wrap(r);
        },
      };
      slot.cur = w;
      return w;
    };
    return wrap(o);
  }

  guard<T>(run: () => T): T {
    this.depth++;
    try {
      return run();
    } finally {
      this.depth--;
      if (this.depth === 0) {
        this.calls++;
        this.state();
      }
    }
  }

  /** Every failure is an errno userspace can see, with a site; a path returns only its own errnos. */
  outcome(o: Outcome, path: string): void {
    if (o.ok === 'bug') {
      this.bugs++;
      if (!o.site?.function || !o.stack.length)
        this.violate('bug-site', `${path}: BUG without site or stack`);
      return;
    }
    if (o.ok !== false) return;
    const key = `${path.replace(/ \(after waiting\)$/, '')} ${o.errno}`;
    this.errnos.set(key, (this.errnos.get(key) ?? 0) + 1);
    if (!ERRNOS.has(o.errno) || INTERNAL.has(o.errno))
      this.violate('bad-errno', `${path} failed with ${o.errno}, not an errno userspace sees`);
    if (!o.site?.function || !o.site.check || !ERRNOS.has(o.site.errno))
      this.violate('no-site', `${path} failed with ${o.errno} without a proper site: ${show(o.site)}`);
    const allowed = ALLOWED[path.replace(/ \(after waiting\)$/, '')];
    if (allowed && !allowed.includes(o.errno))
      this.violate('errno-path', `${path} gave ${o.errno} (${o.site?.function}: ${o.site?.check})`);
  }

  /** A call on an fd that is not open is EBADF, whatever else it is. */
  fdCall(open: boolean, o: Outcome, what: string): void {
    if (!open && (o.ok !== false || o.errno !== 'EBADF'))
      this.violate(
        'closed-fd-usable',
        `${what} on an fd that is not open gave ${show(o.ok === false ? o.errno : o.ok)}`,
      );
  }

  tables(): StateTables {
    const t: StateTables = {};
    this.k.driverState(t);
    return t;
  }

  /** Invariants after every syscall. */
  state(): void {
    const k = this.k;
    for (const p of k.processes) {
      this.mms.add(p.mm);
      for (const v of p.mm.vmas) this.objects.add(v.obj);
      if (p.exited && p.fds.map.size) this.violate('exit-leaves-fds', `${p.name} exited with fds`);
      for (const [fd, f] of p.fds.map) {
        if (f.released || !k.files.has(f.id))
          this.violate('use-after-release', `${p.name} fd ${fd}: file ${f.id} (${f.path}) released`);
      }
      if (lockedPages(k, p.mm) < 0n) this.violate('locked-vm', `${p.name} locked_vm ${lockedPages(k, p.mm)}`);
      if (mmPinned(p.mm).pages < 0) this.violate('pinned-vm', `${p.name} pinned_vm ${mmPinned(p.mm).pages}`);
    }
    for (const f of k.files.values()) {
      if (f.refs < 1 || f.released) this.violate('refcount', `open file ${f.id} (${f.path}) refs ${f.refs}`);
    }
    for (const o of this.objects)
      if (o.pinned < 0) this.violate('pinned', `object ${o.id} pinned ${o.pinned}`);
    const s = vfio(k);
    const rows = this.tables().vfio_groups ?? [];
    for (const g of s.all) {
      const row = groupRow(k, rows, g);
      if (g.containerUsers < 0)
        this.violate('vfio-refs', `group ${g.id} container_users ${g.containerUsers}`);
      if (g.container && !g.container.groups.includes(g))
        this.violate('vfio-container', `group ${g.id} names container ${g.container.id}, not on its list`);
      if (g.container === null && g.iommufd === null && g.containerUsers !== 0)
        this.violate('vfio-refs', `group ${g.id} has no container but container_users ${g.containerUsers}`);
      if (g.openedFile !== null) {
        const f = k.files.get(g.openedFile);
        if (f?.ops.kind !== 'vfio-group' || f.priv !== g)
          this.violate(
            'vfio-group-file',
            `group ${g.id} opened file ${g.openedFile} is not its open group file`,
          );
      }
      for (const d of g.devices) {
        if (d.group !== g)
          this.violate('vfio-device', `device ${d.pci.bdf} on group ${g.id}'s list, of group ${d.group.id}`);
        for (const f of d.files)
          if (f.released) this.violate('vfio-device', `device ${d.pci.bdf} holds released file ${f.id}`);
        if (d.openCount < 0) this.violate('vfio-refs', `device ${d.pci.bdf} open_count ${d.openCount}`);
      }
      if (row && typeof row.flags === 'number')
        this.viability(g.id, g.iommu, row, g.container !== null || g.iommufd !== null);
    }
    for (const c of s.containers) {
      for (const g of c.groups)
        if (g.container !== c)
          this.violate('vfio-container', `container ${c.id} lists group ${g.id}, which names another`);
      const dmas = c.iommu?.dmas ?? [];
      for (let i = 1; i < dmas.length; i++) {
        const a = dmas[i - 1]!;
        const b = dmas[i]!;
        if (a.iova + a.size > b.iova)
          this.violate(
            'type1-overlap',
            `type1 mappings ${show([a.iova, a.size])} and ${show([b.iova, b.size])} overlap`,
          );
      }
    }
  }

  /**
   * A group's VIABLE flag follows its devices' drivers: a DMA-capable host driver (uio_pci_generic,
   * e1000e) on a device of the iommu group makes it non-viable, and with only vfio-pci, pci-stub or no
   * driver it is viable (vfio_group_viable before 5.19; iommu_group's owner_cnt from 5.19); with a
   * container (or iommufd) set it is viable from 5.19 (vfio_group_has_iommu). CONTAINER_SET is set
   * exactly when a container or an iommufd is.
   */
  private viability(id: number, iommu: IommuGroup | null, row: StateRow, hasIommu: boolean): void {
    const flags = row.flags as number;
    if (((flags & 2) !== 0) !== hasIommu)
      this.violate('group-status', `group ${id}: flags ${flags}, container or iommufd set: ${hasIommu}`);
    if (!iommu) return;
    const devs = pciBus(this.k).devs.filter((d) => d.present && d.group === iommu);
    if (devs.some((d) => d.driver === 'pcieport')) return;
    const host = devs.filter((d) => d.driver === 'uio_pci_generic' || d.driver === 'e1000e');
    const ownership = this.k.profile.has('vfio-dma-ownership');
    const viable = (flags & 1) !== 0;
    // 6.2+: a vfio cdev bound to an iommufd claims the group's DMA ownership (iommu_device_claim_dma_owner),
    // and vfio_group_ioctl_get_status reports VIABLE only while none is claimed
    const owners = this.k.globals.get('iommufd-owners') as Map<IommuGroup, unknown> | undefined;
    if (ownership && !hasIommu && owners?.has(iommu)) return;
    if (host.length && viable && !(ownership && hasIommu))
      this.violate(
        'group-status',
        `group ${id} VIABLE with ${host.map((d) => `${d.bdf} on ${d.driver}`).join(', ')}`,
      );
    if (
      !host.length &&
      !viable &&
      devs.every((d) => d.driver === null || d.driver === 'vfio-pci' || d.driver === 'pci-stub')
    )
      this.violate('group-status', `group ${id} not VIABLE, drivers ${show(devs.map((d) => d.driver))}`);
  }

  /** After every process exited and the waits ended: nothing held, nothing locked or pinned. */
  final(): void {
    const k = this.k;
    for (let round = 0; round < 8 && this.waiting.size; round++) {
      for (const slot of [...this.waiting]) {
        const cur = slot.cur;
        if (cur.ok === 'blocked') cur.retry();
      }
    }
    if (this.waiting.size)
      this.violate('blocked-forever', `${this.waiting.size} call(s) still wait after every fd closed`);
    if (k.files.size)
      this.violate(
        'leak',
        `files left: ${show([...k.files.values()].map((f) => `${f.id}:${f.path} refs ${f.refs}`))}`,
      );
    const s = vfio(k);
    if (s.containers.size) this.violate('leak', `${s.containers.size} vfio container(s) left`);
    if (s.kvmFiles.size) this.violate('leak', `kvm-vfio still holds ${s.kvmFiles.size} vfio file(s)`);
    for (const g of s.all) {
      if (g.openedFile !== null || g.containerUsers || g.container || g.iommufd || g.kvmHolders.size || g.kvm)
        this.violate(
          'leak',
          `group ${g.id} still held: ${show({ open: g.openedFile, users: g.containerUsers, container: g.container?.id ?? null, iommufd: !!g.iommufd, kvm: g.kvmHolders.size })}`,
        );
    }
    for (const d of s.devices.values())
      if (d.files.size || d.openCount)
        this.violate('leak', `device ${d.pci.bdf}: ${d.files.size} files, open_count ${d.openCount}`);
    for (const key of ['iommufd-owners', 'vfio-cdev-bound', 'vfio-group-iommufd-bound']) {
      const m = k.globals.get(key) as Map<unknown, unknown> | undefined;
      if (m?.size) this.violate('leak', `${key}: ${m.size} left`);
    }
    const user = k.globals.get('iommufd-user-locked-vm') as { pages: bigint } | undefined;
    if (user && user.pages !== 0n)
      this.violate('locked-vm', `iommufd user locked_vm ${user.pages} at the end`);
    for (const mm of this.mms) {
      if (lockedPages(k, mm) !== 0n)
        this.violate('locked-vm', `mm ${mm.id} locked_vm ${lockedPages(k, mm)} at the end`);
      if (mmPinned(mm).pages !== 0)
        this.violate('pinned-vm', `mm ${mm.id} pinned_vm ${mmPinned(mm).pages} at the end`);
    }
    for (const o of this.objects)
      if (o.pinned !== 0) this.violate('pinned', `object ${o.id} pinned ${o.pinned} at the end`);
  }
}

/** Wraps the syscall entry points of a kernel the runner made. */
function instrument(k: Kernel, c: Checker): void {
  const o = {
    open: k.open.bind(k),
    close: k.close.bind(k),
    ioctl: k.ioctl.bind(k),
    read: k.read.bind(k),
    write: k.write.bind(k),
    sysfsWrite: k.sysfsWrite.bind(k),
    sysfsRead: k.sysfsRead.bind(k),
    exit: k.exit.bind(k),
    fput: k.fput.bind(k),
  };
  k.fput = (f: OpenFile) => {
    if (f.released || f.refs <= 0)
      c.violate('double-release', `fput of file ${f.id} (${f.path}) with refs ${f.refs}`);
    o.fput(f);
  };
  k.open = (p, path, flags) =>
    c.guard(() => {
      let lowest = 3;
      while (p.fds.get(lowest)) lowest++;
      const r = o.open(p, path, flags);
      if (r.ok && r.ret !== lowest) c.violate('fd-not-lowest', `open gave ${r.ret}, lowest free ${lowest}`);
      c.outcome(r, 'open');
      return r;
    });
  k.close = (p, fd) =>
    c.guard(() => {
      const open = p.fds.get(fd) !== undefined;
      const r = o.close(p, fd);
      c.fdCall(open, r, 'close');
      c.outcome(r, 'close');
      return r;
    });
  k.ioctl = (p, fd, cmd, arg) =>
    c.guard(() => {
      const f = p.fds.get(fd);
      const r = o.ioctl(p, fd, cmd, arg);
      c.fdCall(f !== undefined, r, 'ioctl');
      if (!f) return r;
      const t = c.track(r, `ioctl ${f.ops.kind}`);
      if (r.ok === true) crossCheck(c, p, f, cmd, arg);
      return t as typeof r;
    });
  k.read = (p, fd, buf, len, nb) =>
    c.guard(() => {
      const open = p.fds.get(fd) !== undefined;
      const r = o.read(p, fd, buf, len, nb);
      c.fdCall(open, r, 'read');
      return c.track(r, 'read') as typeof r;
    });
  k.write = (p, fd, buf, len) =>
    c.guard(() => {
      const open = p.fds.get(fd) !== undefined;
      const r = o.write(p, fd, buf, len);
      c.fdCall(open, r, 'write');
      c.outcome(r, 'write');
      return r;
    });
  k.sysfsWrite = (p, path, value, pauseAt, passed) =>
    c.guard(
      () =>
        c.track(o.sysfsWrite(p, path, value, pauseAt, passed), 'sysfs') as ReturnType<Kernel['sysfsWrite']>,
    );
  k.sysfsRead = (p, path) =>
    c.guard(() => {
      const r = o.sysfsRead(p, path);
      if (r.ok === false) c.outcome(r, 'sysfs');
      return r;
    });
  k.exit = (p) =>
    c.guard(() => {
      o.exit(p);
      if (p.fds.map.size) c.violate('exit-leaves-fds', `${p.name} has fds after exit`);
    });
}

/**
 * The vfio_groups row of this group object: rows come sorted by id, in creation order within one
 * (vfio.ts), and a rebind can leave two groups of one id (the old one disassociated, still open).
 */
function groupRow(k: Kernel, rows: readonly StateRow[], g: VfioGroup): StateRow | undefined {
  return rows[[...vfio(k).all].sort((a, b) => a.id - b.id).indexOf(g)];
}

/** Answers against the state `inspect` shows. */
function crossCheck(c: Checker, p: { mm: Mm }, f: OpenFile, cmd: number, arg: bigint): void {
  const def = ioctlsByNumber(cmd).find((d) => d.family === f.ops.kind);
  if (def?.name !== 'VFIO_GROUP_GET_STATUS') return;
  const b = p.mm.copyFromUser(arg + 4n, 4);
  if (!b) return;
  const flags = new DataView(b.buffer).getUint32(0, true);
  const g = f.priv as VfioGroup;
  const row = groupRow(c.k, c.tables().vfio_groups ?? [], g);
  if (row && row.flags !== flags)
    c.violate(
      'inspect-group',
      `VFIO_GROUP_GET_STATUS of group ${g.id}: flags ${flags}, vfio_groups row ${show(row.flags)}`,
    );
}

/** Runs a case as a scenario through the runner, with every call checked; then the teardown checks. */
export function runVfioCase(c: VCase): VOutcome {
  const yaml = vfioYaml(c);
  let checker: Checker | undefined;
  const violations: VViolation[] = [];
  try {
    const docs = loadStream(yaml, 'fuzz.yaml');
    const s = compileScenario('fuzz.yaml', docs[0]!, { nodeFamily });
    const res = runScenario(s, {
      register: (k) => {
        registerDrivers(k);
        checker = new Checker(k);
        instrument(k, checker);
      },
    });
    if (res.error)
      violations.push({ kind: 'input-error', message: `${res.error.line}: ${res.error.message}` });
    const ch = checker!;
    for (const p of ch.k.processes) if (!p.exited) ch.k.exit(p);
    ch.final();
    violations.push(...ch.violations);
  } catch (e) {
    violations.push({
      kind:
        e instanceof Error && e.name === 'InputError'
          ? 'input-error'
          : e instanceof Error && /^internal: no process /.test(e.message)
            ? 'runner-unborn-process'
            : 'exception',
      message: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e),
    });
  }
  return {
    yaml,
    violations,
    calls: checker?.calls ?? 0,
    bugs: checker?.bugs ?? 0,
    blocked: checker?.blocked ?? 0,
    errnos: checker?.errnos ?? new Map(),
  };
}

/** Drops steps while the same kind of violation remains. */
export function minimiseVfio(c: VCase, kind: string): VCase {
  let steps: VStep[] = c.steps;
  const fails = (s: VStep[]) => runVfioCase({ ...c, steps: s }).violations.some((v) => v.kind === kind);
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

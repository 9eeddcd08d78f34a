// Runs a compiled scenario against a fresh emulated kernel and records every
// step: pure (no I/O, no clock, no environment), so the same scenario always
// gives the same result.
import { ArgumentTooLarge, Kernel, O_RDWR } from '../kernel/kernel.js';
import { makeProfile } from '../kernel/profile.js';
import type { Outcome } from '../kernel/result.js';
import { CONSTANTS } from '../uapi/constants.js';
import { outFdField } from '../uapi/struct.js';
import { buildArg, resolveRequest } from './args.js';
import { isMap } from './compile.js';
import { checkExpect } from './expect.js';
import type { Scenario, Step } from './model.js';
import { outcomeFields } from './outcome.js';
import type { OutValue, ScenarioResult, StepRecord } from './run-result.js';
import { type ProcState, RunInputError, Runtime } from './runtime.js';
import { snapshot } from './snapshot.js';
import { StepLog, type StepLogMode } from './step-log.js';
import { doMemory, doMessage, doProcess } from './steps.js';
import { doSysfs } from './sysfs-steps.js';
import { resumeTask, retryWaiting, settle, type Task, taskRows } from './tasks.js';

export interface RunSetup {
  /** registers the driver families on a new kernel (src/drivers/index.ts) */
  register(k: Kernel): void;
  /** which step records to keep (default all): `summary` for a text report without --all-steps */
  stepLog?: StepLogMode;
}

function shortArgs(step: Step): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(step.raw)) {
    if (k === step.action || k === 'expect' || k === 'note' || k === 'process' || k === 'save') continue;
    parts.push(`${k}=${compact(v)}`);
  }
  return parts.join(' ');
}

function compact(v: unknown): string {
  if (typeof v === 'bigint') return v < 0n || v < 10n ? v.toString() : `0x${v.toString(16)}`;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(compact).join(', ')}]`;
  if (isMap(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}: ${compact(x)}`)
      .join(', ')}}`;
  return String(v);
}

export function runScenario(s: Scenario, setup: RunSetup): ScenarioResult {
  const profile = makeProfile(s.kernel, s.patches);
  if (typeof profile === 'string') throw new Error(`internal: ${profile}`);
  const k = new Kernel(profile, s.machine);
  setup.register(k);
  if (s.failNth) k.fault.armRun(s.failNth);
  const rt = new Runtime(k, s);
  const main = k.spawn('main');
  rt.procs.set('main', { name: 'main', proc: main, fds: new Map(), maps: new Map() });
  const tasks: Task[] = [];
  const log = new StepLog(setup.stepLog ?? 'all');
  const steps = log.kept;
  const result: ScenarioResult = {
    scenario: s.name,
    ...(s.description ? { description: s.description } : {}),
    file: s.file,
    kernel: s.kernel,
    patches: s.patches,
    ok: true,
    steps,
    stepTotals: log.totals(),
    state: snapshot(rt, []),
    diagnostics: [],
  };
  try {
    for (const step of s.steps) {
      const rec = runStep(rt, step, tasks);
      log.push(rec);
      if (rec.expect === 'fail') result.ok = false;
    }
  } catch (e) {
    const err = e instanceof ArgumentTooLarge ? argumentError(s, log.count, e) : e;
    if (!(err instanceof RunInputError)) throw err;
    result.ok = false;
    result.error = { line: err.line, column: err.column, message: err.message };
  }
  k.fault.step = null;
  result.state = snapshot(rt, taskRows(tasks));
  result.stepTotals = log.totals();
  if (s.failNth) result.failNth = s.failNth;
  if (s.failNth || s.steps.some((x) => x.raw.fail_nth)) {
    result.faults = { points: k.fault.points, injected: [...k.fault.injected] };
  }
  for (const r of steps) for (const d of r.diagnostics) result.diagnostics.push({ step: r.index, ...d });
  for (const d of result.state.diagnostics) {
    result.diagnostics.push({ step: null, code: String(d.code), message: String(d.message) });
  }
  return result;
}

/** A call that did not return inside its step becomes a task named by its as:, else #INDEX. */
function startTask(
  rt: Runtime,
  ps: ProcState,
  step: Step,
  tasks: Task[],
  o: Outcome,
  finish: (o: Outcome) => Partial<StepRecord>,
): void {
  const name = typeof step.raw.as === 'string' ? step.raw.as : `#${step.index}`;
  const t: Task = {
    name,
    process: step.process,
    step: step.index,
    state: 'waiting',
    point: null,
    cont: () => o,
    finish,
    onBug: () => killProcess(rt, ps),
  };
  settle(t, o);
  tasks.push(t);
}

/** A kernel BUG kills the calling process: its fds close as at exit. */
function killProcess(rt: Runtime, ps: ProcState): void {
  if (rt.killed.has(ps.name)) return;
  rt.killed.add(ps.name);
  rt.k.exit(ps.proc);
}

/** An argument too large to build is an input error at the step that asked for it. */
function argumentError(s: Scenario, index: number, e: ArgumentTooLarge): RunInputError {
  const p = s.doc.locate(s.steps[index]?.path ?? []);
  return new RunInputError(p.line, p.column, e.message);
}

function callName(step: Step): string {
  const m = step.main;
  if (typeof m === 'bigint') return `0x${m.toString(16)}`;
  if (isMap(m)) return compact(m);
  return typeof m === 'string' ? m : String(m);
}

/**
 * A step's record. The argument summary is made only when read: a long run prints
 * a few of its steps, and building the text for every step was a tenth of its time.
 */
class StepRec implements StepRecord {
  index: number;
  process: string;
  op: string;
  call: string;
  ret: number | bigint | null = 0;
  errno: string | null = null;
  out: OutValue = null;
  expect: StepRecord['expect'] = 'none';
  diagnostics: StepRecord['diagnostics'] = [];
  note?: string;
  readonly #step: Step;

  constructor(step: Step) {
    this.#step = step;
    this.index = step.index;
    this.process = step.process;
    this.op = step.action;
    this.call = callName(step);
    if (typeof step.raw.note === 'string') this.note = step.raw.note;
  }

  get args(): string {
    return shortArgs(this.#step);
  }
}

function runStep(rt: Runtime, step: Step, tasks: Task[]): StepRecord {
  const live = rt.procs.get(step.process);
  const rec: StepRecord = new StepRec(step);
  if (!live || rt.killed.has(step.process)) {
    // the kernel killed this process at a BUG: its later steps do not run; nor do those of a process
    // that a killed process would have started (its fork:/spawn: step was skipped)
    Object.assign(rec, { ret: null, skipped: true });
    if (step.raw.expect !== undefined) {
      rec.expect = 'fail';
      rec.expectFailures = [
        live
          ? 'the step was skipped: its process was killed by a kernel BUG'
          : `the step was skipped: process "${step.process}" was never started (a kernel BUG killed the process whose step would start it)`,
      ];
    }
    return rec;
  }
  const ps = live;
  /** names this step defines, usable in its own expectation */
  const self = new Map<string, bigint>();
  const fault = rt.k.fault;
  const injectedBefore = fault.injected.length;
  fault.step = step.index;
  // a step's fail_nth: as a write to the process's fail-nth right before the call (fault.ts)
  if (typeof step.raw.fail_nth === 'bigint' && step.raw.fail_nth > 0n)
    fault.armStep(ps.proc.mm, Number(step.raw.fail_nth));
  try {
    execute(rt, ps, step, rec, self, tasks);
    save(rt, step, rec, self);
    // a later step can end a wait: the waiting call continues inside it; then the step's diagnostics
    // (its own and those of what continued) are complete and its expectation can look at them
    retryWaiting(tasks);
  } finally {
    fault.disarmStep();
  }
  if (fault.injected.length > injectedBefore) rec.faults = fault.injected.slice(injectedBefore);
  rec.diagnostics.push(...rt.k.diagnostics);
  rt.k.diagnostics = [];
  const want = step.raw.expect;
  if (typeof want === 'bigint' && typeof rec.ret === 'number' && !rec.blocks) {
    // the common case of machine-written files: `expect: 72` against a returned number
    rec.expect = BigInt(rec.ret) === want ? 'pass' : 'fail';
    if (rec.expect === 'fail')
      rec.expectFailures = [
        `ret: expected 0x${want.toString(16)}, got ${rec.ret}${rec.errno ? ` (${rec.errno})` : ''}`,
      ];
  } else if (want !== undefined) {
    const failures = checkExpect(rt, ps, rec, want, [...step.path, 'expect'], self);
    rec.expect = failures.length ? 'fail' : 'pass';
    if (failures.length) rec.expectFailures = failures;
  }
  return rec;
}

function save(rt: Runtime, step: Step, rec: StepRecord, self: Map<string, bigint>): void {
  const sv = step.raw.save;
  if (sv === undefined) return;
  const put = (name: string, v: OutValue | undefined) => {
    if (v === undefined || v === null) {
      rt.saved.delete(name);
      return;
    }
    const x = typeof v === 'number' ? BigInt(v) : v;
    rt.saved.set(name, x);
    if (typeof x === 'bigint') self.set(name, x);
  };
  if (typeof sv === 'string') {
    put(sv, rec.out !== null ? rec.out : rec.errno === null && rec.ret !== null ? rec.ret : null);
    return;
  }
  if (isMap(sv)) {
    for (const [name, field] of Object.entries(sv)) {
      const o = rec.out;
      put(name, isMap(o) ? (o as Record<string, OutValue>)[field as string] : undefined);
    }
  }
}

function bindFd(ps: ProcState, name: unknown, rec: StepRecord): void {
  if (typeof name !== 'string') return;
  ps.fds.set(name, rec.errno === null && typeof rec.ret === 'number' ? rec.ret : -1);
}

function execute(
  rt: Runtime,
  ps: ProcState,
  step: Step,
  rec: StepRecord,
  self: Map<string, bigint>,
  tasks: Task[],
) {
  const k = rt.k;
  const raw = step.raw;
  const p = step.path;
  switch (step.action) {
    case 'open': {
      let flags = O_RDWR;
      if (raw.flags !== undefined) {
        const list = Array.isArray(raw.flags) ? raw.flags : [raw.flags];
        flags = 0;
        list.forEach((f, i) => {
          const v = typeof f === 'string' ? CONSTANTS.get(f) : undefined;
          if (v === undefined)
            rt.fail(
              [...p, 'flags', i],
              `flags: unknown open flag ${String(f)} (O_RDWR, O_RDONLY, O_WRONLY, O_NONBLOCK, O_CLOEXEC, ...)`,
            );
          flags |= Number(v);
        });
      }
      Object.assign(rec, outcomeFields(k.open(ps.proc, step.main as string, flags)));
      bindFd(ps, raw.as, rec);
      return;
    }
    case 'close': {
      const fd = rt.fd(ps, step.main, [...p, 'close']);
      Object.assign(rec, outcomeFields(k.close(ps.proc, fd)));
      return;
    }
    case 'eventfd': {
      const init = raw.value === undefined ? 0n : rt.value(ps, raw.value, [...p, 'value'], 64);
      Object.assign(rec, outcomeFields(k.eventfd(ps.proc, init)));
      bindFd(ps, step.main, rec);
      return;
    }
    case 'ioctl': {
      const fd = rt.fd(ps, raw.fd, [...p, 'fd']);
      const f = k.fget(ps.proc, fd);
      const req = resolveRequest(rt, ps, step.main, [...p, 'ioctl'], f);
      rec.call = req.call;
      const built = buildArg(rt, ps, req, raw, p);
      const o = k.ioctl(ps.proc, fd, req.number, built.arg);
      Object.assign(rec, outcomeFields(o));
      rec.out = built.readOut();
      if (raw.as !== undefined) {
        // an fd the kernel returns inside a struct, its fd-role out field (KVM_CREATE_DEVICE's fd,
        // IOMMU_FAULT_QUEUE_ALLOC's out_fault_fd), is what as: names; a failed call binds −1
        const shape = req.def?.arg;
        const field = shape?.kind === 'struct' ? outFdField(shape.def) : undefined;
        if (field) {
          const v = isMap(rec.out) ? (rec.out as Record<string, OutValue>)[field.name] : undefined;
          ps.fds.set(raw.as as string, rec.errno === null && typeof v === 'number' ? v : -1);
        } else {
          bindFd(ps, raw.as, rec);
        }
      }
      return;
    }
    case 'write':
    case 'read':
    case 'poll':
    case 'signal': {
      const r = doMessage(rt, ps, step, rec);
      if (r) startTask(rt, ps, step, tasks, r.blocked, r.finish);
      return;
    }
    case 'sysfs':
    case 'readlink':
    case 'ls':
    case 'bind':
    case 'unbind': {
      const o = doSysfs(rt, ps, step, rec);
      if (!o) return;
      const finish = (x: Outcome): Partial<StepRecord> => outcomeFields(x);
      Object.assign(rec, finish(o));
      if (o.ok === 'bug') killProcess(rt, ps);
      else if (o.ok === 'blocked' || o.ok === 'paused') startTask(rt, ps, step, tasks, o, finish);
      return;
    }
    case 'mmap':
    case 'poke':
    case 'peek':
    case 'munmap':
      doMemory(rt, ps, step, rec, self);
      return;
    case 'fork':
    case 'spawn':
    case 'pass':
    case 'exit':
      if (step.action === 'exit' && tasks.some((t) => t.process === step.main && t.state !== 'done')) {
        rt.fail(
          [...p, 'exit'],
          `exit: process "${String(step.main)}" has a paused or waiting task (resume it first)`,
        );
      }
      doProcess(rt, ps, step, rec);
      return;
    case 'inspect': {
      const st = snapshot(rt, taskRows(tasks));
      let rowsOut = st[step.main as string] ?? [];
      if (raw.fd !== undefined) {
        const f = k.fget(ps.proc, rt.fd(ps, raw.fd, [...p, 'fd']));
        rowsOut = rowsOut.filter((r) => f !== undefined && r.file === f.id);
      }
      if (isMap(raw.where)) {
        const where = raw.where;
        rowsOut = rowsOut.filter((r) =>
          Object.entries(where).every(([key, want]) => {
            const got = r[key];
            if (typeof want === 'bigint' || (typeof want === 'string' && typeof got !== 'string')) {
              const w = rt.integer(ps, want, [...p, 'where', key]);
              return (typeof got === 'bigint' || typeof got === 'number') && BigInt(got) === w;
            }
            return got === want;
          }),
        );
      }
      rec.out = rowsOut;
      return;
    }
    case 'resume': {
      const t = [...tasks].reverse().find((x) => x.name === step.main);
      if (!t)
        rt.fail(
          [...p, 'resume'],
          `resume: task "${String(step.main)}" was never started (its call returned)`,
        );
      Object.assign(rec, resumeTask(t));
      return;
    }
    default:
      rt.fail([...p, step.action], `action ${step.action} is not modelled yet`);
  }
}

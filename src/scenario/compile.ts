// Validates a loaded document against the scenario language (scenario.md) and
// checks every name before anything runs: an unknown key, action, ioctl or
// name is one InputError at its own file:line:column.
import { posix } from 'node:path';
import { buildMachine, isMachineError, type Machine } from '../kernel/machine.js';
import { type Family, isPatchName, type KernelProfile, makeProfile, PATCHES } from '../kernel/profile.js';
import { resolveErrnoName } from '../uapi/errno.js';
import { ioctlByName } from '../uapi/ioctls.js';
import { isMap } from './compile-util.js';
import { InputError } from './input-error.js';
import type { LoadedDocument, YamlPath } from './load.js';
import {
  ACTION_KEYS,
  ACTIONS,
  type Action,
  COMMON_KEYS,
  type Raw,
  type Scenario,
  type Step,
} from './model.js';
import { STATE_KEYS } from './run-result.js';
import { checkStepValues } from './static-values.js';
import { parseIntLiteral } from './values.js';

export const DEFAULT_KERNEL = '6.12';
export const STATE_KEYS_INSPECTABLE: readonly string[] = STATE_KEYS;
export const TOP_KEYS = ['name', 'description', 'kernel', 'patches', 'machine', 'steps', 'fail_nth'];
export const IOTLB_KEYS = ['type', 'iova', 'size', 'uaddr', 'perm', 'asid'];
const ACTION_SET: ReadonlySet<string> = new Set(ACTIONS);
/** the actions whose call may block, wait or pause: each is a task named by its as:, else #INDEX */
const TASK_ACTIONS: ReadonlySet<string> = new Set(['read', 'sysfs', 'bind', 'unbind']);
/** per action, the keys a step may have and how an error names the step (made once, not per step) */
const STEP_KEYS = {} as Record<Action, { list: readonly string[]; what: string }>;
for (const a of ACTIONS) {
  STEP_KEYS[a] = {
    list: [a, ...COMMON_KEYS, ...ACTION_KEYS[a]],
    what: `${/^[aeiou]/.test(a) ? 'an' : 'a'} ${a} step`,
  };
}
const IDENT = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const VAR_REF = /\$([A-Za-z_][A-Za-z0-9_]*)/g;

export interface CompileOptions {
  /** --kernel: overrides every scenario's kernel */
  kernel?: string;
  /** --patch: added to every scenario's list */
  patches?: readonly string[];
  /** the driver family owning a device node path, if any */
  nodeFamily(path: string): Family | undefined;
  /** the named points a driver unbind passes on this profile and machine (for pause_at checks) */
  pausePoints?(profile: KernelProfile, machine: Machine): readonly string[];
  /** --fail-nth: overrides every scenario's fail_nth (0: none) */
  failNth?: number;
}

/** fail_nth's range: /proc/.../fail-nth takes an unsigned int (kstrtouint); 0 injects nothing. */
export const FAIL_NTH_MAX = 0xffffffff;

/** A fail_nth value, or the reason it is not one. */
export function failNthValue(v: unknown): number | string {
  if (typeof v !== 'bigint' || v < 0n || v > BigInt(FAIL_NTH_MAX))
    return `fail_nth: expected an integer from 0 to ${FAIL_NTH_MAX} (the Nth fault point fails; 0: none), got ${describe(v)}`;
  return Number(v);
}

export { isMap } from './compile-util.js';

class Checker {
  constructor(
    readonly file: string,
    readonly doc: LoadedDocument,
  ) {}

  fail(path: YamlPath, message: string, part: 'key' | 'value' = 'value'): never {
    const p = this.doc.locate(path, part);
    throw new InputError(this.file, p.line, p.column, message);
  }

  /** An error at character `offset` inside the string scalar at path. */
  failAt(path: YamlPath, offset: number, message: string): never {
    const s = this.doc.scalarStart(path);
    if (s) throw new InputError(this.file, s.line, s.column + offset, message);
    return this.fail(path, message);
  }

  keys(map: Raw, path: YamlPath, allowed: readonly string[], what: string): void {
    for (const k of Object.keys(map)) {
      if (!allowed.includes(k)) {
        this.fail(
          [...path, k],
          `unknown key "${k}" in ${what} (expected one of: ${allowed.join(', ')})`,
          'key',
        );
      }
    }
  }

  string(v: unknown, path: YamlPath, what: string): string {
    if (typeof v !== 'string') this.fail(path, `${what}: expected a string, got ${describe(v)}`);
    return v;
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return `the integer ${v}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return String(v);
}

/** Per-process names during the static pass. */
interface ProcNames {
  alive: boolean;
  fds: Set<string>;
  maps: Map<string, boolean /* memfd */>;
}

class NameScope {
  readonly procs = new Map<string, ProcNames>([['main', { alive: true, fds: new Set(), maps: new Map() }]]);
  readonly saved = new Set<string>();
  readonly tasks = new Set<string>();

  proc(name: string): ProcNames | undefined {
    return this.procs.get(name);
  }
}

function isFdRef(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'bigint';
}

/** Validates one document into a Scenario. */
export function compileScenario(file: string, doc: LoadedDocument, opts: CompileOptions): Scenario {
  const c: Checker = new Checker(file, doc);
  const v = doc.value;
  if (!isMap(v)) c.fail([], `a scenario must be a map with name and steps, got ${describe(v)}`);
  c.keys(v, [], TOP_KEYS, 'a scenario');
  if (v.name === undefined) c.fail([], 'missing required key "name"');
  const name = c.string(v.name, ['name'], 'name');
  const description =
    v.description === undefined ? undefined : c.string(v.description, ['description'], 'description');
  let kernel = DEFAULT_KERNEL;
  if (v.kernel !== undefined) {
    if (typeof v.kernel !== 'string') {
      c.fail(
        ['kernel'],
        `kernel: expected a quoted string such as "6.10", got ${describe(v.kernel)} (quote the version)`,
      );
    }
    kernel = v.kernel;
  }
  const patches: string[] = [];
  if (v.patches !== undefined) {
    if (!Array.isArray(v.patches)) c.fail(['patches'], 'patches: expected a list of patch names');
    v.patches.forEach((p, i) => {
      const s = c.string(p, ['patches', i], 'patches');
      if (!isPatchName(s))
        c.fail(['patches', i], `unknown patch "${s}" (known: ${Object.keys(PATCHES).join(', ')})`);
      patches.push(s);
    });
  }
  if (opts.kernel !== undefined) kernel = opts.kernel;
  for (const p of opts.patches ?? []) if (!patches.includes(p)) patches.push(p);
  const prof = makeProfile(kernel, patches);
  if (typeof prof === 'string')
    c.fail(v.kernel !== undefined && opts.kernel === undefined ? ['kernel'] : [], prof);
  const machine = buildMachine(v.machine);
  if (isMachineError(machine)) c.fail(['machine', ...machine.path], machine.message);
  if (v.steps === undefined) c.fail([], 'missing required key "steps"');
  if (!Array.isArray(v.steps)) c.fail(['steps'], 'steps: expected a list of steps');
  let failNth: number | undefined;
  if (v.fail_nth !== undefined) {
    const n = failNthValue(v.fail_nth);
    if (typeof n === 'string') c.fail(['fail_nth'], n);
    failNth = n;
  }
  if (opts.failNth !== undefined) failNth = opts.failNth;
  const scope = new NameScope();
  const points = opts.pausePoints?.(prof, machine) ?? [];
  const steps: Step[] = [];
  const raws = v.steps as unknown[];
  for (let i = 0; i < raws.length; i++) {
    steps.push(compileStep(c, raws[i], i, scope, prof.families, opts, points));
  }
  return {
    file,
    doc,
    name,
    ...(description ? { description } : {}),
    kernel,
    patches,
    machine,
    steps,
    ...(failNth ? { failNth } : {}),
  };
}

function compileStep(
  c: Checker,
  raw: unknown,
  index: number,
  scope: NameScope,
  families: ReadonlySet<Family>,
  opts: CompileOptions,
  points: readonly string[],
): Step {
  const path: YamlPath = ['steps', index];
  if (!isMap(raw)) c.fail(path, `step ${index}: expected a map with one action key, got ${describe(raw)}`);
  const actions: string[] = [];
  for (const k in raw) if (ACTION_SET.has(k)) actions.push(k);
  if (actions.length === 0) {
    const unknown = Object.keys(raw).find((k) => !(COMMON_KEYS as readonly string[]).includes(k));
    if (unknown) {
      c.fail(
        [...path, unknown],
        `unknown action "${unknown}" (expected one of: ${ACTIONS.join(', ')})`,
        'key',
      );
    }
    c.fail(path, `step ${index} has no action (expected one of: ${ACTIONS.join(', ')})`);
  }
  if (actions.length > 1)
    c.fail([...path, actions[1]!], `a step takes one action, this one has ${actions.join(' and ')}`, 'key');
  const action = actions[0] as Action;
  const allowed = STEP_KEYS[action];
  c.keys(raw, path, allowed.list, allowed.what);
  const procName =
    raw.process === undefined ? 'main' : c.string(raw.process, [...path, 'process'], 'process');
  const proc = scope.proc(procName);
  if (!proc)
    c.fail([...path, 'process'], `no process named "${procName}" (start it with fork: or spawn: first)`);
  if (!proc.alive) c.fail([...path, 'process'], `process "${procName}" has exited`);
  if (raw.pause_at !== undefined) {
    const pausable =
      action === 'bind' || action === 'unbind' || (action === 'sysfs' && raw.value !== undefined);
    if (!pausable) c.fail([...path, 'pause_at'], `pause_at: a ${action} step has no pause points`, 'key');
    const at = c.string(raw.pause_at, [...path, 'pause_at'], 'pause_at');
    if (!points.includes(at)) {
      c.fail(
        [...path, 'pause_at'],
        `pause_at: a driver unbind passes no point "${at}" on this profile (points: ${points.join(', ') || 'none'})`,
      );
    }
  }
  if (raw.note !== undefined) c.string(raw.note, [...path, 'note'], 'note');
  if (raw.fail_nth !== undefined) {
    const n = failNthValue(raw.fail_nth);
    if (typeof n === 'string') c.fail([...path, 'fail_nth'], n);
  }
  const step: Step = { index, action, main: raw[action], raw, process: procName, path };
  const sp = (k: string | number): YamlPath => [...path, k];
  const checkRefs = (val: unknown, p: YamlPath, extra?: ReadonlySet<string>) =>
    hasDollar(val) && checkVarRefs(c, val, p, scope, proc, extra);
  const fdKey = (key: string, required: boolean) => {
    const val = raw[key];
    if (val === undefined) {
      if (required) c.fail(path, `a ${action} step needs "${key}:"`);
      return;
    }
    if (!isFdRef(val))
      c.fail(sp(key), `${key}: expected an fd name, $name or a number, got ${describe(val)}`);
    if (typeof val === 'string') {
      if (val.startsWith('$')) checkRefs(val, sp(key));
      else if (parseIntLiteral(val) === undefined && !proc.fds.has(val)) {
        c.fail(sp(key), `no fd named "${val}" in process "${procName}"`);
      }
    }
  };
  const bindAs = (kind: 'fd' | 'map') => {
    if (raw.as === undefined) return;
    const n = c.string(raw.as, sp('as'), 'as');
    if (!IDENT.test(n)) c.fail(sp('as'), `as: "${n}" is not a valid name`);
    if (kind === 'fd') proc.fds.add(n);
  };
  const noAs = () => {
    if (raw.as !== undefined) c.fail(sp('as'), `as: a ${action} step returns nothing to name`, 'key');
  };
  for (const k of ACTION_KEYS[action])
    if (raw[k] !== undefined && k !== 'fd' && k !== 'to' && hasDollar(raw[k])) checkRefs(raw[k], sp(k));
  switch (action) {
    case 'open': {
      const p = c.string(step.main, sp('open'), 'open');
      // a path is as open(2) resolves it: one that leaves /dev is not a device node
      if (!p.startsWith('/dev/') || !posix.normalize(p).startsWith('/dev/')) {
        c.fail(sp('open'), `open: expected a device node path under /dev, got "${p}"`);
      }
      const fam = opts.nodeFamily(p);
      if (fam && !families.has(fam)) {
        c.fail(sp('open'), `open: ${p} is a ${fam} node, which the kernel profile does not model`);
      }
      if (raw.flags !== undefined && !Array.isArray(raw.flags) && typeof raw.flags !== 'string') {
        c.fail(sp('flags'), 'flags: expected a list of O_* names');
      }
      bindAs('fd');
      break;
    }
    case 'read': {
      fdKey('read', true);
      if (raw.as !== undefined) scope.tasks.add(c.string(raw.as, sp('as'), 'as'));
      if (raw.nonblock !== undefined && typeof raw.nonblock !== 'boolean')
        c.fail(sp('nonblock'), 'nonblock: expected true or false');
      break;
    }
    case 'close':
    case 'poll':
    case 'signal':
      fdKey(action, true);
      noAs();
      break;
    case 'write': {
      fdKey('write', true);
      noAs();
      if (raw.iotlb === undefined && raw.data === undefined)
        c.fail(path, 'a write step needs "iotlb:" or "data:"');
      if (raw.iotlb !== undefined && raw.data !== undefined)
        c.fail(sp('data'), 'write: give iotlb: or data:, not both', 'key');
      if (raw.iotlb !== undefined) {
        if (!isMap(raw.iotlb))
          c.fail(sp('iotlb'), 'iotlb: expected a map {type, iova, size, uaddr, perm, asid}');
        c.keys(raw.iotlb, sp('iotlb'), IOTLB_KEYS, 'an IOTLB message');
      }
      if (raw.data !== undefined) {
        const d = c.string(raw.data, sp('data'), 'data');
        if (!/^([0-9a-fA-F]{2}[\s:]?)*$/.test(d.trim())) c.fail(sp('data'), 'data: expected hex bytes');
      }
      if (raw.version !== undefined && raw.version !== 1n && raw.version !== 2n) {
        c.fail(sp('version'), `version: expected 1 or 2, got ${describe(raw.version)}`);
      }
      break;
    }
    case 'ioctl': {
      const n = step.main;
      if (typeof n === 'string') {
        if (!ioctlByName(n) && parseIntLiteral(n) === undefined) c.fail(sp('ioctl'), `unknown ioctl "${n}"`);
      } else if (typeof n !== 'bigint') {
        c.fail(sp('ioctl'), `ioctl: expected an ioctl name or number, got ${describe(n)}`);
      }
      fdKey('fd', true);
      if (raw.arg !== undefined && raw.argp !== undefined)
        c.fail(sp('argp'), 'ioctl: give arg: or argp:, not both', 'key');
      bindAs('fd');
      break;
    }
    case 'eventfd': {
      const n = c.string(step.main, sp('eventfd'), 'eventfd');
      if (!IDENT.test(n)) c.fail(sp('eventfd'), `eventfd: "${n}" is not a valid name`);
      noAs();
      proc.fds.add(n);
      break;
    }
    case 'mmap': {
      const n = c.string(step.main, sp('mmap'), 'mmap');
      if (!IDENT.test(n)) c.fail(sp('mmap'), `mmap: "${n}" is not a valid name`);
      if (raw.size === undefined) c.fail(path, 'a mmap step needs "size:"');
      if (raw.fd !== undefined) {
        fdKey('fd', true);
        if (raw.memfd !== undefined || raw.object !== undefined) {
          c.fail(sp('fd'), 'mmap: fd: maps a device file; memfd: and object: do not go with it', 'key');
        }
      }
      if (raw.prot !== undefined && !['rw', 'r', 'w', 'none'].includes(raw.prot as string)) {
        c.fail(sp('prot'), `prot: expected rw, r, w or none, got ${describe(raw.prot)}`);
      }
      for (const b of ['shared', 'memfd'] as const) {
        if (raw[b] !== undefined && typeof raw[b] !== 'boolean')
          c.fail(sp(b), `${b}: expected true or false`);
      }
      if (raw.object !== undefined) {
        const o = c.string(raw.object, sp('object'), 'object');
        const holders = [...scope.procs.entries()].filter(([, p]) => p.maps.has(o));
        const own = proc.maps.get(o);
        const found = own !== undefined ? own : holders.length === 1 ? holders[0]![1].maps.get(o) : undefined;
        if (own === undefined && holders.length > 1)
          c.fail(sp('object'), `object: "${o}" names mappings of several processes`);
        if (found === undefined) c.fail(sp('object'), `object: no mapping named "${o}"`);
        if (!found) c.fail(sp('object'), `object: "${o}" is not a memfd mapping`);
      }
      noAs();
      proc.maps.set(n, raw.memfd === true || raw.object !== undefined);
      break;
    }
    case 'poke':
    case 'peek':
    case 'munmap': {
      const n = c.string(step.main, sp(action), action);
      if (!proc.maps.has(n)) c.fail(sp(action), `no mapping named "${n}" in process "${procName}"`);
      if (action === 'poke' && raw.value === undefined) c.fail(path, 'a poke step needs "value:"');
      if (raw.width !== undefined && ![1n, 2n, 4n, 8n].includes(raw.width as bigint)) {
        c.fail(sp('width'), `width: expected 1, 2, 4 or 8, got ${describe(raw.width)}`);
      }
      noAs();
      break;
    }
    case 'fork':
    case 'spawn': {
      const n = c.string(step.main, sp(action), action);
      if (!IDENT.test(n)) c.fail(sp(action), `${action}: "${n}" is not a valid process name`);
      if (scope.procs.has(n)) c.fail(sp(action), `${action}: a process named "${n}" already exists`);
      if (raw.caps !== undefined) {
        if (!Array.isArray(raw.caps)) c.fail(sp('caps'), 'caps: expected a list of capability names');
        raw.caps.forEach((x, i) => {
          const s = c.string(x, [...sp('caps'), i], 'caps');
          if (!/^CAP_[A-Z_]+$/.test(s)) c.fail([...sp('caps'), i], `caps: "${s}" is not a capability name`);
        });
      }
      noAs();
      scope.procs.set(
        n,
        action === 'fork'
          ? { alive: true, fds: new Set(proc.fds), maps: new Map(proc.maps) }
          : { alive: true, fds: new Set(), maps: new Map() },
      );
      break;
    }
    case 'pass': {
      fdKey('pass', true);
      const to = c.string(raw.to, sp('to'), 'to');
      const target = scope.proc(to);
      if (!target?.alive) c.fail(sp('to'), `to: no running process named "${to}"`);
      if (raw.as === undefined) c.fail(path, 'a pass step needs "as:" (the name in the receiving process)');
      const n = c.string(raw.as, sp('as'), 'as');
      target.fds.add(n);
      break;
    }
    case 'exit': {
      const n = c.string(step.main, sp('exit'), 'exit');
      const p = scope.proc(n);
      if (!p?.alive) c.fail(sp('exit'), `exit: no running process named "${n}"`);
      noAs();
      p.alive = false;
      break;
    }
    case 'sysfs':
    case 'readlink':
    case 'ls': {
      const target = c.string(step.main, sp(action), action);
      const root = action === 'ls' ? /^\/(sys|dev)\// : /^\/sys\//;
      if (!root.test(target) || target.split('/').includes('..')) {
        c.fail(
          sp(action),
          `${action}: expected an absolute path under ${action === 'ls' ? '/sys or /dev' : '/sys'}, got "${target}"`,
        );
      }
      if (raw.value !== undefined && typeof raw.value !== 'string')
        c.fail(sp('value'), 'value: expected a string (written byte for byte)');
      if (action === 'sysfs' && raw.value !== undefined) taskName(c, raw, scope, sp);
      else noAs();
      break;
    }
    case 'bind': {
      const b = step.main;
      if (!isMap(b)) c.fail(sp('bind'), 'bind: expected {device: BDF, driver: NAME}');
      c.keys(b, sp('bind'), ['device', 'driver'], 'bind');
      if (typeof b.device !== 'string' || !BDF.test(b.device))
        c.fail([...sp('bind'), 'device'], 'device: expected a PCI address such as "0000:01:00.0"');
      if (typeof b.driver !== 'string' || !/^[a-z0-9_-]+$/.test(b.driver))
        c.fail([...sp('bind'), 'driver'], 'driver: expected a driver name such as vfio-pci');
      taskName(c, raw, scope, sp);
      break;
    }
    case 'unbind': {
      const d = c.string(step.main, sp('unbind'), 'unbind');
      if (!BDF.test(d)) c.fail(sp('unbind'), 'unbind: expected a PCI address such as "0000:01:00.0"');
      taskName(c, raw, scope, sp);
      break;
    }
    case 'inspect': {
      const key = c.string(step.main, sp('inspect'), 'inspect');
      if (!STATE_KEYS_INSPECTABLE.includes(key)) {
        c.fail(
          sp('inspect'),
          `inspect: unknown state key "${key}" (expected one of: ${STATE_KEYS_INSPECTABLE.join(', ')})`,
        );
      }
      fdKey('fd', false);
      if (raw.where !== undefined && !isMap(raw.where))
        c.fail(sp('where'), 'where: expected a map of field: value');
      noAs();
      break;
    }
    case 'resume': {
      const t = c.string(step.main, sp('resume'), 'resume');
      if (!scope.tasks.has(t))
        c.fail(sp('resume'), `resume: no task named "${t}" (name a waiting step with as:, or "#INDEX")`);
      noAs();
      break;
    }
    default:
      break;
  }
  // a read may block and an unbind may wait or pause: a task named by its as:, else #INDEX
  if (TASK_ACTIONS.has(action)) scope.tasks.add(`#${index}`);
  const selfNames = new Set<string>();
  if (action === 'mmap') selfNames.add(step.main as string);
  if (raw.save !== undefined) {
    if (typeof raw.save === 'string') {
      selfNames.add(raw.save);
    } else if (isMap(raw.save)) {
      for (const [k, f] of Object.entries(raw.save)) {
        if (!IDENT.test(k)) c.fail([...sp('save'), k], `save: "${k}" is not a valid name`, 'key');
        c.string(f, [...sp('save'), k], 'save');
        selfNames.add(k);
      }
    } else {
      c.fail(sp('save'), 'save: expected a name or a map {name: field}');
    }
  }
  if (raw.expect !== undefined) checkExpectShape(c, raw.expect, sp('expect'));
  if (raw.expect !== undefined && hasDollar(raw.expect)) {
    const extra = new Set([...selfNames, ...(typeof raw.as === 'string' ? [raw.as] : [])]);
    checkRefs(raw.expect, sp('expect'), extra);
  }
  for (const n of selfNames) scope.saved.add(n);
  checkStepValues(c, step);
  return step;
}

const EXPECT_KEYS = ['ret', 'errno', 'out', 'site', 'diagnostics', 'blocks', 'paused'];

/** An expectation's shape is checked before anything runs (its values may need run-time names). */
function checkExpectShape(c: Checker, e: unknown, path: YamlPath): void {
  if (typeof e === 'string' && /^E[A-Z0-9]+$/.test(e) && !resolveErrnoName(e)) {
    c.fail(path, `expect: unknown errno name "${e}"`);
  }
  if (!isMap(e)) return;
  c.keys(e, path, EXPECT_KEYS, 'an expectation');
  if (typeof e.errno === 'string' && !resolveErrnoName(e.errno)) {
    c.fail([...path, 'errno'], `errno: unknown errno name "${e.errno}"`);
  }
  if (e.site !== undefined && !isMap(e.site))
    c.fail([...path, 'site'], 'site: expected {function, check, errno}');
  if (isMap(e.site)) c.keys(e.site, [...path, 'site'], ['function', 'check', 'errno'], 'a site');
}

const BDF = /^([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

/** A step whose call may wait or pause: `as:` names its task. */
function taskName(c: Checker, raw: Raw, scope: NameScope, sp: (k: string) => YamlPath): void {
  if (raw.as === undefined) return;
  const n = c.string(raw.as, sp('as'), 'as');
  if (!IDENT.test(n)) c.fail(sp('as'), `as: "${n}" is not a valid task name`);
  scope.tasks.add(n);
}

/** Whether a value mentions a `$name` anywhere (a cheap scan: most values do not). */
function hasDollar(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('$');
  if (Array.isArray(v)) return v.some(hasDollar);
  if (typeof v === 'object' && v !== null) {
    for (const k in v) if (hasDollar((v as Record<string, unknown>)[k])) return true;
  }
  return false;
}

/** Every `$name` in a value must be defined by an earlier step for this process, or run-wide. */
function checkVarRefs(
  c: Checker,
  val: unknown,
  path: YamlPath,
  scope: NameScope,
  proc: ProcNames,
  extra?: ReadonlySet<string>,
): void {
  if (typeof val === 'string') {
    if (!val.includes('$')) return;
    for (const m of val.matchAll(VAR_REF)) {
      const n = m[1]!;
      if (scope.saved.has(n) || proc.maps.has(n) || proc.fds.has(n) || extra?.has(n)) continue;
      c.failAt(
        path,
        m.index,
        `no value named "$${n}" here (save:, mmap: or an fd name of this process defines one)`,
      );
    }
  } else if (Array.isArray(val)) {
    for (const [i, x] of val.entries()) checkVarRefs(c, x, [...path, i], scope, proc, extra);
  } else if (isMap(val)) {
    for (const [k, x] of Object.entries(val)) checkVarRefs(c, x, [...path, k], scope, proc, extra);
  }
}

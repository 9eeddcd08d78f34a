// Replays a real-kernel oracle recording against the emulator, step for step.
//
// The oracle (/work/shared/oracle, README "Script language") ran a script on a real kernel and
// printed one JSON object per executed line. This module interprets the same script the way the
// oracle's runner.c does (tokens, `"..."` quoting, `#` comments, `key=EXPR`, expressions evaluated
// strictly left to right on 64-bit unsigned values, constants with the oracle's meaning), drives the
// emulator's Kernel directly with argument bytes built from the uapi definitions, and compares each
// line's ret and errno (and the cheap outputs: features, revents, read's IOTLB message, ...) with
// what the real kernel answered.
//
// Lines vioctl cannot run yet (a device node no driver claims, an ioctl with no uapi definition,
// sysfs) are marked 'unsupported' and skipped; their fds keep their number through a stand-in file,
// so later fd numbers still line up with the recording.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { registerDrivers } from '../../src/drivers/index.js';
import { POLLIN, POLLOUT } from '../../src/kernel/eventfd.js';
import type { FileOps } from '../../src/kernel/file.js';
import { Kernel, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from '../../src/kernel/kernel.js';
import { PROT_READ, PROT_WRITE } from '../../src/kernel/memory.js';
import type { Process } from '../../src/kernel/process.js';
import { makeProfile } from '../../src/kernel/profile.js';
import type { SysOutcome } from '../../src/kernel/result.js';
import { constantValue } from '../../src/uapi/constants.js';
import { errnoInfo } from '../../src/uapi/errno.js';
import { ioctlByName } from '../../src/uapi/ioctls.js';
import { encodeStruct, readScalar, type Scalar, writeScalar } from '../../src/uapi/struct.js';
import { IFNAMSIZ, IFREQ_SIZE } from '../../src/uapi/tun.js';
import {
  VHOST_MSG_IOTLB_OFFSET,
  VHOST_MSG_SIZE,
  vhost_iotlb_msg,
  vhost_memory,
  vhost_memory_region,
  vhost_vdpa_config,
  vhost_vdpa_iova_range,
  vhost_vring_addr,
  vhost_vring_file,
  vhost_vring_state,
} from '../../src/uapi/vhost.js';
import { featureBit } from '../../src/uapi/virtio.js';

// ---------------------------------------------------------------------------------------------
// Results

export type Status = 'match' | 'mismatch' | 'unsupported';

/** What one side answered: the raw return value and errno (null where the op prints none). */
export interface Outcome {
  ret: number | null;
  errno: number | null;
  err: string | null;
  /** the emulator's deciding kernel function and check, for a failure */
  site?: string;
}

export interface LineResult {
  /** the script line number (the oracle's `n`) */
  line: number;
  proc: 'parent' | 'child';
  op: string;
  src: string;
  want: Outcome;
  got: Outcome;
  status: Status;
  detail?: string;
}

/** One JSON object of a recording. */
export type OracleRecord = Record<string, unknown> & { n: number; op: string; src?: string };

/** A line the runner itself rejects (it prints `error` and calls nothing). */
export class ScriptError extends Error {}

/** A line that needs something vioctl does not model yet. */
export class Unsupported extends Error {}

// ---------------------------------------------------------------------------------------------
// Constants: runner.c konsts[], with the oracle's meaning (feature names are bit numbers)

/** konsts[] names that are feature BIT NUMBERS in the headers (virtio.ts featureBit). */
export const KONST_FEATURE_BITS: readonly string[] = [
  'VIRTIO_F_NOTIFY_ON_EMPTY',
  'VIRTIO_F_ANY_LAYOUT',
  'VIRTIO_F_VERSION_1',
  'VIRTIO_F_ACCESS_PLATFORM',
  'VIRTIO_F_IOMMU_PLATFORM',
  'VIRTIO_F_RING_PACKED',
  'VIRTIO_F_IN_ORDER',
  'VIRTIO_F_ORDER_PLATFORM',
  'VIRTIO_F_SR_IOV',
  'VIRTIO_F_RING_RESET',
  'VIRTIO_RING_F_INDIRECT_DESC',
  'VIRTIO_RING_F_EVENT_IDX',
  'VHOST_F_LOG_ALL',
  'VHOST_NET_F_VIRTIO_NET_HDR',
  'VHOST_BACKEND_F_IOTLB_MSG_V2',
  'VHOST_BACKEND_F_IOTLB_BATCH',
  'VHOST_BACKEND_F_IOTLB_ASID',
  'VHOST_BACKEND_F_SUSPEND',
  'VHOST_BACKEND_F_RESUME',
  'VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK',
  'VHOST_BACKEND_F_DESC_ASID',
];

/** konsts[] names that are masks or plain values (constants.ts constantValue). */
export const KONST_VALUES: readonly string[] = [
  'VIRTIO_CONFIG_S_ACKNOWLEDGE',
  'VIRTIO_CONFIG_S_DRIVER',
  'VIRTIO_CONFIG_S_DRIVER_OK',
  'VIRTIO_CONFIG_S_FEATURES_OK',
  'VIRTIO_CONFIG_S_NEEDS_RESET',
  'VIRTIO_CONFIG_S_FAILED',
  'VHOST_IOTLB_MISS',
  'VHOST_IOTLB_UPDATE',
  'VHOST_IOTLB_INVALIDATE',
  'VHOST_IOTLB_ACCESS_FAIL',
  'VHOST_IOTLB_BATCH_BEGIN',
  'VHOST_IOTLB_BATCH_END',
  'VHOST_IOTLB_MSG',
  'VHOST_IOTLB_MSG_V2',
  'VHOST_ACCESS_RO',
  'VHOST_ACCESS_WO',
  'VHOST_ACCESS_RW',
  'VHOST_VRING_F_LOG',
  'VHOST_PAGE_SIZE',
  'VFIO_API_VERSION',
  'VFIO_TYPE1_IOMMU',
  'VFIO_SPAPR_TCE_IOMMU',
  'VFIO_TYPE1v2_IOMMU',
  'VFIO_DMA_CC_IOMMU',
  'VFIO_EEH',
  'VFIO_TYPE1_NESTING_IOMMU',
  'VFIO_SPAPR_TCE_v2_IOMMU',
  'VFIO_NOIOMMU_IOMMU',
  'VFIO_UNMAP_ALL',
  'VFIO_UPDATE_VADDR',
  'VFIO_DMA_MAP_FLAG_READ',
  'VFIO_DMA_MAP_FLAG_WRITE',
  'VFIO_DMA_MAP_FLAG_VADDR',
  'VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP',
  'VFIO_DMA_UNMAP_FLAG_ALL',
  'VFIO_DMA_UNMAP_FLAG_VADDR',
  'VFIO_GROUP_FLAGS_VIABLE',
  'VFIO_GROUP_FLAGS_CONTAINER_SET',
  'VFIO_DEVICE_FLAGS_RESET',
  'VFIO_DEVICE_FLAGS_PCI',
  'VFIO_PCI_HOT_RESET_FLAG_DEV_ID',
  'VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED',
  'IOMMU_IOAS_MAP_FIXED_IOVA',
  'IOMMU_IOAS_MAP_WRITEABLE',
  'IOMMU_IOAS_MAP_READABLE',
  'IFF_TUN',
  'IFF_TAP',
  'IFF_NO_PI',
  'IFF_VNET_HDR',
  'IFF_MULTI_QUEUE',
];

const FEATURE_KONSTS = new Set(KONST_FEATURE_BITS);
const VALUE_KONSTS = new Set(KONST_VALUES);

/** A konsts[] name → its value as the runner has it; undefined for a name runner.c does not know. */
export function konstValue(name: string): bigint | undefined {
  if (FEATURE_KONSTS.has(name)) {
    const f = featureBit(name);
    return f === undefined ? undefined : BigInt(f.bit);
  }
  if (VALUE_KONSTS.has(name)) return constantValue(name);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Expressions (runner.c ex_atom / ex_expr / eval)

const U64 = 64;
const u64 = (v: bigint): bigint => BigInt.asUintN(U64, v);
const U64_MAX = (1n << 64n) - 1n;

/** How `$VAR`, `@MAP` and `%FD` resolve; each may throw Unsupported (a value vioctl could not produce). */
export interface EvalEnv {
  variable(name: string): bigint | undefined;
  mapping(name: string): bigint | undefined;
  fd(name: string): bigint | undefined;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isAlnum = (c: string | undefined): boolean => isDigit(c) || isAlpha(c);
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const isOct = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';

class ExprParser {
  private p = 0;

  constructor(
    private readonly s: string,
    private readonly env: EvalEnv,
  ) {}

  eval(): bigint {
    const v = this.expr();
    this.ws();
    if (this.p < this.s.length) throw new ScriptError(`trailing text '${this.s.slice(this.p)}'`);
    return v;
  }

  private ws(): void {
    while (this.s[this.p] === ' ') this.p++;
  }

  /** strtoull(p, &end, 0) from a digit: 0x hex, 0 octal, else decimal; the longest valid prefix. */
  private number(): bigint {
    const s = this.s;
    let i = this.p;
    let digits: string;
    let radix: 'x' | 'o' | '';
    if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && isHex(s[i + 2])) {
      i += 2;
      const st = i;
      while (isHex(s[i])) i++;
      digits = s.slice(st, i);
      radix = 'x';
    } else if (s[i] === '0') {
      const st = i;
      while (isOct(s[i])) i++;
      digits = s.slice(st, i);
      radix = 'o';
    } else {
      const st = i;
      while (isDigit(s[i])) i++;
      digits = s.slice(st, i);
      radix = '';
    }
    this.p = i;
    const v = BigInt(radix ? `0${radix}${digits}` : digits);
    if (v > U64_MAX) throw new ScriptError('number out of range');
    return v;
  }

  private atom(): bigint {
    this.ws();
    const c = this.s[this.p];
    if (c === '(') {
      this.p++;
      const v = this.expr();
      this.ws();
      if (this.s[this.p] !== ')') throw new ScriptError("expected ')'");
      this.p++;
      return v;
    }
    if (c === '~') {
      this.p++;
      return u64(~this.atom());
    }
    if (c === '-') {
      this.p++;
      return u64(-this.atom());
    }
    if (isDigit(c)) return this.number();
    if (c === '$' || c === '@' || c === '%') {
      this.p++;
      const st = this.p;
      while (
        this.p - st < 63 &&
        (isAlnum(this.s[this.p]) || this.s[this.p] === '_' || this.s[this.p] === '.')
      )
        this.p++;
      const name = this.s.slice(st, this.p);
      const v = c === '$' ? this.env.variable(name) : c === '@' ? this.env.mapping(name) : this.env.fd(name);
      if (v === undefined) {
        const what = c === '$' ? 'variable' : c === '@' ? 'mapping' : 'fd';
        throw new ScriptError(`unknown ${what} ${c}${name}`);
      }
      return u64(v);
    }
    if (isAlpha(c) || c === '_') {
      const st = this.p;
      while (this.p - st < 63 && (isAlnum(this.s[this.p]) || this.s[this.p] === '_')) this.p++;
      const name = this.s.slice(st, this.p);
      if (name === 'BIT') {
        this.ws();
        if (this.s[this.p] !== '(') throw new ScriptError('BIT needs (');
        const b = this.atom();
        return b >= 64n ? 0n : 1n << b;
      }
      const v = konstValue(name);
      if (v === undefined) throw new ScriptError(`unknown constant ${name}`);
      return u64(v);
    }
    throw new ScriptError(`unexpected '${c ?? '0'}'`);
  }

  private expr(): bigint {
    let v = this.atom();
    for (;;) {
      this.ws();
      const a = this.s[this.p];
      const b = this.s[this.p + 1];
      // x86 masks shift counts to 6 bits (C leaves >= 64 undefined; the runner runs on x86-64).
      if (a === '<' && b === '<') {
        this.p += 2;
        v = u64(v << (this.atom() & 63n));
      } else if (a === '>' && b === '>') {
        this.p += 2;
        v >>= this.atom() & 63n;
      } else if (a === '|' || a === '&' || a === '^' || a === '+' || a === '-' || a === '*') {
        this.p++;
        const r = this.atom();
        if (a === '|') v |= r;
        else if (a === '&') v &= r;
        else if (a === '^') v ^= r;
        else if (a === '+') v = u64(v + r);
        else if (a === '-') v = u64(v - r);
        else v = u64(v * r);
      } else {
        return v;
      }
    }
  }
}

/** Evaluates one oracle expression: 64-bit unsigned, binary operators strictly left to right. */
export function evalExpr(s: string, env: EvalEnv): bigint {
  return new ExprParser(s, env).eval();
}

// ---------------------------------------------------------------------------------------------
// Lines and tokens (runner.c exec_line / tokenize)

/** The line as the runner keeps it (`src`): comment cut at `#` after whitespace, trimmed; null to skip. */
export function stripLine(raw: string): string | null {
  let h = raw.replace(/^[ \t]+/, '');
  if (h === '' || h.startsWith('#')) return null;
  for (let i = 1; i < h.length; i++) {
    if (h[i] === '#' && (h[i - 1] === ' ' || h[i - 1] === '\t')) {
      h = h.slice(0, i);
      break;
    }
  }
  return h.replace(/[ \t\r]+$/, '');
}

/** Words split at spaces and tabs; `"` toggles quoting and is dropped. */
export function tokenize(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length && out.length < 64) {
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (i >= s.length) break;
    let w = '';
    let q = false;
    while (i < s.length && (q || (s[i] !== ' ' && s[i] !== '\t'))) {
      if (s[i] === '"') {
        q = !q;
        i++;
        continue;
      }
      w += s[i++];
    }
    if (i < s.length) i++;
    out.push(w);
  }
  return out;
}

function kv(tok: readonly string[], key: string, from: number): string | undefined {
  for (let i = from; i < tok.length; i++) {
    const t = tok[i]!;
    if (t.startsWith(key) && t[key.length] === '=') return t.slice(key.length + 1);
  }
  return undefined;
}

function hasWord(tok: readonly string[], w: string, from: number): boolean {
  return tok.slice(from).includes(w);
}

/** hexdecode(): pairs of hex digits until one does not parse (-1) or the string ends. */
function hexDecode(s: string, cap: number): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i + 1 < s.length && out.length < cap; i += 2) {
    const pair = s.slice(i, i + 2);
    // sscanf("%2x") takes one hex digit too ("a?" → 0xa); the scripts only use clean hex.
    const m = /^[0-9a-fA-F]{1,2}/.exec(pair);
    if (!m) throw new ScriptError('bad hex');
    out.push(Number.parseInt(m[0], 16));
  }
  return Uint8Array.from(out);
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;
const hexBytes = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// ---------------------------------------------------------------------------------------------
// Ioctl argument kinds (runner.c enum argk and iocs[])

type ArgKind =
  | 'none'
  | 'u64-out'
  | 'u64-in'
  | 'u32-out'
  | 'u16-out'
  | 'u8-out'
  | 'u8-in'
  | 'int-in'
  | 'int-val'
  | 'vstate-in'
  | 'vstate-inout'
  | 'vaddr'
  | 'vfile'
  | 'memtable'
  | 'iova-range'
  | 'vdpa-config-get'
  | 'vdpa-config-set'
  | 'tunsetiff';

/** How the runner builds each named ioctl's argument, and the key of its main value. VFIO and
 * iommufd requests are left out until vioctl has their uapi definitions: they replay as unsupported. */
const IOCTL_ARGS: Readonly<Record<string, readonly [ArgKind, string?]>> = {
  VHOST_GET_FEATURES: ['u64-out', 'features'],
  VHOST_SET_FEATURES: ['u64-in', 'features'],
  VHOST_SET_OWNER: ['none'],
  VHOST_RESET_OWNER: ['none'],
  VHOST_GET_BACKEND_FEATURES: ['u64-out', 'features'],
  VHOST_SET_BACKEND_FEATURES: ['u64-in', 'features'],
  VHOST_SET_MEM_TABLE: ['memtable'],
  VHOST_SET_LOG_BASE: ['u64-in', 'base'],
  VHOST_SET_LOG_FD: ['int-in', 'fd'],
  VHOST_SET_VRING_NUM: ['vstate-in'],
  VHOST_SET_VRING_ADDR: ['vaddr'],
  VHOST_SET_VRING_BASE: ['vstate-in'],
  VHOST_GET_VRING_BASE: ['vstate-inout'],
  VHOST_SET_VRING_ENDIAN: ['vstate-in'],
  VHOST_GET_VRING_ENDIAN: ['vstate-inout'],
  VHOST_SET_VRING_KICK: ['vfile'],
  VHOST_SET_VRING_CALL: ['vfile'],
  VHOST_SET_VRING_ERR: ['vfile'],
  VHOST_SET_VRING_BUSYLOOP_TIMEOUT: ['vstate-in'],
  VHOST_GET_VRING_BUSYLOOP_TIMEOUT: ['vstate-inout'],
  VHOST_NET_SET_BACKEND: ['vfile'],
  VHOST_VSOCK_SET_GUEST_CID: ['u64-in', 'cid'],
  VHOST_VSOCK_SET_RUNNING: ['int-in', 'running'],
  VHOST_VDPA_GET_DEVICE_ID: ['u32-out', 'device_id'],
  VHOST_VDPA_GET_STATUS: ['u8-out', 'status'],
  VHOST_VDPA_SET_STATUS: ['u8-in', 'status'],
  VHOST_VDPA_GET_CONFIG: ['vdpa-config-get'],
  VHOST_VDPA_SET_CONFIG: ['vdpa-config-set'],
  VHOST_VDPA_SET_VRING_ENABLE: ['vstate-in'],
  VHOST_VDPA_GET_VRING_NUM: ['u16-out', 'num'],
  VHOST_VDPA_SET_CONFIG_CALL: ['int-in', 'fd'],
  VHOST_VDPA_GET_IOVA_RANGE: ['iova-range'],
  VHOST_VDPA_GET_CONFIG_SIZE: ['u32-out', 'size'],
  VHOST_VDPA_GET_VQS_COUNT: ['u32-out', 'count'],
  VHOST_VDPA_GET_GROUP_NUM: ['u32-out', 'num'],
  VHOST_VDPA_GET_AS_NUM: ['u32-out', 'num'],
  VHOST_VDPA_GET_VRING_GROUP: ['vstate-inout'],
  VHOST_VDPA_GET_VRING_DESC_GROUP: ['vstate-inout'],
  VHOST_VDPA_SET_GROUP_ASID: ['vstate-in'],
  VHOST_VDPA_SUSPEND: ['none'],
  VHOST_VDPA_RESUME: ['none'],
  TUNSETIFF: ['tunsetiff'],
};

/** iotlb TYPE words (runner.c iotlb_type; REMAP is the proposed type 7) and perm words (perm_val). */
const IOTLB_TYPE_WORDS = ['MISS', 'UPDATE', 'INVALIDATE', 'ACCESS_FAIL', 'BATCH_BEGIN', 'BATCH_END', 'REMAP'];
const IOTLB_TYPE_NAMES = ['0', ...IOTLB_TYPE_WORDS];
const PERM_WORDS = ['RO', 'WO', 'RW'];
const POLLPRI = Number(constantValue('POLLPRI'));
const EINTR = errnoInfo('EINTR').num;

/** The stand-in for a file of a family vioctl does not model: it only holds the fd number. */
const STAND_IN_OPS: FileOps<null> = { kind: 'oracle-stand-in' };

// ---------------------------------------------------------------------------------------------
// The interpreter

interface FdEnt {
  fd: number;
  /** false for a stand-in: every operation on it is unsupported */
  modelled: boolean;
}

interface MapEnt {
  emu: bigint;
  size: bigint;
  /** where the oracle's runner got the same mapping (its mmap line's `addr`) */
  oracle?: bigint;
}

/** A variable set by something vioctl could not run (sysfs_read, group_of, an unsupported ioctl). */
const UNMODELLED = Symbol('unmodelled');

interface Names {
  fds: Map<string, FdEnt>;
  maps: Map<string, MapEnt>;
  vars: Map<string, bigint | typeof UNMODELLED>;
}

function cloneNames(n: Names): Names {
  return {
    fds: new Map([...n.fds].map(([k, v]) => [k, { ...v }])),
    maps: new Map([...n.maps].map(([k, v]) => [k, { ...v }])),
    vars: new Map(n.vars),
  };
}

/** What executing one line gave: the outcome, the outputs to compare, and how it ended. */
interface Exec {
  got: Outcome;
  out?: Record<string, unknown>;
  unsupported?: string;
  detail?: string;
  /** a blocking read still waiting (reported as the EINTR the oracle's alarm gives) */
  blocked?: boolean;
}

const NO_RESULT: Outcome = { ret: null, errno: null, err: null };

function outcome(r: SysOutcome): Outcome {
  if (r.ok === true) return { ret: Number(r.ret), errno: 0, err: null };
  if (r.ok === false) {
    return {
      ret: -1,
      errno: errnoInfo(r.errno).num,
      err: r.errno,
      site: `${r.site.function}: ${r.site.check}`,
    };
  }
  return { ret: null, errno: null, err: 'blocked' };
}

function le(v: bigint, type: Scalar): Uint8Array {
  const b = new Uint8Array({ u8: 1, u16: 2, u32: 4, u64: 8, s32: 4, s64: 8 }[type]);
  writeScalar(b, 0, type, v);
  return b;
}

class Replayer {
  readonly k: Kernel;
  readonly rows: LineResult[] = [];
  /** every mapping ever made, for translating emulator addresses into the oracle's */
  private readonly allMaps: MapEnt[] = [];
  private readonly lines: string[];
  private readonly records: Map<string, OracleRecord>;

  constructor(script: string, records: readonly OracleRecord[], kernelVersion: string) {
    const prof = makeProfile(kernelVersion, []);
    if (typeof prof === 'string') throw new Error(prof);
    this.k = new Kernel(prof);
    registerDrivers(this.k);
    this.lines = script.split('\n').map((l) => l.replace(/\r$/, ''));
    this.records = new Map(records.map((r) => [`${r.n}:${r.proc === 'child' ? 'child' : 'parent'}`, r]));
  }

  run(): LineResult[] {
    const main = this.k.spawn('runner');
    this.runRange(0, this.lines.length, main, { fds: new Map(), maps: new Map(), vars: new Map() }, false);
    return this.rows;
  }

  private runRange(from: number, to: number, proc: Process, names: Names, child: boolean): void {
    let i = from;
    while (i < to) i = this.execLine(i, proc, names, child);
  }

  /** The endfork that closes the fork at line i (runner.c's scan, nesting included). */
  private endOfFork(i: number): number {
    let depth = 0;
    let j = i + 1;
    for (; j < this.lines.length; j++) {
      const s = this.lines[j]!.replace(/^[ \t]+/, '');
      if (s.startsWith('fork') && (s.length === 4 || s[4] === ' ')) depth++;
      if (s.startsWith('endfork')) {
        if (!depth) break;
        depth--;
      }
    }
    return j;
  }

  private execLine(i: number, proc: Process, names: Names, child: boolean): number {
    const src = stripLine(this.lines[i]!);
    if (src === null) return i + 1;
    const tok = tokenize(src);
    if (!tok.length) return i + 1;
    const op = tok[0]!;
    const n = i + 1;
    if (op === 'endfork') return i + 1;
    if (op === 'fork') {
      const j = this.endOfFork(i);
      const c = this.k.fork(proc, 'child');
      this.runRange(i + 1, j, c, cloneNames(names), true);
      this.k.exit(c);
      this.record(n, child, src, op, { got: NO_RESULT, out: { child_exit: 0 } });
      return j + 1;
    }
    this.k.diagnostics = [];
    const rec = this.records.get(`${n}:${child ? 'child' : 'parent'}`);
    let ex: Exec;
    if (rec && typeof rec.error === 'string') {
      ex = { got: NO_RESULT, unsupported: `the oracle rejected the line: ${rec.error}` };
    } else {
      try {
        ex = this.exec(op, tok, proc, names, rec);
      } catch (e) {
        if (e instanceof Unsupported) ex = { got: NO_RESULT, unsupported: e.message };
        else if (e instanceof ScriptError)
          ex = { got: NO_RESULT, detail: `replay could not run it: ${e.message}` };
        else throw e;
      }
    }
    this.record(n, child, src, op, ex);
    return i + 1;
  }

  private record(n: number, child: boolean, src: string, op: string, ex: Exec): void {
    const rec = this.records.get(`${n}:${child ? 'child' : 'parent'}`);
    if (!rec) throw new Error(`line ${n} (${src}): no record in the oracle results`);
    if (rec.src !== undefined && rec.src !== src) {
      throw new Error(`line ${n}: script says '${src}', the results say '${rec.src}' (wrong script?)`);
    }
    const want: Outcome = {
      ret: typeof rec.ret === 'number' ? rec.ret : null,
      errno: typeof rec.errno === 'number' ? rec.errno : null,
      err: typeof rec.err === 'string' ? rec.err : null,
    };
    const row: LineResult = {
      line: n,
      proc: child ? 'child' : 'parent',
      op,
      src,
      want,
      got: ex.got,
      status: 'match',
    };
    if (ex.unsupported !== undefined) {
      row.status = 'unsupported';
      row.detail = ex.unsupported;
      this.rows.push(row);
      return;
    }
    const diffs: string[] = [];
    if (ex.detail) diffs.push(ex.detail);
    const retDiffers = want.ret !== ex.got.ret || want.errno !== ex.got.errno;
    if (retDiffers) {
      if (ex.blocked) diffs.push('vioctl blocks (the EINTR is the oracle alarm ending that wait)');
    } else {
      for (const [key, v] of Object.entries(ex.out ?? {})) {
        if (!(key in rec)) continue;
        if (!isDeepStrictEqual(rec[key], v)) {
          diffs.push(`${key}: want ${JSON.stringify(rec[key])}, got ${JSON.stringify(v)}`);
        }
      }
    }
    if (retDiffers || diffs.length) {
      row.status = 'mismatch';
      if (diffs.length) row.detail = diffs.join('; ');
    } else if (ex.blocked) {
      row.detail = 'blocked in vioctl; the oracle ends the wait with SIGALRM (EINTR)';
    }
    this.rows.push(row);
  }

  // ---- name resolution

  private env(names: Names): EvalEnv {
    return {
      variable: (name) => {
        const v = names.vars.get(name);
        if (v === UNMODELLED) throw new Unsupported(`$${name} comes from a line vioctl could not run`);
        return v;
      },
      mapping: (name) => names.maps.get(name)?.emu,
      fd: (name) => {
        const f = names.fds.get(name);
        if (f && !f.modelled) throw new Unsupported(`%${name} is a file of a family vioctl does not model`);
        return f === undefined ? undefined : BigInt.asUintN(64, BigInt(f.fd));
      },
    };
  }

  private num(names: Names, s: string): bigint {
    return evalExpr(s, this.env(names));
  }

  /** kvnum(): the key's value, `def` when absent, a ScriptError when required and absent. */
  private kvnum(
    names: Names,
    tok: readonly string[],
    key: string,
    from: number,
    def: bigint,
    req = false,
  ): bigint {
    const v = kv(tok, key, from);
    if (v === undefined) {
      if (req) throw new ScriptError(`missing ${key}=`);
      return def;
    }
    return this.num(names, v);
  }

  /** An fd name that must exist (the runner's "unknown fd" otherwise) and be modelled. */
  private fdOf(names: Names, name: string | undefined): number {
    const f = name === undefined ? undefined : names.fds.get(name);
    if (!f) throw new ScriptError(`unknown fd ${name}`);
    if (!f.modelled) throw new Unsupported(`${name} is a file of a family vioctl does not model`);
    return f.fd;
  }

  /** ${VAR} → decimal (unknown variables give 0, as in runner.c subst). */
  private subst(names: Names, s: string): string {
    return s.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
      const v = names.vars.get(name.slice(0, 63));
      if (v === UNMODELLED) throw new Unsupported(`\${${name}} comes from a line vioctl could not run`);
      return String(v ?? 0n);
    });
  }

  /** An emulator address inside a mapping → the same offset in the oracle's mapping. */
  private toOracle(v: bigint): bigint {
    for (const m of this.allMaps) {
      if (m.oracle !== undefined && v >= m.emu && v < m.emu + m.size) return m.oracle + (v - m.emu);
    }
    return v;
  }

  /**
   * After an unsupported line that gave the oracle a new fd (open, GET_DEVICE_FD as=NAME): a stand-in
   * file at the lowest free fd, so that later fd numbers still match the recording.
   */
  private standInFor(
    proc: Process,
    names: Names,
    name: string,
    rec: OracleRecord | undefined,
    path: string,
  ): void {
    if (typeof rec?.ret !== 'number' || rec.ret < 0) return;
    const f = this.k.newFile(path, O_RDWR, STAND_IN_OPS, null);
    names.fds.set(name, { fd: this.k.installFd(proc, f), modelled: false });
  }

  // ---- operations

  private exec(op: string, tok: string[], proc: Process, names: Names, rec: OracleRecord | undefined): Exec {
    const k = this.k;
    switch (op) {
      case 'open': {
        if (tok.length < 3) throw new ScriptError('usage: open NAME PATH');
        const name = tok[1]!;
        const fl = kv(tok, 'flags', 3);
        let flags = O_RDWR;
        if (fl?.includes('rdonly')) flags = O_RDONLY;
        if (fl?.includes('wronly')) flags = O_WRONLY;
        if (fl?.includes('nonblock')) flags |= O_NONBLOCK;
        let path: string;
        try {
          path = this.subst(names, tok[2]!);
          if (!k.drivers.claim(path)) throw new Unsupported(`no vioctl driver claims ${path}`);
        } catch (e) {
          if (e instanceof Unsupported) this.standInFor(proc, names, name, rec, tok[2]!);
          throw e;
        }
        const r = k.open(proc, path, flags);
        if (r.ok) names.fds.set(name, { fd: Number(r.ret), modelled: true });
        return { got: outcome(r) };
      }
      case 'close': {
        const f = tok[1] === undefined ? undefined : names.fds.get(tok[1]);
        if (!f) throw new ScriptError('unknown fd');
        const fd = f.fd;
        f.fd = -1;
        if (!f.modelled) {
          if (fd >= 0) k.close(proc, fd);
          return { got: NO_RESULT, unsupported: `${tok[1]} is a file of a family vioctl does not model` };
        }
        return { got: outcome(k.close(proc, fd)) };
      }
      case 'eventfd': {
        if (tok.length < 2) throw new ScriptError('usage: eventfd NAME');
        const init = this.kvnum(names, tok, 'init', 2, 0n) & 0xffffffffn;
        const r = k.eventfd(proc, init);
        if (r.ok) names.fds.set(tok[1]!, { fd: Number(r.ret), modelled: true });
        return { got: outcome(r) };
      }
      case 'kick': {
        const fd = this.fdOf(names, tok[1]);
        const v = this.kvnum(names, tok, 'value', 2, 1n);
        const addr = k.stage(proc, le(v, 'u64'));
        return { got: outcome(k.write(proc, fd, addr, 8)) };
      }
      case 'eventfd_read': {
        const fd = this.fdOf(names, tok[1]);
        this.kvnum(names, tok, 'timeout', 2, 0n);
        const addr = k.stage(proc, new Uint8Array(8));
        const r = k.read(proc, fd, addr, 8, true);
        const got = outcome(r);
        const out: Record<string, unknown> = {};
        if (got.ret === 8) out.value = hex(readScalar(proc.mm.copyFromUser(addr, 8)!, 0, 'u64'));
        return { got, out };
      }
      case 'mmap':
        return this.mmap(tok, proc, names, rec);
      case 'munmap': {
        const m = tok[1] === undefined ? undefined : names.maps.get(tok[1]);
        if (!m) throw new ScriptError('unknown mapping');
        return { got: outcome(k.munmap(proc, m.emu, m.size)) };
      }
      case 'poke':
      case 'peek':
        return this.pokePeek(op === 'poke', tok, proc, names);
      case 'ioctl':
        return this.ioctl(tok, proc, names, rec);
      case 'ioctl_raw':
        return this.ioctlRaw(tok, proc, names);
      case 'iotlb':
        return this.iotlb(tok, proc, names);
      case 'read':
        return this.read(tok, proc, names);
      case 'write': {
        if (tok.length < 3) throw new ScriptError('usage: write FD HEXBYTES');
        const fd = this.fdOf(names, tok[1]);
        const bytes = hexDecode(tok[2]!, 4096);
        const addr = k.stage(proc, bytes);
        return { got: outcome(k.write(proc, fd, addr, bytes.length)), out: { len: bytes.length } };
      }
      case 'poll': {
        const fd = this.fdOf(names, tok[1]);
        this.kvnum(names, tok, 'timeout', 2, 0n);
        const r = k.poll(proc, fd, POLLIN | POLLOUT | POLLPRI);
        return { got: { ret: r.ret, errno: 0, err: null }, out: { revents: hex(r.ret > 0 ? r.revents : 0) } };
      }
      case 'set': {
        if (tok.length < 3) throw new ScriptError('usage: set VAR EXPR');
        const v = this.num(names, tok[2]!);
        names.vars.set(tok[1]!, v);
        return { got: NO_RESULT, out: { value: hex(this.toOracle(v)) } };
      }
      case 'sleep':
        if (tok.length >= 2) this.num(names, tok[1]!);
        return { got: NO_RESULT };
      case 'echo':
        return { got: NO_RESULT, out: { text: tok.slice(1).join(' ') } };
      case 'sysfs_read':
        if (tok[2] !== undefined) names.vars.set(tok[2], UNMODELLED);
        throw new Unsupported('sysfs is not modelled');
      case 'group_of':
      case 'cdev_of':
        if (tok[1] !== undefined) names.vars.set(tok[1], UNMODELLED);
        throw new Unsupported('sysfs is not modelled');
      case 'sysfs_write':
      case 'readlink':
      case 'ls':
        throw new Unsupported('sysfs is not modelled');
      default:
        throw new ScriptError(`unknown op ${op}`);
    }
  }

  private mmap(tok: string[], proc: Process, names: Names, rec: OracleRecord | undefined): Exec {
    if (tok.length < 3) throw new ScriptError('usage: mmap NAME SIZE');
    const size = this.num(names, tok[2]!);
    const at = this.kvnum(names, tok, 'at', 3, 0n);
    const ps = kv(tok, 'prot', 3);
    let prot = PROT_READ | PROT_WRITE;
    if (ps !== undefined) prot = (ps.includes('r') ? PROT_READ : 0) | (ps.includes('w') ? PROT_WRITE : 0);
    const kind = hasWord(tok, 'memfd', 3) ? 'memfd' : hasWord(tok, 'shared', 3) ? 'shared-anon' : 'anon';
    const r = this.k.mmap(proc, at ? { size, prot, kind, at } : { size, prot, kind });
    if (!r.ok) return { got: outcome(r) };
    const m: MapEnt = { emu: BigInt(r.ret), size };
    if (typeof rec?.addr === 'string') m.oracle = BigInt(rec.addr);
    names.maps.set(tok[1]!, m);
    this.allMaps.unshift(m);
    return { got: { ret: 0, errno: 0, err: null }, out: { size: hex(size) } };
  }

  private pokePeek(poke: boolean, tok: string[], proc: Process, names: Names): Exec {
    const m = tok.length >= 3 ? names.maps.get(tok[1]!) : undefined;
    if (!m || (poke && tok.length < 4)) throw new ScriptError('usage: poke MAP OFF VALUE | peek MAP OFF');
    const off = this.num(names, tok[2]!);
    let val = poke ? this.num(names, tok[3]!) : 0n;
    const w = this.kvnum(names, tok, 'width', 3, 4n);
    if (off + w > m.size || ![1n, 2n, 4n, 8n].includes(w))
      throw new ScriptError('offset/width out of mapping');
    const type = ({ 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' } as const)[Number(w) as 1 | 2 | 4 | 8];
    if (poke) {
      if (!proc.mm.copyToUser(m.emu + off, le(val, type))) return { got: NO_RESULT, detail: 'poke faulted' };
    } else {
      const b = proc.mm.copyFromUser(m.emu + off, Number(w));
      if (!b) return { got: NO_RESULT, detail: 'peek faulted' };
      val = readScalar(b, 0, type);
    }
    return { got: NO_RESULT, out: { off: hex(off), value: hex(val) } };
  }

  private ioctl(tok: string[], proc: Process, names: Names, rec: OracleRecord | undefined): Exec {
    if (tok.length < 3) throw new ScriptError('usage: ioctl FD REQUEST');
    const rname = tok[2]!;
    const save = kv(tok, 'save', 3);
    const as = kv(tok, 'as', 3);
    try {
      const fd = this.fdOf(names, tok[1]);
      const def = ioctlByName(rname);
      const spec = IOCTL_ARGS[rname];
      if (!def || !spec) throw new Unsupported(`vioctl has no uapi definition of ${rname}`);
      const r = this.namedIoctl(fd, def.number, spec[0], spec[1], tok, proc, names);
      if (save !== undefined && r.save !== undefined) names.vars.set(save, r.save);
      return r.exec;
    } catch (e) {
      if (e instanceof Unsupported) {
        if (save !== undefined) names.vars.set(save, UNMODELLED);
        if (as !== undefined) this.standInFor(proc, names, as, rec, `${rname} as=${as}`);
      }
      throw e;
    }
  }

  private namedIoctl(
    fd: number,
    cmd: number,
    kind: ArgKind,
    key: string | undefined,
    tok: string[],
    proc: Process,
    names: Names,
  ): { exec: Exec; save?: bigint } {
    const k = this.k;
    const kvn = (name: string, def: bigint, req = false): bigint => this.kvnum(names, tok, name, 3, def, req);
    const call = (arg: bigint): Outcome => outcome(k.ioctl(proc, fd, cmd, arg));
    const stage = (b: Uint8Array): bigint => k.stage(proc, b);
    const back = (addr: bigint, len: number): Uint8Array => proc.mm.copyFromUser(addr, len)!;
    switch (kind) {
      case 'none':
        return { exec: { got: call(kvn('arg', 0n)) } };
      case 'int-val':
        return { exec: { got: call(kvn(key!, 0n, true)) } };
      case 'u64-in':
      case 'int-in':
      case 'u8-in': {
        const type = kind === 'u64-in' ? 'u64' : kind === 'int-in' ? 's32' : 'u8';
        return { exec: { got: call(stage(le(kvn(key!, 0n, true), type))) } };
      }
      case 'u64-out':
      case 'u32-out':
      case 'u16-out':
      case 'u8-out': {
        const type = ({ 'u64-out': 'u64', 'u32-out': 'u32', 'u16-out': 'u16', 'u8-out': 'u8' } as const)[
          kind
        ];
        const poison = { u64: 0xdeadbeefdeadbeefn, u32: 0xdeadbeefn, u16: 0xbeefn, u8: 0xeen }[type];
        const addr = stage(le(poison, type));
        const got = call(addr);
        if (got.ret !== 0) return { exec: { got } };
        const v = readScalar(back(addr, le(0n, type).length), 0, type);
        const shown = type === 'u64' || type === 'u8' ? hex(v) : Number(v);
        return { exec: { got, out: { [key!]: shown } }, save: v };
      }
      case 'vstate-in':
      case 'vstate-inout': {
        const inout = kind === 'vstate-inout';
        const index = kvn('index', 0n, true) & 0xffffffffn;
        const num = kvn('num', inout ? 0xdeadbeefn : 0n, !inout) & 0xffffffffn;
        const addr = stage(encodeStruct(vhost_vring_state, { index, num }));
        const got = call(addr);
        if (!inout || got.ret !== 0) return { exec: { got } };
        const b = back(addr, vhost_vring_state.size);
        const o = { index: Number(readScalar(b, 0, 'u32')), num: Number(readScalar(b, 4, 'u32')) };
        return { exec: { got, out: o }, save: BigInt(o.num) };
      }
      case 'vaddr': {
        const v = {
          index: kvn('index', 0n, true),
          flags: kvn('flags', 0n),
          desc_user_addr: kvn('desc', 0n, true),
          avail_user_addr: kvn('avail', 0n, true),
          used_user_addr: kvn('used', 0n, true),
          log_guest_addr: kvn('log', 0n),
        };
        return { exec: { got: call(stage(encodeStruct(vhost_vring_addr, v))) } };
      }
      case 'vfile': {
        const v = { index: kvn('index', 0n, true), fd: kvn('fd', 0n, true) };
        return { exec: { got: call(stage(encodeStruct(vhost_vring_file, v))) } };
      }
      case 'memtable':
        return { exec: { got: call(stage(this.memTable(tok, names))) } };
      case 'iova-range': {
        const addr = stage(encodeStruct(vhost_vdpa_iova_range, { first: 0xdeadbeefn, last: 0xdeadbeefn }));
        const got = call(addr);
        if (got.ret !== 0) return { exec: { got } };
        const b = back(addr, vhost_vdpa_iova_range.size);
        return {
          exec: { got, out: { first: hex(readScalar(b, 0, 'u64')), last: hex(readScalar(b, 8, 'u64')) } },
        };
      }
      case 'vdpa-config-get':
      case 'vdpa-config-set': {
        const buf = new Uint8Array(vhost_vdpa_config.size + 4096);
        const off = kvn('off', 0n);
        let len: bigint;
        if (kind === 'vdpa-config-set') {
          const d = kv(tok, 'data', 3);
          const data = d === undefined ? new Uint8Array(0) : hexDecode(d, 4096);
          buf.set(data, vhost_vdpa_config.size);
          len = kvn('len', BigInt(data.length));
        } else {
          len = kvn('len', 0n, true);
        }
        encodeStruct(vhost_vdpa_config, { off, len }, buf);
        const addr = stage(buf);
        const got = call(addr);
        if (got.ret !== 0 || kind === 'vdpa-config-set') return { exec: { got } };
        const b = back(addr, buf.length);
        const n = Math.min(Number(readScalar(b, 4, 'u32')), 4096);
        return { exec: { got, out: { data: hexBytes(b.subarray(8, 8 + n)) } } };
      }
      case 'tunsetiff': {
        const buf = new Uint8Array(IFREQ_SIZE);
        const nm = kv(tok, 'name', 3);
        if (nm !== undefined) buf.set(Buffer.from(nm, 'latin1').subarray(0, IFNAMSIZ - 1));
        const iffTapNoPi = konstValue('IFF_TAP')! | konstValue('IFF_NO_PI')!;
        writeScalar(buf, IFNAMSIZ, 'u16', kvn('flags', iffTapNoPi));
        const addr = stage(buf);
        const got = call(addr);
        if (got.ret !== 0) return { exec: { got } };
        const b = back(addr, IFNAMSIZ);
        const end = b.indexOf(0);
        return {
          exec: { got, out: { ifname: Buffer.from(b.subarray(0, end < 0 ? IFNAMSIZ : end)).toString() } },
        };
      }
    }
  }

  /** struct vhost_memory with room for 64 regions: region=GPA:SIZE:UADDR, nregions=, padding=. */
  private memTable(tok: string[], names: Names): Uint8Array {
    const buf = new Uint8Array(vhost_memory.size + 64 * vhost_memory_region.size);
    let n = 0;
    for (let i = 3; i < tok.length && n < 64; i++) {
      const t = tok[i]!;
      if (!t.startsWith('region=')) continue;
      const parts = t.slice(7).split(':');
      if (parts.length < 3) throw new ScriptError('region=GPA:SIZE:UADDR');
      const [g, s, ...u] = parts;
      const region = {
        guest_phys_addr: this.num(names, g!),
        memory_size: this.num(names, s!),
        userspace_addr: this.num(names, u.join(':')),
      };
      encodeStruct(vhost_memory_region, region, buf, vhost_memory.size + n * vhost_memory_region.size);
      n++;
    }
    const nregions = this.kvnum(names, tok, 'nregions', 3, BigInt(n));
    const padding = this.kvnum(names, tok, 'padding', 3, 0n);
    return encodeStruct(vhost_memory, { nregions, padding }, buf);
  }

  private ioctlRaw(tok: string[], proc: Process, names: Names): Exec {
    if (tok.length < 3) throw new ScriptError('usage: ioctl_raw FD REQUEST');
    const fd = this.fdOf(names, tok[1]);
    const req = this.num(names, tok[2]!);
    const cmd = Number(req & 0xffffffffn);
    const hb = kv(tok, 'buf', 3);
    if (hb === undefined) {
      const r = this.k.ioctl(proc, fd, cmd, this.kvnum(names, tok, 'arg', 3, 0n));
      return { got: outcome(r), out: { req: hex(req) } };
    }
    const buf = new Uint8Array(4096);
    const data = hexDecode(hb, 4096);
    buf.set(data);
    const len = Math.min(Number(this.kvnum(names, tok, 'len', 3, BigInt(data.length))), 4096);
    const addr = this.k.stage(proc, buf);
    const got = outcome(this.k.ioctl(proc, fd, cmd, addr));
    const b = proc.mm.copyFromUser(addr, len)!;
    return { got, out: { req: hex(req), buf: hexBytes(b) } };
  }

  /** write(2) of one struct vhost_msg (v1) or vhost_msg_v2 (v2): 72 bytes unless len= says otherwise. */
  private iotlb(tok: string[], proc: Process, names: Names): Exec {
    if (tok.length < 4) throw new ScriptError('usage: iotlb FD v1|v2 TYPE key=value...');
    const fd = this.fdOf(names, tok[1]);
    const v2 = tok[2] === 'v2';
    if (!v2 && tok[2] !== 'v1') throw new ScriptError('format must be v1 or v2');
    const word = (w: string, words: string[], prefix: string): bigint =>
      words.includes(w) ? constantValue(prefix + w)! : this.num(names, w);
    const type = word(tok[3]!, IOTLB_TYPE_WORDS, 'VHOST_IOTLB_');
    const ps = kv(tok, 'perm', 4);
    const perm = word(ps ?? 'RW', PERM_WORDS, 'VHOST_ACCESS_');
    const kvn = (key: string, def: bigint): bigint => this.kvnum(names, tok, key, 4, def);
    const asid = kvn('asid', 0n);
    const msg = { iova: kvn('iova', 0n), size: kvn('size', 0n), uaddr: kvn('uaddr', 0n), perm, type };
    const msgtype = kvn('msgtype', v2 ? konstValue('VHOST_IOTLB_MSG_V2')! : konstValue('VHOST_IOTLB_MSG')!);
    const buf = new Uint8Array(256);
    writeScalar(buf, 0, v2 ? 'u32' : 's32', msgtype);
    if (v2) writeScalar(buf, 4, 'u32', asid);
    encodeStruct(vhost_iotlb_msg, msg, buf, VHOST_MSG_IOTLB_OFFSET);
    const len = Math.min(Number(kvn('len', BigInt(VHOST_MSG_SIZE))), buf.length);
    const addr = this.k.stage(proc, buf);
    const got = outcome(this.k.write(proc, fd, addr, len));
    return { got, out: { fmt: v2 ? 'v2' : 'v1', type: Number(type), len } };
  }

  /** poll for POLLIN, then a non-blocking read (a blocking one with `block`), decoded as a vhost message. */
  private read(tok: string[], proc: Process, names: Names): Exec {
    const fd = this.fdOf(names, tok[1]);
    const len = Math.min(Number(this.kvnum(names, tok, 'len', 2, 72n)), 4096);
    this.kvnum(names, tok, 'timeout', 2, 200n);
    const block = hasWord(tok, 'block', 2);
    const p = this.k.poll(proc, fd, POLLIN);
    const out: Record<string, unknown> = { poll: p.ret, revents: hex(p.ret > 0 ? p.revents : 0) };
    const addr = this.k.stage(proc, new Uint8Array(len));
    const r = this.k.read(proc, fd, addr, len, !block);
    if (r.ok === 'blocked') {
      if (!block) return { got: outcome(r), out, detail: 'a non-blocking read blocked' };
      // The runner's SIGALRM interrupts the wait after 1 s: a read still waiting is the kernel's EINTR.
      return { got: { ret: -1, errno: EINTR, err: 'EINTR' }, out, blocked: true };
    }
    const got = outcome(r);
    if (got.ret !== null && got.ret > 0) {
      const b = proc.mm.copyFromUser(addr, got.ret)!;
      Object.assign(
        out,
        decodeMsg(b, (v) => this.toOracle(v)),
      );
    }
    return { got, out };
  }
}

/** runner.c decode_msg: header words, then the iotlb message (addresses in the oracle's space). */
function decodeMsg(b: Uint8Array, addr: (v: bigint) => bigint): Record<string, unknown> {
  if (b.length < 8) return {};
  const out: Record<string, unknown> = {
    msgtype: Number(readScalar(b, 0, 'u32')),
    asid: Number(readScalar(b, 4, 'u32')),
  };
  if (b.length >= VHOST_MSG_IOTLB_OFFSET + vhost_iotlb_msg.size) {
    const o = VHOST_MSG_IOTLB_OFFSET;
    const type = b[o + 25]!;
    out.iotlb = {
      iova: hex(addr(readScalar(b, o, 'u64'))),
      size: hex(readScalar(b, o + 8, 'u64')),
      uaddr: hex(addr(readScalar(b, o + 16, 'u64'))),
      perm: b[o + 24]!,
      type,
      type_name: IOTLB_TYPE_NAMES[type] ?? '?',
    };
  }
  return out;
}

export function fmtOutcome(o: Outcome): string {
  if (o.ret === null) return o.err ?? '-';
  if (o.errno) return `${o.ret} ${o.err ?? `errno ${o.errno}`}`;
  return `${o.ret}`;
}

// ---------------------------------------------------------------------------------------------
// Entry points

export function parseResults(text: string): OracleRecord[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as OracleRecord);
}

/** Replays a script's text against its recording on a fresh kernel of the given profile. */
export function replayText(
  script: string,
  records: readonly OracleRecord[],
  kernelVersion: string,
): LineResult[] {
  return new Replayer(script, records, kernelVersion).run();
}

/** Replays `scriptPath` against the recording `resultsPath` (JSON lines) on profile `kernelVersion`. */
export function replayScript(scriptPath: string, resultsPath: string, kernelVersion: string): LineResult[] {
  return replayText(
    readFileSync(scriptPath, 'utf8'),
    parseResults(readFileSync(resultsPath, 'utf8')),
    kernelVersion,
  );
}

export interface Summary {
  match: number;
  mismatch: number;
  unsupported: number;
}

export function summarize(rows: readonly LineResult[]): Summary {
  const s: Summary = { match: 0, mismatch: 0, unsupported: 0 };
  for (const r of rows) s[r.status]++;
  return s;
}

/** One line per row, for failure messages and reports. */
export function fmtRow(r: LineResult): string {
  const who = r.proc === 'child' ? ' (child)' : '';
  const site = r.got.site ? ` [${r.got.site}]` : '';
  return `L${r.line}${who} ${r.src}: want ${fmtOutcome(r.want)}, got ${fmtOutcome(r.got)}${site}${
    r.detail ? ` (${r.detail})` : ''
  }`;
}

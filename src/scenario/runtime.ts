// Run-time names and values: what `$name` means in the acting process, and
// how a YAML value becomes an integer of a field's width (scenario.md, Values).
import type { Kernel } from '../kernel/kernel.js';
import type { Process } from '../kernel/process.js';
import { CONSTANTS } from '../uapi/constants.js';
import { featureMask } from '../uapi/virtio.js';
import { InputError } from './input-error.js';
import type { YamlPath } from './load.js';
import type { Scenario } from './model.js';
import { type ExprEnv, ExprError, evalExpr, fitWidth } from './values.js';

export interface Mapping {
  addr: bigint;
  size: bigint;
}

/** A process as the scenario names it: its fd and mapping names. */
export interface ProcState {
  readonly name: string;
  readonly proc: Process;
  readonly fds: Map<string, number>;
  readonly maps: Map<string, Mapping>;
}

/** A value of a name: run-wide saved values may also be non-integers (a struct output). */
export type Saved = bigint | unknown;

/** Thrown by value evaluation at run time: stops the scenario with exit 2. */
export class RunInputError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

export class Runtime {
  readonly procs = new Map<string, ProcState>();
  readonly saved = new Map<string, Saved>();
  /** processes the kernel killed at a BUG */
  readonly killed = new Set<string>();
  constructor(
    readonly k: Kernel,
    readonly s: Scenario,
  ) {}

  proc(name: string): ProcState {
    const p = this.procs.get(name);
    if (!p) throw new Error(`internal: no process ${name}`);
    return p;
  }

  fail(path: YamlPath, message: string, offset?: number): never {
    if (offset !== undefined) {
      const st = this.s.doc.scalarStart(path);
      if (st) throw new RunInputError(st.line, st.column + offset, message);
    }
    const p = this.s.doc.locate(path);
    throw new RunInputError(p.line, p.column, message);
  }

  env(ps: ProcState, extra?: ReadonlyMap<string, bigint>): ExprEnv {
    return {
      name: (id) => CONSTANTS.get(id) ?? featureMask(id),
      variable: (id) => {
        const x = extra?.get(id);
        if (x !== undefined) return x;
        if (this.saved.has(id)) {
          const v = this.saved.get(id);
          return typeof v === 'bigint' ? v : undefined;
        }
        const m = ps.maps.get(id);
        if (m) return m.addr;
        const fd = ps.fds.get(id);
        if (fd !== undefined) return BigInt(fd);
        return undefined;
      },
    };
  }

  /** The unbounded integer a value stands for (no width applied). */
  integer(ps: ProcState, v: unknown, path: YamlPath, extra?: ReadonlyMap<string, bigint>): bigint {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'string') {
      try {
        return evalExpr(v, this.env(ps, extra));
      } catch (e) {
        if (e instanceof ExprError) {
          if (e.message.startsWith('no value named')) {
            const n = /'\$([^']+)'/.exec(e.message)?.[1];
            if (n && this.saved.has(n))
              this.fail(path, `$${n} holds a structured value, not an integer`, e.offset);
            if (n && !this.saved.has(n)) {
              this.fail(
                path,
                `$${n} has no value: the call that should have saved it returned none`,
                e.offset,
              );
            }
          }
          this.fail(path, e.message, e.offset);
        }
        throw e;
      }
    }
    if (Array.isArray(v)) {
      let acc = 0n;
      v.forEach((x, i) => {
        acc |= this.integer(ps, x, [...path, i], extra);
      });
      return acc;
    }
    if (typeof v === 'number') this.fail(path, `expected an integer, got the number ${v}`);
    if (typeof v === 'boolean') return v ? 1n : 0n;
    this.fail(path, `expected an integer, got ${v === null ? 'null' : typeof v}`);
  }

  /** An integer converted to a `bits`-wide field as C converts it; out of range is an input error. */
  value(ps: ProcState, v: unknown, path: YamlPath, bits: number): bigint {
    const x = this.integer(ps, v, path);
    const w = fitWidth(x, bits);
    if (w === undefined)
      this.fail(
        path,
        `${x < 0n ? '-0x' + (-x).toString(16) : '0x' + x.toString(16)} does not fit a ${bits}-bit field`,
      );
    return w;
  }

  /** A step's fd key: a name, `$name` or a number, in the acting process. */
  fd(ps: ProcState, v: unknown, path: YamlPath): number {
    if (typeof v === 'string' && !v.startsWith('$')) {
      const n = ps.fds.get(v);
      if (n !== undefined) return n;
    }
    return Number(BigInt.asIntN(32, this.value(ps, v, path, 32)));
  }
}

export function inputErrorOf(file: string, e: RunInputError): InputError {
  return new InputError(file, e.line, e.column, e.message);
}

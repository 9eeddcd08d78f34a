// Drivers register themselves with a kernel instance (as vdpa_sim registers its
// management device); the core knows them only through this interface.
import type { CallCtx, FileOps } from './file.js';
import type { Kernel } from './kernel.js';
import type { Family } from './profile.js';
import type { Fail, KernelBug, Ok, Outcome, SysResult } from './result.js';
import type { Op } from './tasks.js';

export interface Opened<P = unknown> {
  readonly ops: FileOps<P>;
  readonly priv: P;
}

export type StateRow = Record<string, unknown>;
export type StateTables = Record<string, StateRow[]>;

export interface DriverModule {
  readonly name: string;
  readonly family: Family;
  /** whether `path` is one of this family's device nodes (on any machine or release) */
  claims(path: string): boolean;
  /** whether that node exists on this machine and release (else open gives ENOENT) */
  exists(k: Kernel, path: string): boolean;
  /** the driver's open(): private state and file operations, or the errno; `fileId` is the new file's number */
  open(ctx: CallCtx, path: string, flags: number, fileId: number): Opened | Fail;
  /** rows this driver adds to the state tables (vhost, vrings, iotlb, pending, ...) */
  state?(k: Kernel, tables: StateTables): void;
  /** conditions of the final state the kernel does not report */
  stateDiagnostics?(k: Kernel): Diagnostic[];
  /** once every process has exited: what this family still holds (kernelLeaks, leaks.ts), one line each */
  leaks?(k: Kernel): string[];
  /** the sysfs files (and the /dev directories) this driver family serves */
  sysfs?: SysfsHook;
}

/** What a sysfs write can end in: done, paused at a named point, waiting, or a kernel BUG. */
export type SysfsOutcome = Outcome;
export type { KernelBug };

/** A read, readlink or ls that worked: `out` is the text (final newline kept), target or entries. */
export interface OkOut extends Ok {
  readonly out: string | readonly string[];
}

export interface SysfsHook {
  /** whether `path` is under this family's sysfs tree or one of its /dev directories */
  claims(path: string): boolean;
  /** write(2) of `value`: a pausable operation (driver unbind), or an immediate result */
  write(ctx: CallCtx, path: string, value: string): Op | SysResult;
  read(ctx: CallCtx, path: string): OkOut | Fail;
  readlink(ctx: CallCtx, path: string): OkOut | Fail;
  ls(ctx: CallCtx, path: string): OkOut | Fail;
  /** the named points a write of `path` passes on this release, in order (for pause_at checks) */
  points?(k: Kernel, path: string): readonly string[];
}

export interface Diagnostic {
  readonly code: string;
  readonly message: string;
}

export class DriverRegistry {
  readonly drivers: DriverModule[] = [];

  register(d: DriverModule): void {
    this.drivers.push(d);
  }

  claim(path: string): DriverModule | undefined {
    return this.drivers.find((d) => d.claims(path));
  }

  sysfs(path: string): SysfsHook | undefined {
    return this.drivers.find((d) => d.sysfs?.claims(path))?.sysfs;
  }
}

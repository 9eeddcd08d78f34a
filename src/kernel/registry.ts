// Drivers register themselves with a kernel instance (as vdpa_sim registers its
// management device); the core knows them only through this interface.
import type { CallCtx, FileOps } from './file.js';
import type { Kernel } from './kernel.js';
import type { Family } from './profile.js';
import type { Fail } from './result.js';

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
}

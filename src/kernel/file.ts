// struct file: an open file with a reference count. Duplicates (fork, SCM_RIGHTS)
// share one OpenFile; the driver's release runs when the last reference goes.
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';
import type { SysOutcome, SysResult } from './result.js';

/** The calling context of a file operation: the kernel and the task's process. */
export interface CallCtx {
  readonly k: Kernel;
  readonly proc: Process;
}

export interface FileOps<P = unknown> {
  /** the kind shown in state tables and used by `--fd` decoding ('vhost-vsock', 'eventfd', ...) */
  readonly kind: string;
  ioctl?(ctx: CallCtx, f: OpenFile<P>, cmd: number, arg: bigint): SysOutcome;
  read?(ctx: CallCtx, f: OpenFile<P>, buf: bigint, len: number, nonblock: boolean): SysOutcome;
  write?(ctx: CallCtx, f: OpenFile<P>, buf: bigint, len: number): SysResult;
  /** the file's raw poll mask; absent: the VFS default (DEFAULT_POLLMASK) */
  poll?(ctx: CallCtx, f: OpenFile<P>): number;
  /**
   * the driver's mmap (file->f_op->mmap), called by Kernel.mmapFile with the new VMA's shape; on success
   * the kernel maps a device VMA (VM_IO | VM_PFNMAP) there. Absent: mmap(2) fails with ENODEV.
   */
  mmap?(ctx: CallCtx, f: OpenFile<P>, vma: FileMmap): SysResult;
  release?(k: Kernel, f: OpenFile<P>): void;
  /** the vhost message format a writer defaults to: 2 once VHOST_BACKEND_F_IOTLB_MSG_V2 is acked */
  defaultMsgVersion?(f: OpenFile<P>): 1 | 2;
}

/** The VMA a file mmap asks its driver for: vm_pgoff, vm_end - vm_start, VM_READ/VM_WRITE, VM_SHARED. */
export interface FileMmap {
  readonly pgoff: bigint;
  readonly size: bigint;
  readonly prot: number;
  readonly shared: boolean;
}

export class OpenFile<P = unknown> {
  refs = 1;
  released = false;

  constructor(
    /** the file number of state tables, shared by duplicates */
    readonly id: number,
    readonly path: string,
    readonly flags: number,
    readonly ops: FileOps<P>,
    readonly priv: P,
  ) {}
}

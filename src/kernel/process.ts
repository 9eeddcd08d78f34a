// Processes: a pid, an address space and an fd table. fds 0-2 are taken (stdio),
// so the first open gets 3, and each new fd is the lowest free number.
import type { CallCtx, OpenFile } from './file.js';
import type { Mm } from './memory.js';

export const ALL_CAPS = 'all';
export type Caps = typeof ALL_CAPS | ReadonlySet<string>;

export class FdTable {
  readonly map = new Map<number, OpenFile>();

  get(fd: number): OpenFile | undefined {
    return this.map.get(fd);
  }

  /** The lowest free fd from 3 (get_unused_fd_flags; 0-2 are the process's stdio). */
  install(file: OpenFile): number {
    let fd = 3;
    while (this.map.has(fd)) fd++;
    this.map.set(fd, file);
    return fd;
  }

  remove(fd: number): OpenFile | undefined {
    const f = this.map.get(fd);
    this.map.delete(fd);
    return f;
  }

  sorted(): [number, OpenFile][] {
    return [...this.map.entries()].sort((a, b) => a[0] - b[0]);
  }
}

export class Process {
  readonly fds = new FdTable();
  exited = false;
  /** Kernel.ctx's one calling context of this process (made on its first syscall) */
  callCtx: CallCtx | undefined;

  constructor(
    readonly pid: number,
    readonly name: string,
    public mm: Mm,
    readonly caps: Caps,
  ) {}

  capable(cap: string): boolean {
    return this.caps === ALL_CAPS || this.caps.has(cap);
  }
}

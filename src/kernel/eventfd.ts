// fs/eventfd.c: a 64-bit counter. Kernel waiters (vhost's poll on a kick fd)
// are woken synchronously when it is written, as the wait queue would.
import type { CallCtx, FileOps, OpenFile } from './file.js';
import { fail, ok, type SysOutcome, type SysResult } from './result.js';

export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLRDNORM = 0x40;
export const POLLWRNORM = 0x100;
const ULLONG_MAX = 0xffffffffffffffffn;

/** A wait queue entry (vhost_poll): called with the file after each write. */
export type Waiter = (ctx: CallCtx) => void;

export interface EventFd {
  count: bigint;
  readonly waiters: Set<Waiter>;
}

export const EVENTFD_OPS: FileOps<EventFd> = {
  kind: 'eventfd',
  /** eventfd_read: 8 bytes, EINVAL for a smaller buffer, EAGAIN when 0 (the fd is always EFD_NONBLOCK here) */
  read(ctx: CallCtx, f: OpenFile<EventFd>, buf: bigint, len: number): SysOutcome {
    if (len < 8) return fail('EINVAL', 'eventfd_read', 'iov_iter_count(to) < sizeof(ucnt)');
    if (f.priv.count === 0n) return fail('EAGAIN', 'eventfd_read', '!ctx->count && O_NONBLOCK');
    const v = f.priv.count;
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, v, true);
    if (!ctx.proc.mm.copyToUser(buf, bytes)) return fail('EFAULT', 'eventfd_read', 'copy_to_iter');
    f.priv.count = 0n;
    return ok(8);
  },
  /** eventfd_write: adds the 8-byte value and wakes the waiters */
  write(ctx: CallCtx, f: OpenFile<EventFd>, buf: bigint, len: number): SysResult {
    if (len < 8) return fail('EINVAL', 'eventfd_write', 'count < sizeof(ucnt)');
    const bytes = ctx.proc.mm.copyFromUser(buf, 8);
    if (!bytes) return fail('EFAULT', 'eventfd_write', 'copy_from_user');
    const v = new DataView(bytes.buffer).getBigUint64(0, true);
    if (v === ULLONG_MAX) return fail('EINVAL', 'eventfd_write', 'ucnt == ULLONG_MAX');
    if (ULLONG_MAX - f.priv.count <= v)
      return fail('EAGAIN', 'eventfd_write', 'ULLONG_MAX - ctx->count <= ucnt');
    f.priv.count += v;
    eventfdWake(ctx, f.priv);
    return ok(8);
  },
  poll(_ctx: CallCtx, f: OpenFile<EventFd>): number {
    return (f.priv.count > 0n ? POLLIN : 0) | POLLOUT;
  },
};

/** eventfd_signal (from inside the kernel: a vhost call or err notification) */
export function eventfdSignal(ctx: CallCtx, e: EventFd, n = 1n): void {
  e.count += n;
  eventfdWake(ctx, e);
}

function eventfdWake(ctx: CallCtx, e: EventFd): void {
  for (const w of [...e.waiters]) w(ctx);
}

export function asEventFd(f: OpenFile | undefined): EventFd | undefined {
  return f && f.ops === (EVENTFD_OPS as FileOps<unknown>) ? (f.priv as EventFd) : undefined;
}

// A guest-visible failure is a value, like `return -EINVAL` in the kernel: the
// errno the caller sees plus the kernel function and check that decided it.
import type { ErrnoName } from '../uapi/errno.js';

/** JSON `site`: the kernel function and check, and the inner errno where the kernel replaced it. */
export interface Site {
  readonly function: string;
  readonly check: string;
  readonly errno: ErrnoName;
}

export interface Ok {
  readonly ok: true;
  readonly ret: number | bigint;
}

export interface Fail {
  readonly ok: false;
  readonly errno: ErrnoName;
  readonly site: Site;
}

export type SysResult = Ok | Fail;

/** A call that cannot complete yet (a blocking read, an unbind waiting for fds): retried after every later step. */
export interface Blocked {
  readonly ok: 'blocked';
  /** runs the call again: Blocked while it still has to wait, Paused if it reaches its pause point */
  readonly retry: () => Outcome;
}

export type SysOutcome = SysResult | Blocked;

/** An operation stopped at a named pause point; resume() runs it on (to its end, or to a wait). */
export interface Paused {
  readonly ok: 'paused';
  readonly point: string;
  readonly resume: () => Outcome;
}

/**
 * A kernel BUG()/BUG_ON() hit by the call (scenario.md, "Errors and kernel BUGs"): not a crash of
 * vioctl but the step's outcome. `site` as for a failed call; `stack`, the call trace the kernel
 * prints, innermost first. The kernel kills the calling task: the runner closes its fds as at exit.
 */
export interface KernelBug {
  readonly ok: 'bug';
  readonly site: Site;
  readonly stack: readonly string[];
}

/** Everything a kernel operation can end in. */
export type Outcome = SysOutcome | Paused | KernelBug;

export const OK0: Ok = { ok: true, ret: 0 };

export function ok(ret: number | bigint = 0): Ok {
  return ret === 0 ? OK0 : { ok: true, ret };
}

/** fail('EINVAL', 'vhost_vring_set_num', 'num & (num - 1)') */
export function fail(errno: ErrnoName, fn: string, check: string): Fail {
  return { ok: false, errno, site: { function: fn, check, errno } };
}

/** The caller sees `errno` although an inner function returned `inner.errno` (write()'s EFAULT). */
export function replaceErrno(errno: ErrnoName, inner: Fail): Fail {
  return { ok: false, errno, site: inner.site };
}

export function isFail(r: SysOutcome): r is Fail {
  return r.ok === false;
}

// Kernel operations that can stop in the middle: a driver unbind that waits for
// the device's fds to close, or one a scenario pauses at a named point to run a
// race deterministically (scenario.md, "Races"). A driver writes such an
// operation as a generator: `yield 'unbind:device-removed'` marks a point it
// passes, `yield { wait: () => ready, point }` parks it until `ready()` holds.
import type { Blocked, SysOutcome, SysResult } from './result.js';

export interface WaitFor {
  /** true once the operation can go on (checked after every later step) */
  readonly wait: () => boolean;
  /** the named point it waits at (passed again, without waiting, when ready at once) */
  readonly point?: string;
}

export type OpStep = string | WaitFor;
export type Op = Generator<OpStep, SysResult, void>;

/** An operation stopped at a pause point; resume() runs it on (to its end, or to the next wait). */
export interface Paused {
  readonly ok: 'paused';
  readonly point: string;
  readonly resume: () => SysOutcome;
}

/**
 * Runs `op` until it returns, reaches `pauseAt` (then Paused) or must wait
 * (then Blocked, whose retry continues it once the wait is over). A pause point
 * the operation never passes is the caller's input error; `passed` records them.
 */
export function drive(op: Op, pauseAt?: string, passed: string[] = []): SysOutcome | Paused {
  for (;;) {
    const n = op.next();
    if (n.done) return n.value;
    const s = n.value;
    if (typeof s === 'string') {
      passed.push(s);
      if (s === pauseAt)
        return { ok: 'paused', point: s, resume: () => asOutcome(drive(op, undefined, passed)) };
      continue;
    }
    if (s.point) {
      passed.push(s.point);
      if (s.point === pauseAt) {
        return { ok: 'paused', point: s.point, resume: () => asOutcome(waitThenDrive(op, s, passed)) };
      }
    }
    if (!s.wait()) return blockedOn(op, s, passed);
  }
}

function waitThenDrive(op: Op, w: WaitFor, passed: string[]): SysOutcome | Paused {
  return w.wait() ? drive(op, undefined, passed) : blockedOn(op, w, passed);
}

function blockedOn(op: Op, w: WaitFor, passed: string[]): Blocked {
  const b: Blocked = {
    ok: 'blocked',
    retry: () => (w.wait() ? asOutcome(drive(op, undefined, passed)) : b),
  };
  return b;
}

/** After the one pause a step asked for, later pause points are just passed. */
function asOutcome(r: SysOutcome | Paused): SysOutcome {
  return r.ok === 'paused' ? r.resume() : r;
}

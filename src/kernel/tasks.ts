// Kernel operations that can stop in the middle: a driver unbind that waits for
// the device's fds to close, or one a scenario pauses at a named point to run a
// race deterministically (scenario.md, "Races"). A driver writes such an
// operation as a generator: `yield 'unbind:device-removed'` marks a point it
// passes, `yield { wait: () => ready, point }` parks it until `ready()` holds.
import type { Blocked, Outcome, Paused, SysResult } from './result.js';

export type { Paused };

export interface WaitFor {
  /** true once the operation can go on (checked after every later step) */
  readonly wait: () => boolean;
  /** the named point it waits at (passed again, without waiting, when ready at once) */
  readonly point?: string;
}

export type OpStep = string | WaitFor;
export type Op = Generator<OpStep, SysResult, void>;

/**
 * Runs `op` until it returns, reaches `pauseAt` (then Paused) or must wait
 * (then Blocked, whose retry continues it once the wait is over). A pause point
 * the operation never passes is the caller's input error; `passed` records them.
 */
export function drive(op: Op, pauseAt?: string, passed: string[] = []): Outcome {
  for (;;) {
    const n = op.next();
    if (n.done) return n.value;
    const s = n.value;
    if (typeof s === 'string') {
      passed.push(s);
      // after the one pause a step asked for, later points are just passed
      if (s === pauseAt) return { ok: 'paused', point: s, resume: () => drive(op, undefined, passed) };
      continue;
    }
    if (s.point) {
      passed.push(s.point);
      if (s.point === pauseAt) {
        return { ok: 'paused', point: s.point, resume: () => waitThenDrive(op, s, undefined, passed) };
      }
    }
    if (!s.wait()) return blockedOn(op, s, pauseAt, passed);
  }
}

function waitThenDrive(op: Op, w: WaitFor, pauseAt: string | undefined, passed: string[]): Outcome {
  return w.wait() ? drive(op, pauseAt, passed) : blockedOn(op, w, pauseAt, passed);
}

/** Waiting: a later step that ends the wait continues the operation, up to its pause point if it has not reached it. */
function blockedOn(op: Op, w: WaitFor, pauseAt: string | undefined, passed: string[]): Blocked {
  const b: Blocked = {
    ok: 'blocked',
    retry: () => (w.wait() ? drive(op, pauseAt, passed) : b),
  };
  return b;
}

// Operations that did not finish inside their step (scenario.md, "Races"): a
// blocking read or an unbind waiting for fds (waiting: continued by whichever
// later step ends the wait), or one stopped at its pause_at point (paused:
// continued only by `resume:`). `resume:` records the final result.
import type { Outcome } from '../kernel/result.js';
import type { StepRecord } from './run-result.js';
import type { TaskRow } from './snapshot.js';

export interface Task {
  readonly name: string;
  readonly process: string;
  readonly step: number;
  state: 'paused' | 'waiting' | 'done';
  point: string | null;
  /** continues the operation: resume() when paused, retry() when waiting */
  cont: () => Outcome;
  /** turns the final outcome into record fields (reads decode their buffer here) */
  readonly finish: (o: Outcome) => Partial<StepRecord>;
  done?: Partial<StepRecord>;
  /** what the runner does once the operation ended in a kernel BUG (kill the process) */
  readonly onBug?: () => void;
}

/** Files an outcome into the task: still waiting, paused, or done. */
export function settle(t: Task, o: Outcome): void {
  if (o.ok === 'blocked') {
    t.state = 'waiting';
    t.cont = o.retry;
  } else if (o.ok === 'paused') {
    t.state = 'paused';
    t.point = o.point;
    t.cont = o.resume;
  } else {
    t.state = 'done';
    t.done = t.finish(o);
    if (o.ok === 'bug') t.onBug?.();
  }
}

/** After every step: each waiting task tries again (the step may have ended its wait). */
export function retryWaiting(tasks: readonly Task[]): void {
  for (const t of tasks) if (t.state === 'waiting') settle(t, t.cont());
}

/** `resume: TASK`: a paused task runs on; a waiting one reports blocks until its wait ends. */
export function resumeTask(t: Task): Partial<StepRecord> {
  if (t.state === 'paused') settle(t, t.cont());
  if (t.state === 'done') return t.done!;
  return { ret: null, errno: null, blocks: true };
}

export function taskRows(tasks: readonly Task[]): TaskRow[] {
  return tasks
    .filter((t) => t.state !== 'done')
    .map((t) => ({
      task: t.name,
      process: t.process,
      step: t.step,
      state: t.state === 'paused' ? 'paused' : 'waiting',
      point: t.point,
    }));
}

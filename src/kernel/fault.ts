// Fault injection as the kernel's fail_nth does it (Documentation/fault-injection/fault-injection.rst):
// every fault point the run reaches calls should_fail(); the Nth one fails. Fault points are the
// allocations vioctl models (failslab: kmalloc, kzalloc, kvzalloc, ...) and the user copies
// (fail_usercopy: copy_from_user, copy_to_user and their __ and _iter forms, which test
// should_fail_usercopy() before access_ok(), lib/fault-inject.c should_fail_ex). get_user /
// put_user are not fault points (x86 inlines them without should_fail), and neither is work that
// runs in a kernel thread (a vhost worker, vdpa_sim's kthread): should_fail_ex counts
// current->fail_nth, and the worker's fail_nth is 0 (copy_process clears it).
//
// Two counters, both optional:
// - the run's (`fail_nth:` at scenario level, `--fail-nth N`): the Nth fault point of the whole run,
//   in whichever process it comes. The kernel's counter is per task; a run-wide one lets a single
//   sweep over N reach every process's calls.
// - a step's (`fail_nth:` on a step): the Nth fault point of that step's process while the step
//   runs, as a write to /proc/self/task/TID/fail-nth right before the call. It is disarmed when
//   the step ends (the kernel's stays armed until it fires), so it never fails a later step.
// Each fires at most once.

export type FaultKind = 'alloc' | 'copy';

/** One injected fault: which point of which counter, where, and in which step. */
export interface FaultRecord {
  /** the step running when it fired (null: outside any step) */
  readonly step: number | null;
  /** the N of the counter that fired */
  readonly nth: number;
  /** `run`: the scenario's (or --fail-nth's) counter; `step`: the step's own */
  readonly scope: 'run' | 'step';
  readonly kind: FaultKind;
  /** the kernel function and allocation or copy (`vhost_dev_set_owner: kzalloc worker`) */
  readonly site: string;
}

export class FaultInjector {
  /** fault points reached in task context during the run */
  points = 0;
  readonly injected: FaultRecord[] = [];
  /** the step the runner is executing (for the records) */
  step: number | null = null;
  #runNth = 0;
  #stepNth = 0;
  #stepSeen = 0;
  /** the task (its address space) a step's counter counts */
  #stepTask: object | undefined;
  #workerDepth = 0;

  /** Arms the run's counter: the Nth fault point of the run fails (0: none). */
  armRun(n: number): void {
    this.#runNth = n;
  }

  /** Arms a step's counter for `task` (its mm): its Nth fault point fails until disarmStep(). */
  armStep(task: object, n: number): void {
    this.#stepTask = task;
    this.#stepNth = n;
    this.#stepSeen = 0;
  }

  disarmStep(): void {
    this.#stepTask = undefined;
    this.#stepNth = 0;
    this.#stepSeen = 0;
  }

  /** Whether a counter armed for the step has not fired (read back of fail-nth: nonzero). */
  get stepPending(): boolean {
    return this.#stepNth > 0;
  }

  /** Runs work of a kernel thread (a vhost worker, vdpa_sim's kthread): its points do not count. */
  asWorker<T>(fn: () => T): T {
    this.#workerDepth++;
    try {
      return fn();
    } finally {
      this.#workerDepth--;
    }
  }

  /** should_fail() for an allocation of `task` (the caller's mm): true when it must fail. */
  alloc(task: object, site: string): boolean {
    return this.point(task, 'alloc', site);
  }

  /** should_fail_usercopy() of a copy by `task`: true when it must fail. */
  copy(task: object, site: string): boolean {
    return this.point(task, 'copy', site);
  }

  private point(task: object, kind: FaultKind, site: string): boolean {
    if (this.#workerDepth > 0) return false;
    this.points++;
    if (this.#runNth > 0 && this.points === this.#runNth) {
      this.#runNth = 0;
      this.injected.push({ step: this.step, nth: this.points, scope: 'run', kind, site });
      return true;
    }
    if (this.#stepNth > 0 && task === this.#stepTask && ++this.#stepSeen === this.#stepNth) {
      this.injected.push({ step: this.step, nth: this.#stepNth, scope: 'step', kind, site });
      this.#stepNth = 0;
      return true;
    }
    return false;
  }
}

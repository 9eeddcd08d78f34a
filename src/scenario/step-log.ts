// The records a run keeps. `all` keeps every step (JSON, diff, --all-steps). `summary` is for the text
// report of a long run, which prints only the steps that failed an expectation or have diagnostics, each
// with NEIGHBOURS steps on either side: once a run passes LONG_RUN steps, every other record is dropped as
// soon as it can no longer be anyone's neighbour, so memory follows the live kernel objects and the
// interesting steps, not the number of steps run (issue 9's 100 000-step files).
import type { StepRecord } from './run-result.js';

/** Past this many steps the text report (without --all-steps) shows only interesting steps. */
export const LONG_RUN = 200;
/** Steps shown on each side of an interesting one. */
export const NEIGHBOURS = 2;

export type StepLogMode = 'all' | 'summary';

/** What the text report prints a step for: a failed expectation, a diagnostic or an injected fault. */
export function isInteresting(r: StepRecord): boolean {
  return r.expect === 'fail' || r.diagnostics.length > 0 || r.faults !== undefined;
}

/**
 * Kept for neighbours as well as shown: a step still waiting in the kernel may fail its expectation
 * when it completes, later, so it keeps its neighbours too.
 */
function mustKeep(r: StepRecord): boolean {
  return isInteresting(r) || r.blocks === true;
}

export interface StepTotals {
  /** every step run */
  count: number;
  failedCalls: number;
  failedExpect: number;
  diagnostics: number;
}

export class StepLog {
  /** the records kept, in step order */
  readonly kept: StepRecord[] = [];
  #sparse = false;
  /** (sparse) the latest records not kept: the before-neighbours of a step still to come */
  #recent: StepRecord[] = [];
  /** (sparse) how many coming records are after-neighbours of a kept one */
  #owed = 0;
  #count = 0;

  constructor(readonly mode: StepLogMode) {}

  get count(): number {
    return this.#count;
  }

  push(r: StepRecord): void {
    this.#count++;
    if (!this.#sparse) {
      this.kept.push(r);
      if (this.mode === 'summary' && this.#count > LONG_RUN) this.#thin();
      return;
    }
    if (mustKeep(r)) {
      this.kept.push(...this.#recent, r);
      this.#recent = [];
      this.#owed = NEIGHBOURS;
    } else if (this.#owed > 0) {
      this.kept.push(r);
      this.#owed--;
    } else {
      this.#recent.push(r);
      if (this.#recent.length > NEIGHBOURS) tally(this.#dropped, this.#recent.shift()!);
    }
  }

  /** The counts the summary line prints, over every step run, kept or not. */
  totals(): StepTotals {
    const t = { count: this.#count, ...this.#dropped };
    for (const r of this.kept) tally(t, r);
    for (const r of this.#recent) tally(t, r);
    return t;
  }

  /** the counts of records dropped (final by then: a dropped record never waits) */
  #dropped = { failedCalls: 0, failedExpect: 0, diagnostics: 0 };

  /** the switch to sparse: keep what is a neighbour of a kept step, remember the latest others */
  #thin(): void {
    const all = this.kept.splice(0);
    const keep = new Uint8Array(all.length);
    let lastKept = -1;
    all.forEach((r, i) => {
      if (!mustKeep(r)) return;
      for (let j = Math.max(0, i - NEIGHBOURS); j <= Math.min(all.length - 1, i + NEIGHBOURS); j++)
        keep[j] = 1;
      lastKept = i;
    });
    const recentFrom = all.length - NEIGHBOURS;
    all.forEach((r, i) => {
      if (keep[i]) this.kept.push(r);
      else if (i >= recentFrom) this.#recent.push(r);
      else tally(this.#dropped, r);
    });
    this.#owed = lastKept < 0 ? 0 : Math.max(0, lastKept + NEIGHBOURS - (all.length - 1));
    this.#sparse = true;
  }
}

function tally(t: Omit<StepTotals, 'count'>, r: StepRecord): void {
  if (r.errno !== null) t.failedCalls++;
  if (r.expect === 'fail') t.failedExpect++;
  t.diagnostics += r.diagnostics.length;
}

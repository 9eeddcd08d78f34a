// `--fail-nth N` of run and test: the Nth fault point of every scenario's run fails (fault.ts).
import { FAIL_NTH_MAX } from '../scenario/compile.js';

/** The option's number, or the usage message (exit 2) for anything but 0..FAIL_NTH_MAX in decimal. */
export function parseFailNth(s: string): number | string {
  const n = /^\d{1,10}$/.test(s) ? Number(s) : Number.NaN;
  if (!(n >= 0 && n <= FAIL_NTH_MAX)) {
    return `--fail-nth: expected an integer from 0 to ${FAIL_NTH_MAX} (0: none), got "${s}"`;
  }
  return n;
}

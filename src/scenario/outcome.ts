// A kernel outcome as a step record's fields: ret, errno, errnoNum and site; or
// the call did not return: blocks, paused at a point, or a kernel BUG.
import type { Outcome } from '../kernel/result.js';
import { errnoInfo } from '../uapi/errno.js';
import type { StepRecord } from './run-result.js';

export function outcomeFields(o: Outcome): Partial<StepRecord> {
  if (o.ok === 'blocked') return { ret: null, errno: null, blocks: true };
  if (o.ok === 'paused') return { ret: null, errno: null, paused: o.point };
  if (o.ok === 'bug') return { ret: null, errno: null, bug: { site: o.site, stack: [...o.stack] } };
  if (o.ok) return { ret: o.ret, errno: null };
  return { ret: -1, errno: o.errno, errnoNum: errnoInfo(o.errno).num, site: o.site };
}

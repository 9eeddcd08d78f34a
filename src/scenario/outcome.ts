// A kernel outcome as a step record's fields: ret, errno, errnoNum and site.
import type { SysOutcome } from '../kernel/result.js';
import { errnoInfo } from '../uapi/errno.js';
import type { StepRecord } from './run-result.js';

export function outcomeFields(o: SysOutcome): Partial<StepRecord> {
  if (o.ok === 'blocked') return { ret: null, errno: null, blocks: true };
  if (o.ok) return { ret: o.ret, errno: null };
  return { ret: -1, errno: o.errno, errnoNum: errnoInfo(o.errno).num, site: o.site };
}

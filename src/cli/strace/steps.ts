// The scenario being written: its items (steps and `#` comments) in log order, and what became of
// each log line (a step, folded into one, or a comment), for the counts the header gives.
import type { Item, YVal } from './emit.js';
import type { Event } from './lines.js';
import { newProc, type Proc, type Result } from './state.js';

export type LineKind = 'step' | 'folded' | 'comment';
const RANK: Record<LineKind, number> = { comment: 0, folded: 1, step: 2 };

export class StepLog {
  readonly items: Item[] = [];
  readonly kinds = new Map<number, LineKind>();
  readonly main = newProc('main');

  constructor(
    readonly events: Event[],
    readonly lines: string[],
  ) {}

  mark(line: number, kind: LineKind): void {
    const k = this.kinds.get(line);
    if (!k || RANK[kind] > RANK[k]) this.kinds.set(line, kind);
  }

  markEvent(ev: Event, kind: LineKind): void {
    this.mark(ev.line, kind);
    if (ev.kind === 'call' && ev.startLine !== undefined)
      this.mark(ev.startLine, kind === 'step' ? 'step' : kind);
  }

  comment(ev: Event, why: string): void {
    const text =
      ev.kind === 'call' && ev.startLine !== undefined
        ? `${ev.startLine}-${ev.line}: ${ev.name}(${ev.args}) = ${ev.result}`
        : `${ev.line}: ${this.lines[ev.line - 1]!.trim()}`;
    this.items.push({ kind: 'comment', text: `${text}  [${why}]` });
    this.markEvent(ev, 'comment');
  }

  push(p: Proc, step: Record<string, YVal>, notes: string[], ev?: Event): void {
    const [action, main] = Object.entries(step)[0]!;
    const out: Record<string, YVal> = { [action]: main };
    if (p !== this.main) out.process = p.name;
    for (const [k, v] of Object.entries(step).slice(1)) out[k] = v;
    if (ev?.kind === 'call' && ev.overlapped) {
      notes.push(
        `entered the kernel at line ${ev.startLine}; ${ev.overlapped} call(s) of other threads or ` +
          'processes returned before it did: placed where it returned',
      );
    }
    if (notes.length > 0) out.note = notes.join('; ');
    this.items.push({ kind: 'step', step: out });
    if (ev) this.markEvent(ev, 'step');
  }

  /** `expect:` of a call: the errno, or the return value (with the answer the kernel wrote back). */
  expect(r: Result, out?: YVal, fdReturn = false): YVal | undefined {
    if (r.errno) return r.errno;
    if (r.ret === undefined || r.unknownErrno) return undefined;
    if (out !== undefined) return fdReturn ? { out } : { ret: r.ret, out };
    return fdReturn ? undefined : r.ret;
  }

  withExpect(step: Record<string, YVal>, r: Result, notes: string[], out?: YVal, fdReturn = false) {
    const e = this.expect(r, out, fdReturn);
    if (e !== undefined) step.expect = e;
    if (r.unknownErrno) notes.push(`strace's errno ${r.unknownErrno} is unknown to vioctl: not expected`);
  }
}

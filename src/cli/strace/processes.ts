// -f's processes: a pid's first line creates it, by `fork:` where the log shows the clone/fork
// that made it, else by `spawn:` (it then has no fds); threads act as the process they belong to.
import type { Event } from './lines.js';
import { newProc, type Proc, parseResult } from './state.js';
import { StepLog } from './steps.js';
import { atomNumber } from './values.js';

interface Child {
  parent: number | null;
  thread: boolean;
}

const CLONE_THREAD = 0x10000n;
const CLONE_FILES = 0x400n;

/** Threads (CLONE_THREAD, or a shared fd table) act as their parent process: they share its fds. */
function sharesFds(args: string): boolean {
  const m = /flags=([^,}]+)/.exec(args);
  if (!m) return false;
  const t = m[1]!.trim();
  if (/CLONE_THREAD|CLONE_FILES/.test(t)) return true;
  const n = atomNumber({ t: 'atom', text: t });
  return n !== undefined && (n & (CLONE_THREAD | CLONE_FILES)) !== 0n;
}

export class Processes extends StepLog {
  readonly pidProc = new Map<number | null, Proc>();
  readonly children = new Map<number, Child>();
  readonly forked = new Set<number>();
  readonly names = new Set<string>(['main']);
  /** the children already created, with how */
  readonly made = new Map<number, Child>();
  mainPid: number | null | undefined;

  constructor(events: Event[], lines: string[]) {
    super(events, lines);
    this.pidProc.set(null, this.main);
    for (const ev of events) {
      if (ev.kind !== 'call' || !['clone', 'clone3', 'fork', 'vfork'].includes(ev.name)) continue;
      const r = parseResult(ev.result);
      if (r.ret !== undefined && r.ret > 0n)
        this.children.set(Number(r.ret), { parent: ev.pid, thread: sharesFds(ev.args) });
    }
  }

  /** The process of a pid, created (fork, spawn, or the thread's process) at its first line. */
  proc(pid: number | null): Proc {
    const known = this.pidProc.get(pid);
    if (known && !known.exited) return known;
    if (known) this.pidProc.delete(pid); // the pid was reused after its process ended
    const n = pid!;
    const child = this.children.get(n);
    // consumed here, so that a log naming a pid its own ancestor cannot send this into a loop
    this.children.delete(n);
    if (child) this.made.set(n, child);
    if (!child && this.mainPid === undefined) {
      // strace prefixes lines only once a second process is traced: the first unknown pid is the tracee
      this.mainPid = n;
      this.pidProc.set(n, this.main);
      return this.main;
    }
    if (child) {
      const parent = this.proc(child.parent);
      const again = this.pidProc.get(n);
      if (again) return again; // the log made the pid its own parent
      if (child.thread) {
        this.pidProc.set(n, parent);
        return parent;
      }
      const p = newProc(this.procName(n), parent);
      this.pidProc.set(n, p);
      this.forked.add(n);
      this.push(parent, { fork: p.name }, []);
      return p;
    }
    const p = newProc(this.procName(n));
    this.pidProc.set(n, p);
    this.push(this.main, { spawn: p.name }, [
      `no clone/fork of pid ${n} in the log (add clone,clone3,fork,vfork to -e trace=): ` +
        'spawned, so it starts without fds',
    ]);
    return p;
  }

  /** `p1234`, or `p1234_2` for a later process under a reused pid */
  procName(pid: number): string {
    let name = `p${pid}`;
    for (let k = 2; this.names.has(name); k++) name = `p${pid}_${k}`;
    this.names.add(name);
    return name;
  }

  exit(pid: number | null, p: Proc, ev: Event) {
    if (p === this.main) return this.comment(ev, 'the traced program (or one of its threads) ended');
    if (pid !== null && this.made.get(pid)?.thread) return this.comment(ev, 'a thread ended');
    this.exitStep(p, ev);
  }

  exitStep(p: Proc, ev: Event) {
    if (p.exited) return this.comment(ev, 'already ended');
    if (p.mayWait) return this.comment(ev, 'not imported: a blocking read of this process may still wait');
    p.exited = true;
    this.push(this.main, { exit: p.name }, [], ev);
  }
}

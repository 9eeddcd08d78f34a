// What the trace does not show but the calls need: eventfds (eventfd2 is not traced), guest memory
// (mmap is not traced) and values behind pointers. Each is made by a step placed before its use.
import type { YVal } from './emit.js';
import { type ArgHost, takesEventfd } from './ioctl-args.js';
import { Processes } from './processes.js';
import { resolveRequest } from './requests.js';
import { type FdInfo, type Proc, parseResult } from './state.js';
import { atomNumber, parseArgs, type SVal } from './values.js';

export const PAGE = 0x1000n;
/** Larger ranges are left unmapped: they would not be recreated faithfully anyway */
const MAX_MAP = 1n << 34n;

/** A mapping made by a synthesized mmap step: where, and the step (a REMAP may make it a memfd). */
interface Region {
  proc: Proc;
  name: string;
  start: bigint;
  end: bigint;
  step: Record<string, YVal>;
}

export class Synth extends Processes {
  ram = 0;
  index = 0;
  readonly regions: Region[] = [];

  fdOf(p: Proc, v: SVal | undefined): { n: number; info?: FdInfo } | undefined {
    const n = atomNumber(v);
    return n === undefined ? undefined : { n: Number(n), info: p.fds.get(Number(n)) };
  }

  /** ArgHost for one step: fd names, and the mmap/poke/eventfd steps that must precede it. */
  host(p: Proc, notes: string[]): ArgHost {
    return {
      fd: (n, eventfd) => {
        if (n < 0n || n > 0x7fffffffn) return n === -1n ? n : undefined;
        let info = p.fds.get(Number(n));
        if (!info && eventfd) {
          this.eventfds(p);
          info = p.fds.get(Number(n));
        }
        if (info?.name) return `$${info.name}`;
        notes.push(`fd ${n} was not opened in the log: kept as a number`);
        return n;
      },
      memory: (addr, size, why) => this.memory(p, addr, size, why),
      pointee: (v, width) => {
        if (!p.scratch) {
          p.scratch = true;
          this.push(p, { mmap: 'ptrbuf', size: PAGE }, [
            'a scratch page for values strace showed behind pointers (mmap is not traced)',
          ]);
        }
        this.push(p, { poke: 'ptrbuf', value: v, width: BigInt(width) }, []);
        return '$ptrbuf';
      },
    };
  }

  /**
   * eventfd2 is not traced: the eventfds the log hands to vhost are created before their first
   * use, all that this process's coming calls use at once, in fd order, so the numbers the
   * emulator gives follow the log's where they can.
   */
  eventfds(p: Proc): void {
    const want = new Set<number>();
    const opened = new Set<number>();
    for (let i = this.index; i < this.events.length; i++) {
      const ev = this.events[i]!;
      if (ev.kind !== 'call' || this.pidProc.get(ev.pid) !== p) continue;
      const args = parseArgs(ev.args);
      const ret = parseResult(ev.result).ret;
      if (ev.name !== 'ioctl') {
        if ((ev.name === 'openat' || ev.name === 'open') && ret !== undefined) opened.add(Number(ret));
        continue;
      }
      const fd = this.fdOf(p, args[0]);
      const req = resolveRequest(args[1], fd?.info?.type);
      if (!takesEventfd(req?.def)) continue;
      const a = args[2];
      const inner =
        a?.t === 'struct' ? a.fields.find((f) => f.name === 'fd')?.value : a?.t === 'arr' ? a.items[0] : a;
      const n = atomNumber(inner);
      const ok = n !== undefined && n >= 0n && n <= 0x7fffffffn;
      if (ok && !p.fds.has(Number(n)) && !opened.has(Number(n))) want.add(Number(n));
    }
    [...want]
      .sort((a, b) => a - b)
      .forEach((n, i) => {
        const name = `efd${n}`;
        p.fds.set(n, { kind: 'eventfd', name });
        const note =
          i === 0 ? ['eventfd2 is not traced: the eventfds the log hands to vhost are created here'] : [];
        this.push(p, { eventfd: name }, note);
      });
  }

  /** mmap is not traced: a range the kernel will read or pin is mapped (zero-filled) where the log says. */
  memory(p: Proc, addr: bigint, size: bigint, why: string): void {
    if (size <= 0n || size > MAX_MAP || addr % PAGE !== 0n) return;
    const end = addr + ((size + PAGE - 1n) / PAGE) * PAGE;
    if (p.maps.some(([s, e]) => s < end && addr < e)) return; // already there, or overlapping: leave it
    p.maps.push([addr, end]);
    const name = `ram${this.ram++}`;
    this.push(p, { mmap: name, size: end - addr, at: addr, shared: true }, [
      `mmap is not traced: the range ${why} names, recreated zero-filled (its contents are not in the log)`,
    ]);
    const item = this.items.at(-1);
    if (item?.kind === 'step') this.regions.push({ proc: p, name, start: addr, end, step: item.step });
  }

  /**
   * A VHOST_IOTLB_REMAP from another process than the one whose UPDATE made the entry (a live
   * update: the new VMM re-registers the old one's guest RAM at its own address) maps the same
   * memory there: the old mapping becomes a memfd (cpr keeps guest RAM in memfds, and nothing else
   * can be mapped twice) and the new one maps that object at the REMAP's address. Else the range is
   * mapped as memory() does.
   */
  remapMemory(p: Proc, old: { proc: Proc; uaddr: bigint } | undefined, uaddr: bigint, size: bigint): void {
    const src =
      old && old.proc !== p
        ? this.regions.find((r) => r.proc === old.proc && r.start <= old.uaddr && old.uaddr < r.end)
        : undefined;
    const start = src ? uaddr - (old!.uaddr - src.start) : -1n;
    if (!src || start < 0n || start % PAGE !== 0n) {
      this.memory(p, uaddr, size, 'the IOTLB REMAP');
      return;
    }
    const end = start + (src.end - src.start);
    if (p.maps.some(([s, e]) => s < end && start < e)) return;
    p.maps.push([start, end]);
    if (src.step.shared !== undefined) {
      const note = `${src.step.note}; a memfd: ${p.name} maps the same memory again for its IOTLB REMAP`;
      delete src.step.shared;
      delete src.step.note;
      Object.assign(src.step, { memfd: true, note });
    }
    const name = `ram${this.ram++}`;
    this.push(p, { mmap: name, size: end - start, at: start, object: src.name }, [
      `mmap is not traced: the memory ${old!.proc.name} mapped at 0x${src.start.toString(16)} (${src.name}), ` +
        'mapped again where the IOTLB REMAP names it',
    ]);
  }
}

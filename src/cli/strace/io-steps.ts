// write() and read(): vhost messages, eventfd counters and sysfs files, each as its step.

import type { YVal } from './emit.js';
import type { CallEvent } from './lines.js';
import { counter, decodeMessage, hexBytes, iotlbFields, readOut } from './messages.js';
import type { Proc, Result } from './state.js';
import { Synth } from './synth.js';
import { atomNumber, type SVal } from './values.js';

const IOTLB_UPDATE = 2;
/** VHOST_IOTLB_REMAP, type 7 of the never-merged live-update series (patch vhost-iotlb-remap) */
const IOTLB_REMAP = 7;

/** fd types whose fds are vhost character devices: write/read carry vhost messages */
export const VHOST_TYPES = new Set(['vhost-net', 'vhost-vsock', 'vhost-vdpa']);

export class IoSteps extends Synth {
  /** IOTLB entries the log's UPDATEs made: `path asid iova` → who mapped them at which address */
  readonly entries = new Map<string, { proc: Proc; uaddr: bigint }>();

  /** The bytes of a write/read buffer, or why they cannot be used. */
  bytes(args: SVal[], r: Result): Uint8Array | string {
    const b = args[1];
    if (b?.t !== 'str') return 'the log shows no buffer';
    if (b.truncated) return 'strace cut the buffer (-s): rerun with -s 256';
    const count = atomNumber(args[2]);
    if (r.ret !== undefined && r.ret >= 0n && BigInt(b.bytes.length) < r.ret)
      return 'the buffer is shorter than the count';
    return count !== undefined && BigInt(b.bytes.length) > count
      ? b.bytes.subarray(0, Number(count))
      : b.bytes;
  }

  write(p: Proc, ev: CallEvent, args: SVal[], r: Result) {
    const fd = this.fdOf(p, args[0]);
    const info = fd?.info;
    if (!info || info.kind === 'foreign')
      return this.comment(ev, info ? 'not a device vioctl models' : 'fd not opened in the log');
    const b = this.bytes(args, r);
    if (typeof b === 'string') return this.comment(ev, b);
    const notes: string[] = [];
    if (info.kind === 'sysfs') {
      const step: Record<string, YVal> = { sysfs: info.path!, value: Buffer.from(b).toString('latin1') };
      this.withExpect(step, r, notes);
      return this.push(p, step, notes, ev);
    }
    if (info.kind === 'eventfd') {
      if (counter(b) !== 1n)
        return this.comment(ev, 'an eventfd write of another value than 1 (signal: writes 1)');
      const step: Record<string, YVal> = { signal: info.name! };
      this.withExpect(step, r, notes);
      return this.push(p, step, notes, ev);
    }
    if (!VHOST_TYPES.has(info.type ?? ''))
      return this.comment(ev, `write() on a ${info.type} fd is not modelled`);
    const m = decodeMessage(b);
    const step: Record<string, YVal> = { write: info.name! };
    if (m) {
      step.version = BigInt(m.version);
      step.iotlb = iotlbFields(m);
      const count = atomNumber(args[2]);
      if (count !== undefined && count !== BigInt(b.length)) step.len = count;
      const t = m.iotlb;
      const key = `${info.path} ${m.asid} ${t.iova}`;
      const ok = r.ret !== undefined && r.ret >= 0n && !r.errno;
      if (t.type === IOTLB_UPDATE && t.uaddr !== 0n) {
        this.memory(p, t.uaddr, t.size, 'the IOTLB UPDATE');
        if (ok) this.entries.set(key, { proc: p, uaddr: t.uaddr });
      } else if (t.type === IOTLB_REMAP && t.uaddr !== 0n) {
        this.remapMemory(p, this.entries.get(key), t.uaddr, t.size);
        if (ok) this.entries.set(key, { proc: p, uaddr: t.uaddr });
      }
    } else {
      step.data = hexBytes(b);
      notes.push('not a message the iotlb fields express (length, header or padding): written as raw bytes');
    }
    this.withExpect(step, r, notes);
    this.push(p, step, notes, ev);
  }

  read(p: Proc, ev: CallEvent, args: SVal[], r: Result) {
    const fd = this.fdOf(p, args[0]);
    const info = fd?.info;
    if (!info || info.kind === 'foreign')
      return this.comment(ev, info ? 'not a device vioctl models' : 'fd not opened in the log');
    const ok = r.ret !== undefined && r.ret >= 0n && !r.errno;
    const b = ok ? this.bytes(args, r) : undefined;
    const bytes = b instanceof Uint8Array ? b.subarray(0, Number(r.ret)) : undefined;
    const notes: string[] = typeof b === 'string' ? [`${b}: only the count is expected`] : [];
    if (info.kind === 'sysfs') {
      if (info.read) return this.markEvent(ev, 'folded'); // the EOF read after the first
      info.read = true;
      const step: Record<string, YVal> = { sysfs: info.path! };
      const text = bytes ? Buffer.from(bytes).toString('latin1').replace(/\n$/, '') : undefined;
      this.withExpect(step, r, notes, text);
      return this.push(p, step, notes, ev);
    }
    const step: Record<string, YVal> = { read: info.name! };
    const len = atomNumber(args[2]);
    if (info.kind === 'eventfd') {
      if (len !== undefined && len !== 8n) step.len = len;
      const v = bytes ? counter(bytes) : undefined;
      this.withExpect(step, r, notes, v !== undefined ? { value: v } : undefined);
      return this.push(p, step, notes, ev);
    }
    if (!VHOST_TYPES.has(info.type ?? ''))
      return this.comment(ev, `read() on a ${info.type} fd is not modelled`);
    if (len !== undefined && len !== 72n) step.len = len;
    if (r.errno === 'EAGAIN' || info.nonblock) step.nonblock = true;
    else p.mayWait = true;
    const m = bytes ? decodeMessage(bytes) : undefined;
    this.withExpect(step, r, notes, m ? readOut(m) : undefined);
    this.push(p, step, notes, ev);
  }
}

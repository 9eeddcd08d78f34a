// Fds handed between processes over a unix socket (SCM_RIGHTS): strace prints them in sendmsg's
// and recvmsg's msg_control as `{cmsg_level=SOL_SOCKET, cmsg_type=SCM_RIGHTS, cmsg_data=[3, 7]}`
// (`0x1` for both under -X raw). A send is paired with the first later receive of as many fds by
// another pid, in log order (one socket's queue), and becomes one `pass:` step per fd, placed at
// the send: the file is in flight from there, whatever the sender does with its fd afterwards.

import { IoSteps } from './io-steps.js';
import type { CallEvent, Event } from './lines.js';
import type { Proc } from './state.js';
import { atomNumber, parseArgs, type SVal } from './values.js';

const SOL_SOCKET = new Set(['SOL_SOCKET', '1', '0x1']);
const SCM_RIGHTS = new Set(['SCM_RIGHTS', '1', '0x1']);

/** The fd numbers of a sendmsg/recvmsg's SCM_RIGHTS messages, in order; undefined when none. */
export function rightsOf(args: SVal[]): bigint[] | undefined {
  const msg = args[1]?.t === 'change' ? args[1].after : args[1];
  if (msg?.t !== 'struct') return undefined;
  const control = msg.fields.find((f) => f.name === 'msg_control')?.value;
  if (control?.t !== 'arr') return undefined;
  const fds: bigint[] = [];
  for (const c of control.items) {
    if (c.t !== 'struct') continue;
    const text = (n: string) => {
      const v = c.fields.find((f) => f.name === n)?.value;
      return v?.t === 'atom' ? v.text : '';
    };
    if (!SOL_SOCKET.has(text('cmsg_level')) || !SCM_RIGHTS.has(text('cmsg_type'))) continue;
    const data = c.fields.find((f) => f.name === 'cmsg_data')?.value;
    for (const d of data?.t === 'arr' ? data.items : []) {
      const n = atomNumber(d);
      if (n !== undefined && n >= 0n && n <= 0x7fffffffn) fds.push(n);
    }
  }
  return fds.length > 0 ? fds : undefined;
}

export class FdPassing extends IoSteps {
  /** lines of the receives already paired with a send */
  readonly received = new Set<number>();

  /** The first later recvmsg of `count` fds by another pid, not yet paired. */
  private receiveOf(ev: CallEvent, count: number): { ev: CallEvent; fds: bigint[] } | undefined {
    for (let i = this.index + 1; i < this.events.length; i++) {
      const e: Event = this.events[i]!;
      if (e.kind !== 'call' || e.name !== 'recvmsg' || e.pid === ev.pid || this.received.has(e.line))
        continue;
      if (!/^\d+/.test(e.result) || e.result.startsWith('0')) continue;
      const fds = rightsOf(parseArgs(e.args));
      if (fds?.length === count) return { ev: e, fds };
    }
    return undefined;
  }

  sendmsg(p: Proc, ev: CallEvent, args: SVal[]) {
    const sent = rightsOf(args);
    if (!sent) return this.comment(ev, 'no fds in it (SCM_RIGHTS)');
    if (!/^\d+/.test(ev.result)) return this.comment(ev, 'the send failed');
    const recv = this.receiveOf(ev, sent.length);
    if (!recv) return this.comment(ev, 'fds sent, but no recvmsg in the log takes them');
    this.received.add(recv.ev.line);
    const to = this.proc(recv.ev.pid);
    if (to === p) return this.comment(ev, 'fds sent to the same process');
    let passed = 0;
    sent.forEach((n, i) => {
      const info = p.fds.get(Number(n));
      if (!info?.name || (info.kind !== 'device' && info.kind !== 'eventfd')) return;
      const names = new Set([...to.fds.values()].map((f) => f.name));
      let name = info.name;
      for (let k = 2; names.has(name); k++) name = `${info.name}_${k}`;
      const m = recv.fds[i]!;
      to.fds.set(Number(m), { ...info, name });
      const note = `SCM_RIGHTS: fd ${n} of the sender is fd ${m} of the receiver (line ${recv.ev.line})`;
      this.push(p, { pass: info.name, to: to.name, as: name }, [note], passed++ === 0 ? ev : undefined);
    });
    if (passed === 0) this.comment(ev, 'none of the fds sent is one vioctl models');
  }

  recvmsg(ev: CallEvent) {
    if (this.received.has(ev.line)) return this.markEvent(ev, 'folded');
    return this.comment(
      ev,
      rightsOf(parseArgs(ev.args)) ? 'fds received from no send in the log' : 'no fds in it (SCM_RIGHTS)',
    );
  }
}

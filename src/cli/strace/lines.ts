// One strace output line → an event, and `<unfinished ...>` / `<... NAME resumed>` halves joined
// into one call. Prefixes understood: `[pid  N] ` (-f to a terminal), `N  ` (-f -o FILE), and an
// optional -t/-tt/-ttt timestamp; suffixes: -T's ` <0.000012>`.

export interface CallEvent {
  kind: 'call';
  pid: number | null;
  name: string;
  args: string;
  /** the result text after `= `: `0`, `-1 EFAULT (Bad address)`, `3</dev/vhost-vsock>`, `?` */
  result: string;
  line: number;
  /** where an unfinished call started, when it was joined with its resumed half */
  startLine?: number;
  /** calls of other processes that returned between the two halves */
  overlapped?: number;
}

export interface ExitEvent {
  kind: 'exit';
  pid: number | null;
  line: number;
}

export interface OtherEvent {
  kind: 'other';
  pid: number | null;
  line: number;
  why: string;
}

export type Event = CallEvent | ExitEvent | OtherEvent;

const PREFIX = /^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?(?:(?:\d+:\d+:\d+|\d+)\.\d+\s+|\d+:\d+:\d+\s+)?(.*)$/;

function splitPrefix(line: string): { pid: number | null; rest: string } {
  const m = PREFIX.exec(line)!;
  const p = m[1] ?? m[2];
  return { pid: p === undefined ? null : Number(p), rest: m[3]! };
}

/** Index of the `)` closing a call's argument list that opens at `open`, skipping strings. */
function closingParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
    } else if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** `name(args) = result`, without prefix; undefined when the text is not a complete call. */
function parseCall(text: string): { name: string; args: string; result: string } | undefined {
  const m = /^([a-z_][a-z0-9_]*)\(/.exec(text);
  if (!m) return undefined;
  const close = closingParen(text, m[0].length - 1);
  if (close < 0) return undefined;
  const tail = /^\s*=\s*(.*?)(?:\s+<\d+\.\d+>)?\s*$/.exec(text.slice(close + 1));
  if (!tail) return undefined;
  return { name: m[1]!, args: text.slice(m[0].length, close), result: tail[1]! };
}

interface Pending {
  head: string;
  line: number;
  seen: number;
}

/** Reads a whole log into events in the order their calls returned (a joined call sits at its resume). */
export function readEvents(text: string): Event[] {
  const out: Event[] = [];
  const pending = new Map<number | null, Pending>();
  let finished = 0;
  const rawLines = text.split(/\r?\n/);
  for (let i = 0; i < rawLines.length; i++) {
    const raw = rawLines[i]!;
    const line = i + 1;
    if (raw.trim() === '') continue;
    const { pid, rest } = splitPrefix(raw);
    const other = (why: string) => {
      out.push({ kind: 'other', pid, line, why });
    };
    const unf = /^(.*?)\s*<unfinished \.\.\.>\s*$/.exec(rest);
    if (unf) {
      pending.set(pid, { head: unf[1]!, line, seen: finished });
      continue;
    }
    const res = /^<\.\.\.\s+([a-z0-9_]+)\s+resumed>\s?(.*)$/.exec(rest);
    let callText = rest;
    let joined: Pending | undefined;
    if (res) {
      joined = pending.get(pid);
      if (!joined?.head.startsWith(`${res[1]}(`)) {
        other('a resumed half without its start');
        continue;
      }
      pending.delete(pid);
      const tail = res[2]!;
      // the resumed half goes on from the next argument: `<... read resumed>"\x01...", 72) = 72`
      const head = joined.head;
      const sep = /^[),]/.test(tail) || head.endsWith('(') ? '' : head.endsWith(',') ? ' ' : ', ';
      callText = head + sep + tail;
    }
    if (rest.startsWith('+++ ')) {
      out.push({ kind: 'exit', pid, line });
      continue;
    }
    if (rest.startsWith('--- ')) {
      other('a signal');
      continue;
    }
    const c = parseCall(callText);
    if (!c) {
      other('not a syscall line');
      continue;
    }
    finished++;
    const ev: CallEvent = { kind: 'call', pid, ...c, line };
    if (joined) {
      ev.startLine = joined.line;
      ev.overlapped = finished - 1 - joined.seen;
    }
    out.push(ev);
  }
  for (const [pid, p] of pending)
    out.push({ kind: 'other', pid, line: p.line, why: 'unfinished, never resumed' });
  return out;
}

// A progress line for long batches (style-and-deps.md §B7): on stderr only, only when stderr is a
// terminal and not under CI, redrawn at most 10 times a second, erased at the end. stdout (the
// report, JUnit or JSON) never sees it.
import { clearLine, cursorTo } from 'node:readline';

export interface StatusLine {
  update(done: number, failed: number): void;
  end(): void;
}

const QUIET: StatusLine = { update() {}, end() {} };

export function statusLine(total: number, stream: NodeJS.WriteStream = process.stderr): StatusLine {
  if (!stream.isTTY || process.env.CI) return QUIET;
  let last = 0;
  let shown = false;
  return {
    update(done, failed) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      cursorTo(stream, 0);
      clearLine(stream, 0);
      stream.write(`[${done}/${total}] ${failed} failed`);
      shown = true;
    },
    end() {
      if (!shown) return;
      cursorTo(stream, 0);
      clearLine(stream, 0);
    },
  };
}

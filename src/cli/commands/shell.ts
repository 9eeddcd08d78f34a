// `vioctl shell`: type steps one at a time against a fresh emulated machine and
// see each answer at once. The session is a scenario: every new step re-runs
// the whole list from the start (the kernel model is deterministic, so the
// answers of earlier steps never change), `.undo` drops the last step, and
// `.save FILE` writes the session as a scenario with its results as expectations.
import { writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { nodeFamily, registerDrivers } from '../../drivers/index.js';
import { colorLevel, makeChalk } from '../../report/color.js';
import { shortValue } from '../../report/format.js';
import { errnoText, renderText } from '../../report/tables.js';
import { compileScenario, DEFAULT_KERNEL } from '../../scenario/compile.js';
import { InputError } from '../../scenario/input-error.js';
import { loadStream } from '../../scenario/load.js';
import type { ScenarioResult, StepRecord } from '../../scenario/run-result.js';
import { runScenario } from '../../scenario/runner.js';
import { pausePoints } from './run.js';

export interface ShellOptions {
  kernel?: string;
  patch?: string[];
  eval?: string[];
  color?: boolean;
}

/** `ioctl vsock VHOST_GET_FEATURES arg=3` → {ioctl: VHOST_GET_FEATURES, fd: vsock, arg: 3} */
export function parseShortStep(line: string): Record<string, unknown> {
  const t = line.trim();
  if (t.startsWith('{')) return parse(t, { intAsBigInt: true }) as Record<string, unknown>;
  const words: string[] = [];
  let cur = '';
  let depth = 0;
  let quote = '';
  for (const ch of t) {
    if (quote) {
      cur += ch;
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
    } else if (ch === '{' || ch === '[') {
      depth++;
      cur += ch;
    } else if (ch === '}' || ch === ']') {
      depth--;
      cur += ch;
    } else if (/\s/.test(ch) && depth === 0) {
      if (cur) words.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur) words.push(cur);
  const [action, ...rest] = words;
  if (!action) return {};
  const step: Record<string, unknown> = {};
  const scalar = (s: string): unknown => parse(s, { intAsBigInt: true });
  const positional: string[] = [];
  for (const w of rest) {
    const eq = w.indexOf('=');
    if (eq > 0 && /^[a-z_]+$/.test(w.slice(0, eq))) step[w.slice(0, eq)] = scalar(w.slice(eq + 1));
    else positional.push(w);
  }
  if (action === 'ioctl') {
    // ioctl FD NAME: the fd first, as strace prints it
    if (positional[0] !== undefined) step.fd = scalar(positional[0]);
    step.ioctl = positional[1] === undefined ? undefined : scalar(positional[1]);
  } else {
    step[action] = positional[0] === undefined ? null : scalar(positional[0]);
    if (positional[1] === 'as' && positional[2] !== undefined) step.as = positional[2];
  }
  return step;
}

export class ShellSession {
  readonly steps: Record<string, unknown>[] = [];
  kernel: string;
  patches: string[];
  last: ScenarioResult | undefined;

  constructor(opts: ShellOptions) {
    this.kernel = opts.kernel ?? DEFAULT_KERNEL;
    this.patches = opts.patch ?? [];
  }

  scenarioText(withExpect = false): string {
    const steps = this.steps.map((s, i) => {
      if (!withExpect || !this.last) return s;
      const r = this.last.steps[i];
      const e = r ? expectationOf(r) : undefined;
      return e === undefined ? s : { ...s, expect: e };
    });
    const doc: Record<string, unknown> = { name: 'vioctl shell session', kernel: this.kernel };
    if (this.patches.length) doc.patches = this.patches;
    doc.steps = steps;
    return stringify(doc, { lineWidth: 0 });
  }

  /** Runs the session with `extra` appended; on bad input the session is left as it was. */
  try(extra?: Record<string, unknown>): { result?: ScenarioResult; error?: string } {
    if (extra) this.steps.push(extra);
    try {
      const docs = loadStream(this.scenarioText(), '<shell>');
      const s = compileScenario('<shell>', docs[0]!, { nodeFamily, pausePoints });
      const result = runScenario(s, { register: registerDrivers });
      if (result.error)
        throw new InputError('<shell>', result.error.line, result.error.column, result.error.message);
      this.last = result;
      return { result };
    } catch (e) {
      if (extra) this.steps.pop();
      if (e instanceof InputError) return { error: e.message };
      throw e;
    }
  }
}

/** What `.save` writes as a step's expectation: the errno of a failed call, else the return value. */
function expectationOf(r: StepRecord): unknown {
  if (r.blocks) return 'blocks';
  if (r.errno) return r.errno;
  if (r.ret === null || typeof r.ret === 'bigint') return undefined; // addresses: do not pin them
  if (['fork', 'inspect', 'mmap'].includes(r.op)) return undefined;
  return r.ret;
}

export function stepLine(r: StepRecord): string {
  const ret = r.blocks
    ? 'blocks'
    : r.ret === null
      ? ''
      : typeof r.ret === 'bigint'
        ? `0x${r.ret.toString(16)}`
        : String(r.ret);
  const parts = [`#${r.index} ${r.op === 'ioctl' ? r.call : `${r.op} ${r.call}`} = ${ret}`];
  if (r.errno)
    parts.push(errnoText(r.errno) + (r.site && r.site.errno !== r.errno ? ` (inner ${r.site.errno})` : ''));
  if (r.site) parts.push(`[${r.site.function}: ${r.site.check}]`);
  if (r.out !== null && r.out !== r.ret) parts.push(`out ${shortValue(r.out)}`);
  const lines = [parts.join('  ')];
  for (const d of r.diagnostics) lines.push(`  ${d.code}: ${d.message}`);
  return lines.join('\n');
}

export async function shellCommand(opts: ShellOptions): Promise<number> {
  const session = new ShellSession(opts);
  const chalk = makeChalk(colorLevel(opts, process.env, process.stdout.isTTY === true));
  if (opts.eval && opts.eval.length > 0) {
    for (const chunk of opts.eval) {
      for (const line of chunk.split(';')) {
        if (!line.trim()) continue;
        const r = session.try(parseShortStep(line));
        if (r.error) {
          process.stderr.write(`-e: ${line.trim()}: ${r.error}\n`);
          return 2;
        }
      }
    }
    if (session.last) process.stdout.write(renderText(session.last, { chalk, allSteps: true }));
    return session.last && !session.last.ok ? 1 : 0;
  }
  const repl = await import('node:repl');
  const server = repl.start({
    prompt: `vioctl ${session.kernel}> `,
    ignoreUndefined: true,
    eval: (input, _ctx, _file, cb) => {
      const line = input.trim();
      if (!line) return cb(null, undefined);
      const r = session.try(parseShortStep(line));
      if (r.error) return cb(null, `error: ${r.error}`);
      const rec = r.result!.steps[r.result!.steps.length - 1]!;
      return cb(null, stepLine(rec));
    },
    writer: (o: unknown) => String(o),
  });
  server.defineCommand('state', {
    help: 'print the state tables',
    action() {
      const r = session.last ?? session.try().result;
      if (r) this.output.write(renderText({ ...r, steps: [] }, { chalk, allSteps: true }));
      this.displayPrompt();
    },
  });
  server.defineCommand('undo', {
    help: 'drop the last step',
    action() {
      session.steps.pop();
      session.try();
      this.output.write(`${session.steps.length} steps\n`);
      this.displayPrompt();
    },
  });
  server.defineCommand('kernel', {
    help: 'switch the kernel profile and re-run the session: .kernel 5.15',
    action(v: string) {
      const old = session.kernel;
      session.kernel = v.trim();
      const r = session.try();
      if (r.error) {
        session.kernel = old;
        this.output.write(`error: ${r.error}\n`);
      } else {
        this.setPrompt(`vioctl ${session.kernel}> `);
        for (const s of r.result?.steps ?? []) this.output.write(`${stepLine(s)}\n`);
      }
      this.displayPrompt();
    },
  });
  server.defineCommand('save', {
    help: 'write the session as a scenario, results as expectations: .save FILE',
    action(file: string) {
      writeFileSync(file.trim(), session.scenarioText(true));
      this.output.write(`wrote ${file.trim()} (${session.steps.length} steps)\n`);
      this.displayPrompt();
    },
  });
  await new Promise<void>((resolve) => server.on('exit', () => resolve()));
  return 0;
}

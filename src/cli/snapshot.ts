// The V8 startup snapshot's entry (node --build-snapshot, Node 20). Node 20 has no
// compile cache, and loading the bundle's modules is most of a short run's time: a
// snapshot starts with them loaded, and warmed by running the bundled stories once
// while it is built. bin/vioctl starts from it; without it, from the ESM bundle.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as v8 from 'node:v8';
import { buildProgram, cli } from './program.js';

/**
 * Runs the stories (text and JSON) and --version through the whole CLI, commander included, with
 * output discarded: the snapshot keeps the bytecode of what ran (a function first called after
 * the start is parsed and compiled then: ~3 ms for commander's parse path alone).
 */
async function warmUp(): Promise<void> {
  const dir = join(process.cwd(), 'fixtures', 'stories');
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(dir, f));
  } catch {
    return;
  }
  const write = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    for (const args of [['run', ...files], ['run', '--json', ...files], ['--version']]) {
      await cli([process.execPath, 'vioctl', ...args]);
    }
  } finally {
    process.stdout.write = write;
    process.stderr.write = err;
    process.exitCode = 0;
  }
}

/** Scenario text up to this size is a short run (a 10-step file is 0.7 KB, 1 000 steps ~90 KB). */
const SHORT_RUN_BYTES = 16 * 1024;

/**
 * `run` of a few small files (no folders): ~25 ms of JavaScript, most of it run once. V8's JIT
 * tiers do not pay back there: Sparkplug compiles ~150 functions on the main thread (~2 ms) and
 * TurboFan takes string-width and cli-table3's layout (~6 ms of a second core's time, which a
 * busy machine does not have). Anything bigger keeps the JIT.
 */
function shortRun(args: readonly string[]): boolean {
  if (args[0] !== 'run') return false;
  let bytes = 0;
  for (const a of args.slice(1)) {
    if (a.startsWith('-')) continue;
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(a);
    } catch {
      continue; // an option's value, or a path run will report missing
    }
    if (!st.isFile()) return false;
    bytes += st.size;
  }
  return bytes <= SHORT_RUN_BYTES;
}

// The commander program of the run to come, built once the warm-up is done and kept unparsed in the
// snapshot: building it costs a start ~0.5 ms (9 commands, 40 options).
let program: ReturnType<typeof buildProgram> | undefined;
void warmUp().then(() => {
  program = buildProgram();
});
v8.startupSnapshot.setDeserializeMainFunction(() => {
  // argv is [node, '--', ...args] when bin/vioctl starts the snapshot (the -- keeps node from
  // reading --version and the like as its own options); commander wants a script name instead
  const args = process.argv.slice(1);
  if (args[0] === '--') args.shift();
  // node:repl does not start inside a snapshot (its Console is not restored): the interactive
  // shell runs from the ESM bundle, in a child that shares our stdio (a TTY stays a TTY)
  const bundle = process.env.VIOCTL_BUNDLE;
  if (args[0] === 'shell' && bundle && !args.some((a) => /^(-e|--eval|-h|--help)(=|$)|^-e./.test(a))) {
    const r = spawnSync(process.execPath, [bundle, ...args], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
    return;
  }
  if (shortRun(args)) {
    v8.setFlagsFromString('--no-opt');
    v8.setFlagsFromString('--no-sparkplug');
    // A regexp's compiled code is not in the snapshot: each one compiles on first use, to bytecode,
    // and again to machine code on its second (tier-up). Once, to machine code, is cheaper here.
    v8.setFlagsFromString('--no-regexp-tier-up');
  }
  void cli([process.argv[0]!, 'vioctl', ...args], program);
});

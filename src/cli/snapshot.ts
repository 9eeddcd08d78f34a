// The V8 startup snapshot's entry (node --build-snapshot, Node 20). Node 20 has no
// compile cache, and loading the bundle's modules is most of a short run's time: a
// snapshot starts with them loaded, and warmed by running the bundled stories once
// while it is built. bin/vioctl starts from it; without it, from the ESM bundle.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as v8 from 'node:v8';
import { runCommand } from './commands/run.js';
import { cli } from './program.js';

/** Runs the stories (text and JSON) with output discarded, so their code paths are compiled. */
function warmUp(): void {
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
    for (const json of [false, true]) void runCommand(files, { json });
  } finally {
    process.stdout.write = write;
    process.stderr.write = err;
    process.exitCode = 0;
  }
}

warmUp();
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
  void cli([process.argv[0]!, 'vioctl', ...args]);
});

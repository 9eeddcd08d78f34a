// `vioctl diff --kernel A --kernel B FILE`: every scenario of FILE under two profiles (their own
// `kernel:` overridden), or `--patch P` on side B only; exit 1 when anything differs.
import { registerDrivers } from '../../drivers/index.js';
import { colorLevel, makeChalk } from '../../report/color.js';
import { differs, diffResults, renderDiff } from '../../report/diff.js';
import { InputError } from '../../scenario/input-error.js';
import type { Scenario } from '../../scenario/model.js';
import { runScenario } from '../../scenario/runner.js';
import { writeInputErrors } from '../exit-status.js';
import { loadScenarios } from './run.js';

export interface DiffOptions {
  kernel?: string[];
  patch?: string[];
  color?: boolean;
}

function usage(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return 2;
}

export async function diffCommand(file: string, opts: DiffOptions): Promise<number> {
  const kernels = opts.kernel ?? [];
  const patches = opts.patch ?? [];
  if (kernels.length > 2) return usage(`diff compares two sides: --kernel given ${kernels.length} times`);
  if (kernels.length < 2 && patches.length === 0) {
    return usage('diff needs two sides: --kernel A --kernel B, or --patch NAME (applied on side B)');
  }
  // One --kernel with --patch: that kernel with and without the patch.
  const ka = kernels[0];
  const kb = kernels[1] ?? ka;
  let a: Scenario[];
  let b: Scenario[];
  try {
    a = loadScenarios([file], ka === undefined ? {} : { kernel: ka });
    b = loadScenarios([file], { ...(kb === undefined ? {} : { kernel: kb }), patch: patches });
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(`${e.format()}\n`);
      return 2;
    }
    throw e;
  }
  const chalk = makeChalk(colorLevel(opts, process.env, process.stdout.isTTY === true));
  let code = 0;
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    const ra = runScenario(a[i]!, { register: registerDrivers });
    const rb = runScenario(b[i]!, { register: registerDrivers });
    writeInputErrors([ra, rb]);
    const d = diffResults(ra, rb);
    if (differs(d)) code = 1;
    out.push(renderDiff(d, chalk));
  }
  process.stdout.write(out.join('\n'));
  return code;
}

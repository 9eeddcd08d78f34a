// `vioctl run PATHS...`: load and check every scenario of every file first,
// then run them in order and print tables or the JSON contract.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { nodeFamily, registerDrivers } from '../../drivers/index.js';
import { Kernel } from '../../kernel/kernel.js';
import type { Machine } from '../../kernel/machine.js';
import type { KernelProfile } from '../../kernel/profile.js';
import { colorLevel, makeChalk } from '../../report/color.js';
import { toJson } from '../../report/json.js';
import { renderText } from '../../report/tables.js';
import { compileScenario } from '../../scenario/compile.js';
import { InputError } from '../../scenario/input-error.js';
import { loadStream } from '../../scenario/load.js';
import type { Scenario } from '../../scenario/model.js';
import type { ScenarioResult } from '../../scenario/run-result.js';
import { runScenario } from '../../scenario/runner.js';
import { exitStatus } from '../exit-status.js';
import { parseFailNth } from '../fail-nth-option.js';

export interface RunOptions {
  json?: boolean;
  kernel?: string;
  patch?: string[];
  color?: boolean;
  allSteps?: boolean;
  /** --fail-nth, as given */
  failNth?: string;
}

/** The scenario files named: files as given, folders searched for *.yaml / *.yml in sorted order. */
export function scenarioFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string, top: boolean) => {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      throw new InputError(p, 1, 1, 'no such file or folder');
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) {
        const q = join(p, e);
        if (statSync(q).isDirectory() || /\.ya?ml$/.test(e)) walk(q, false);
      }
    } else if (top || /\.ya?ml$/.test(p)) {
      out.push(p);
    }
  };
  for (const p of paths) walk(p, true);
  return out;
}

/** The points a vfio-pci driver unbind passes on a profile and machine, asked of a fresh kernel. */
export function pausePoints(profile: KernelProfile, machine: Machine): readonly string[] {
  const k = new Kernel(profile, machine);
  registerDrivers(k);
  return k.sysfsPoints('/sys/bus/pci/drivers/vfio-pci/unbind');
}

export function loadScenarios(paths: readonly string[], opts: RunOptions, failNth?: number): Scenario[] {
  const scenarios: Scenario[] = [];
  for (const file of scenarioFiles(paths)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new InputError(file, 1, 1, 'cannot read the file');
    }
    for (const doc of loadStream(text, file)) {
      if (doc.value === null) continue; // an empty document (a trailing ---)
      scenarios.push(
        compileScenario(file, doc, {
          ...(opts.kernel !== undefined ? { kernel: opts.kernel } : {}),
          patches: opts.patch ?? [],
          nodeFamily,
          pausePoints,
          ...(failNth !== undefined ? { failNth } : {}),
        }),
      );
    }
  }
  return scenarios;
}

export async function runCommand(paths: string[], opts: RunOptions): Promise<number> {
  const failNth = opts.failNth === undefined ? undefined : parseFailNth(opts.failNth);
  if (typeof failNth === 'string') {
    process.stderr.write(`error: ${failNth}\n`);
    return 2;
  }
  let scenarios: Scenario[];
  try {
    scenarios = loadScenarios(paths, opts, failNth);
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(`${e.format()}\n`);
      return 2;
    }
    throw e;
  }
  // the text report of a long run prints a few steps: the runner then keeps only those (step-log.ts)
  const stepLog = opts.json || opts.allSteps ? 'all' : 'summary';
  const results: ScenarioResult[] = scenarios.map((s) =>
    runScenario(s, { register: registerDrivers, stepLog }),
  );
  const code = exitStatus(results);
  if (opts.json) {
    process.stdout.write(toJson(results, results.length === 1));
  } else {
    const chalk = makeChalk(colorLevel(opts, process.env, process.stdout.isTTY === true));
    process.stdout.write(
      results.map((r) => renderText(r, { chalk, allSteps: opts.allSteps === true })).join('\n'),
    );
  }
  return code;
}

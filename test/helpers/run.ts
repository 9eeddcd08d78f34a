// Runs scenario files in-process, as `vioctl run` does, for golden and story tests.
import { loadScenarios } from '../../src/cli/commands/run.js';
import { registerDrivers } from '../../src/drivers/index.js';
import { makeChalk } from '../../src/report/color.js';
import { toJson } from '../../src/report/json.js';
import { renderText } from '../../src/report/tables.js';
import type { ScenarioResult } from '../../src/scenario/run-result.js';
import { runScenario } from '../../src/scenario/runner.js';

export function runFiles(
  paths: string[],
  opts: { kernel?: string; patch?: string[] } = {},
): ScenarioResult[] {
  return loadScenarios(paths, opts).map((s) => runScenario(s, { register: registerDrivers }));
}

export function textOf(results: ScenarioResult[]): string {
  const chalk = makeChalk(0);
  return results.map((r) => renderText(r, { chalk, allSteps: false })).join('\n');
}

export function jsonOf(results: ScenarioResult[]): string {
  return toJson(results, results.length === 1);
}

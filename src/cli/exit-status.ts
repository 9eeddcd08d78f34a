// The exit status of a run or test over scenario results (scenario.md): 2 when any scenario hit
// an input error (each printed as one file:line:column line on stderr), else 1 when an
// expectation failed, else 0.
import type { ScenarioResult } from '../scenario/run-result.js';

/** Writes each result's input error to stderr as `file:line:column: message`. */
export function writeInputErrors(results: readonly ScenarioResult[]): void {
  for (const r of results) {
    if (r.error) process.stderr.write(`${r.file}:${r.error.line}:${r.error.column}: ${r.error.message}\n`);
  }
}

export function exitStatus(results: readonly ScenarioResult[]): number {
  writeInputErrors(results);
  if (results.some((r) => r.error)) return 2;
  return results.some((r) => !r.ok) ? 1 : 0;
}

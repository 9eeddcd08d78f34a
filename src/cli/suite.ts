// A test suite: which files it holds, how they are split across CI machines, and how one file's
// scenarios are loaded and run. Shared by the inline path and the worker threads (pool.ts), so both
// give the same results.

import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { nodeFamily, registerDrivers } from '../drivers/index.js';
import { compileScenario } from '../scenario/compile.js';
import { InputError } from '../scenario/input-error.js';
import { loadStream } from '../scenario/load.js';
import type { Scenario } from '../scenario/model.js';
import type { ScenarioResult } from '../scenario/run-result.js';
import { runScenario } from '../scenario/runner.js';
import { pausePoints, scenarioFiles } from './commands/run.js';

export const DEFAULT_SUITE = 'fixtures';
/**
 * Folders holding inputs meant to be rejected, not scenarios to pass: skipped when met while walking
 * a folder (so `vioctl test fixtures/` is the suite), tested when named on the command line.
 */
const NOT_SCENARIOS = new Set(['bad-input', 'hostile']);

export interface SuiteOptions {
  kernel?: string;
  patch?: string[];
  bail?: boolean;
  /** --fail-nth */
  failNth?: number;
}

/** One file's outcome: its results in document order, or the input error that stopped its loading. */
export type FileOutcome =
  | { file: string; results: ScenarioResult[]; inputError?: undefined }
  | { file: string; inputError: string; results?: undefined };

/** The files of a suite in input order: `run`'s walk, without the rejected-input folders inside it. */
export function suiteFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const top of paths.length > 0 ? paths : [DEFAULT_SUITE]) {
    const skip = (f: string) =>
      relative(top, f)
        .split(sep)
        .slice(0, -1)
        .some((d) => NOT_SCENARIOS.has(d));
    out.push(...scenarioFiles([top]).filter((f) => !skip(f)));
  }
  return out;
}

/** Parses `I/N` (1 ≤ I ≤ N), or says why not. */
export function parseShard(s: string): { index: number; count: number } | string {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    return `--shard: expected I/N with 1 ≤ I ≤ N, got "${s}"`;
  }
  return { index, count };
}

/**
 * Shard I of N: files dealt round-robin in input order. By file, never by scenario, so a file's
 * scenarios stay together; round-robin keeps neighbouring (similar-sized) files apart.
 */
export function shardFiles(files: readonly string[], shard: { index: number; count: number }): string[] {
  return files.filter((_, i) => i % shard.count === shard.index - 1);
}

/** Loads and checks every scenario of one file, as `run` does. */
export function loadFile(file: string, opts: SuiteOptions): Scenario[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new InputError(file, 1, 1, 'cannot read the file');
  }
  const out: Scenario[] = [];
  for (const doc of loadStream(text, file)) {
    if (doc.value === null) continue; // an empty document (a trailing ---)
    out.push(
      compileScenario(file, doc, {
        ...(opts.kernel !== undefined ? { kernel: opts.kernel } : {}),
        patches: opts.patch ?? [],
        nodeFamily,
        pausePoints,
        ...(opts.failNth !== undefined ? { failNth: opts.failNth } : {}),
      }),
    );
  }
  return out;
}

export const failed = (r: ScenarioResult): boolean => !r.ok || r.error !== undefined;

/**
 * Loads every file first (an input error anywhere means nothing runs, as for `run`), then runs
 * them in order; with bail, stops after the first failing scenario. `onFile` sees each file's outcome.
 */
export function runFiles(
  files: readonly string[],
  opts: SuiteOptions,
  onFile: (o: FileOutcome) => void = () => {},
): FileOutcome[] {
  const loaded: { file: string; scenarios: Scenario[] }[] = [];
  for (const file of files) {
    try {
      loaded.push({ file, scenarios: loadFile(file, opts) });
    } catch (e) {
      if (e instanceof InputError) return [{ file, inputError: e.format() }];
      throw e;
    }
  }
  const out: FileOutcome[] = [];
  for (const { file, scenarios } of loaded) {
    const results: ScenarioResult[] = [];
    const o: FileOutcome = { file, results };
    out.push(o);
    for (const s of scenarios) {
      const r = runScenario(s, { register: registerDrivers });
      results.push(r);
      if (opts.bail && failed(r)) break;
    }
    onFile(o);
    if (opts.bail && results.some(failed)) break;
  }
  return out;
}

/**
 * Outcomes as the inline path would give them, whatever order chunks finished in: the first input
 * error alone, else with bail everything up to and including the first failing scenario.
 */
export function settle(outcomes: readonly FileOutcome[], bail: boolean): FileOutcome[] {
  const bad = outcomes.find((o) => o.inputError !== undefined);
  if (bad) return [bad];
  if (!bail) return [...outcomes];
  const out: FileOutcome[] = [];
  for (const o of outcomes) {
    const results = o.results ?? [];
    const i = results.findIndex(failed);
    if (i < 0) {
      out.push(o);
      continue;
    }
    out.push({ file: o.file, results: results.slice(0, i + 1) });
    break;
  }
  return out;
}

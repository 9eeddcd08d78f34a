// What a run produces, before any rendering. Values stay exact (bigint); only
// src/report turns them into text or JSON. The shape mirrors the JSON contract
// of scenario.md ("What a run prints").
import type { FaultRecord } from '../kernel/fault.js';
import type { Diagnostic } from '../kernel/registry.js';
import type { Site } from '../kernel/result.js';
import type { StepTotals } from './step-log.js';

/** An output value: bigints are 64-bit quantities (printed as hex), numbers are ≤ 32-bit values. */
export type OutValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly OutValue[]
  | { readonly [k: string]: OutValue };

export type ExpectStatus = 'none' | 'pass' | 'fail';

export interface StepRecord {
  index: number;
  process: string;
  op: string;
  /** the ioctl name, a raw number's name or hex, else the action's main argument */
  call: string;
  /** short argument summary for the step table */
  args: string;
  /** null when the call did not return (blocks, paused, bug, skipped) */
  ret: number | bigint | null;
  errno: string | null;
  errnoNum?: number;
  site?: Site;
  out: OutValue;
  expect: ExpectStatus;
  /** why an expectation failed, one line each */
  expectFailures?: string[];
  diagnostics: Diagnostic[];
  blocks?: true;
  paused?: string;
  skipped?: true;
  bug?: { site: Site; stack: string[] };
  note?: string;
  /** faults injected while this step ran (fail_nth) */
  faults?: FaultRecord[];
}

export type StateRowOut = Record<string, OutValue>;

/** The state keys every result has, in the contract's order (scenario.md); a driver's extra keys follow. */
export const STATE_KEYS = [
  'processes',
  'fds',
  'vhost',
  'vrings',
  'iotlb',
  'pending',
  'vfio_groups',
  'pci',
  'tasks',
  'diagnostics',
] as const;

export interface RunState {
  processes: StateRowOut[];
  fds: StateRowOut[];
  vhost: StateRowOut[];
  vrings: StateRowOut[];
  iotlb: StateRowOut[];
  pending: StateRowOut[];
  vfio_groups: StateRowOut[];
  pci: StateRowOut[];
  tasks: StateRowOut[];
  diagnostics: StateRowOut[];
  [key: string]: StateRowOut[];
}

export interface RunError {
  line: number;
  column: number;
  message: string;
}

export interface ScenarioResult {
  scenario: string;
  description?: string;
  file: string;
  kernel: string;
  patches: string[];
  ok: boolean;
  /** the steps' records: all of them, or (a summary step log) the ones a long text report prints */
  steps: StepRecord[];
  /** counts over every step run, whether or not its record was kept */
  stepTotals: StepTotals;
  state: RunState;
  /** every step's diagnostics with its index, then the final state's with step null */
  diagnostics: { step: number | null; code: string; message: string }[];
  error?: RunError;
  /** the run's fail_nth (scenario key or --fail-nth), when one was armed */
  failNth?: number;
  /** with fail_nth (the run's or a step's): every injected fault, and how many fault points the run reached */
  faults?: { points: number; injected: FaultRecord[] };
}

// A loaded scenario: the validated document, its steps and where each came from.
import type { Machine } from '../kernel/machine.js';
import type { LoadedDocument, YamlPath } from './load.js';

export const ACTIONS = [
  'open',
  'close',
  'ioctl',
  'write',
  'read',
  'poll',
  'eventfd',
  'signal',
  'mmap',
  'poke',
  'peek',
  'munmap',
  'fork',
  'spawn',
  'pass',
  'exit',
  'sysfs',
  'readlink',
  'ls',
  'bind',
  'unbind',
  'inspect',
  'resume',
] as const;

export type Action = (typeof ACTIONS)[number];

/** Actions of the contract that belong to driver families not built yet (VFIO, PCI sysfs). */
export const NOT_YET: ReadonlySet<Action> = new Set();

export const COMMON_KEYS = ['process', 'as', 'save', 'expect', 'note', 'pause_at', 'fail_nth'] as const;

/** The keys each action takes besides the common ones. */
export const ACTION_KEYS: Readonly<Record<Action, readonly string[]>> = {
  open: ['flags'],
  close: [],
  ioctl: ['fd', 'arg', 'argp'],
  write: ['iotlb', 'version', 'len', 'header', 'data'],
  read: ['len', 'nonblock'],
  poll: ['events'],
  eventfd: ['value'],
  signal: ['value'],
  mmap: ['size', 'shared', 'memfd', 'object', 'fd', 'offset', 'prot', 'at'],
  poke: ['offset', 'value', 'width'],
  peek: ['offset', 'width'],
  munmap: [],
  fork: ['caps'],
  spawn: ['caps'],
  pass: ['to'],
  exit: [],
  sysfs: ['value'],
  readlink: [],
  ls: [],
  bind: [],
  unbind: [],
  inspect: ['fd', 'where'],
  resume: [],
};

export type Raw = Record<string, unknown>;

export interface Step {
  readonly index: number;
  readonly action: Action;
  /** the action key's value */
  readonly main: unknown;
  /** the whole step map */
  readonly raw: Raw;
  readonly process: string;
  readonly path: YamlPath;
}

export interface Scenario {
  readonly file: string;
  readonly doc: LoadedDocument;
  readonly name: string;
  readonly description?: string;
  readonly kernel: string;
  readonly patches: string[];
  readonly machine: Machine;
  readonly steps: Step[];
  /** fail_nth: the Nth fault point of the run fails (src/kernel/fault.ts); absent or 0: none */
  readonly failNth?: number;
}

// The JSON Schema (draft 2020-12) of scenario files, generated from the loader's own tables: the
// actions and their keys (src/scenario/model.ts), the top-level and IOTLB keys (compile.ts, asked
// by probing, since it does not export them), ioctl names, errno names, profiles and patches. The
// schema is never stricter than the loader: a key it has no type for accepts anything.
import { PATCHES, profileVersions } from '../kernel/profile.js';
import { FAIL_NTH_MAX, IOTLB_KEYS, STATE_KEYS_INSPECTABLE, TOP_KEYS } from '../scenario/compile.js';
import { ACTION_KEYS, ACTIONS, type Action, COMMON_KEYS, NOT_YET } from '../scenario/model.js';
import { ERRNO_ALIASES, ERRNO_NAMES } from '../uapi/errno.js';
import { ALL_IOCTLS } from '../uapi/ioctls.js';
import { IOTLB_TYPES } from './iotlb-text.js';

type Schema = Record<string, unknown>;

const topKeys = (): string[] => [...TOP_KEYS];
const iotlbKeys = (): string[] => [...IOTLB_KEYS];

const ref = (name: string): Schema => ({ $ref: `#/$defs/${name}` });
const str = (description?: string): Schema => ({ type: 'string', ...(description ? { description } : {}) });
const bool: Schema = { type: 'boolean' };
const anyOf = (...xs: Schema[]): Schema => ({ anyOf: xs });
const failNth = (description: string): Schema => ({
  type: 'integer',
  minimum: 0,
  maximum: FAIL_NTH_MAX,
  description,
});
/**
 * The loader's rule for sysfs: / readlink: / ls: paths (compile.ts): absolute, under one of the
 * roots followed by a slash, and no `..` component.
 */
const sysfsPath = (roots: string): string => `^/(?:${roots})/(?!(?:[\\s\\S]*/)?\\.\\.(?:/|$))`;

const DEFS: Schema = {
  value: {
    description: 'an integer (decimal, 0x hex), a size (4K, 1G), a name, or an expression string',
    type: ['integer', 'string'],
  },
  fd: { description: 'an fd name, $name or a number', type: ['string', 'integer'] },
  ioctl: anyOf(
    { enum: ALL_IOCTLS.map((d) => d.name) },
    { type: 'integer', description: 'a raw request number' },
    { type: 'string', pattern: '^(0[xX][0-9a-fA-F]+|[0-9]+)$', description: 'a raw request number' },
  ),
  errno: { enum: [...ERRNO_NAMES, ...Object.keys(ERRNO_ALIASES)] },
  expect: anyOf(
    { type: 'integer', description: 'the return value' },
    { enum: ['blocks', 'bug'] },
    { $ref: '#/$defs/errno' },
    { type: 'string', description: 'an expression for the return value' },
    {
      type: 'object',
      properties: {
        ret: {},
        errno: ref('errno'),
        out: {},
        site: { type: 'object' },
        diagnostics: {},
        blocks: { type: 'boolean' },
        paused: { type: 'string' },
      },
      additionalProperties: false,
    },
  ),
};

/** What an action key's value is. */
const MAIN: Partial<Record<Action, Schema>> = {
  open: { type: 'string', pattern: '^/dev/', description: 'a device node path' },
  close: ref('fd'),
  ioctl: ref('ioctl'),
  write: ref('fd'),
  read: ref('fd'),
  poll: ref('fd'),
  signal: ref('fd'),
  pass: ref('fd'),
  eventfd: str('the eventfd name'),
  mmap: str('the mapping name'),
  poke: str('a mapping name'),
  peek: str('a mapping name'),
  munmap: str('a mapping name'),
  fork: str('the new process name'),
  spawn: str('the new process name'),
  exit: str('a process name'),
  sysfs: { type: 'string', pattern: sysfsPath('sys') },
  readlink: { type: 'string', pattern: sysfsPath('sys') },
  ls: { type: 'string', pattern: sysfsPath('sys|dev') },
  bind: { type: 'object', properties: { device: str('a BDF'), driver: str('a driver name') } },
  unbind: str('a BDF'),
  inspect: { enum: STATE_KEYS_INSPECTABLE },
  resume: str('a task name, or "#INDEX"'),
};

function iotlbSchema(): Schema {
  const props: Schema = {};
  for (const k of iotlbKeys()) props[k] = ref('value');
  props.type = anyOf({ enum: IOTLB_TYPES.map((t) => t.short) }, { type: 'integer' });
  props.perm = anyOf({ enum: ['RO', 'WO', 'RW', 'NONE'] }, ref('value'));
  return { type: 'object', properties: props, additionalProperties: false };
}

/** Types of the keys whose values have one shape in every action that takes them. */
function keyTypes(): Record<string, Schema> {
  return {
    process: str('the process performing the step (default main)'),
    as: str('names the result: an fd, a task'),
    save: anyOf(str('the output value becomes $NAME'), {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: '{name: output field}',
    }),
    expect: ref('expect'),
    note: str(),
    pause_at: str('a pause point of the operation (vioctl explain lists them)'),
    fail_nth: failNth("the Nth fault point of this step's call fails (ENOMEM or EFAULT at that site)"),
    fd: ref('fd'),
    argp: ref('value'),
    flags: anyOf({ type: 'array', items: { type: 'string' } }, { type: 'string' }),
    iotlb: iotlbSchema(),
    version: { enum: [1, 2] },
    len: ref('value'),
    header: ref('value'),
    data: str('hex bytes'),
    nonblock: bool,
    size: ref('value'),
    shared: bool,
    memfd: bool,
    object: str('an earlier memfd mapping'),
    offset: ref('value'),
    prot: { enum: ['rw', 'r', 'w', 'none'] },
    at: ref('value'),
    width: { enum: [1, 2, 4, 8] },
    caps: { type: 'array', items: { type: 'string', pattern: '^CAP_[A-Z_]+$' } },
    to: str('the receiving process'),
    where: { type: 'object' },
  };
}

function stepSchema(action: Action, types: Record<string, Schema>): Schema {
  const props: Schema = { [action]: MAIN[action] ?? {} };
  for (const k of [...COMMON_KEYS, ...ACTION_KEYS[action]]) props[k] = types[k] ?? {};
  const s: Schema = { type: 'object', required: [action], properties: props, additionalProperties: false };
  if (NOT_YET.has(action)) s.description = 'not modelled by this vioctl yet';
  return s;
}

export function scenarioSchema(): Schema {
  const types = keyTypes();
  const top: Schema = {
    name: str('what the scenario shows'),
    description: str(),
    kernel: {
      type: 'string',
      enum: profileVersions(),
      description: 'a quoted kernel profile; default "6.12"',
    },
    patches: { type: 'array', items: { enum: Object.keys(PATCHES) } },
    machine: { type: 'object', description: 'overrides of the default machine (machine.md)' },
    steps: { type: 'array', items: ref('step') },
    fail_nth: failNth('the Nth fault point of the run fails (ENOMEM or EFAULT at that site); 0: none'),
  };
  const properties: Schema = {};
  for (const k of topKeys()) properties[k] = top[k] ?? {};
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'vioctl scenario',
    description: 'A vioctl scenario file (scenario.md). Generated by `vioctl schema`: do not edit.',
    type: 'object',
    required: ['name', 'steps'],
    properties,
    additionalProperties: false,
    $defs: { ...DEFS, step: { oneOf: ACTIONS.map((a) => stepSchema(a, types)) } },
  };
}

// Hostile input (issue 7, part 3): every file here must give exactly one line FILE:LINE:COLUMN:
// message on stderr, nothing on stdout and exit 2 through the real CLI, which runs under Node's
// permission model (it may read only its own code and the file named; no child processes, no
// workers, no writes) with a probe that ends it on any network connection. Both loader paths
// (`yaml` and `fast`) must refuse each input with the same line, also when 2 MiB of comments in
// front keep the fast path from handing the input to the yaml path. Times and peak RSS are
// measured, never asserted: the table is printed at the end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { nodeFamily } from '../../src/drivers/index.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { InputError } from '../../src/scenario/input-error.js';
import { loadStream } from '../../src/scenario/load.js';

const D = 'fixtures/hostile';
const ROOT = resolve('.');
const PROBE = resolve('test/hostile/probe.mjs');
const PERMISSION = process.allowedNodeEnvironmentFlags.has('--permission')
  ? '--permission'
  : '--experimental-permission';
const TMP = mkdtempSync(join(tmpdir(), 'vioctl-hostile-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

interface Measured {
  name: string;
  bytes: number;
  ms: number;
  rssMiB: number;
  code: number | null;
}
const measured: Measured[] = [];
afterAll(() => {
  const rows = measured.map(
    (m) =>
      `${m.name.padEnd(28)} ${String(m.bytes).padStart(10)} B ${String(m.ms).padStart(6)} ms ` +
      `${m.rssMiB.toFixed(0).padStart(5)} MiB  exit ${m.code}`,
  );
  console.log(`vioctl run on hostile input (wall time, peak RSS):\n${rows.join('\n')}`);
});

/** `vioctl run FILE` in a child allowed to read its code and FILE only. */
function cli(file: string, name: string) {
  const abs = resolve(file);
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [
      '--no-warnings',
      PERMISSION,
      `--allow-fs-read=${join(ROOT, 'bin', 'vioctl.js')}`,
      `--allow-fs-read=${join(ROOT, 'dist', 'vioctl.mjs')}`,
      `--allow-fs-read=${PROBE}`,
      `--allow-fs-read=${abs}`,
      '--max-old-space-size=2048',
      '--import',
      pathToFileURL(PROBE).href,
      'bin/vioctl.js',
      'run',
      file,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const ms = Date.now() - started;
  let rssMiB = Number.NaN;
  try {
    rssMiB = (JSON.parse(String(r.output[3] ?? '')) as { maxRssKiB: number }).maxRssKiB / 1024;
  } catch {
    // no report: the process died before its exit handlers ran
  }
  let bytes = 0;
  try {
    bytes = readFileSync(file).length;
  } catch {}
  measured.push({ name, bytes, ms, rssMiB, code: r.status });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** What loading and checking every document says, on one loader path. */
function refusal(text: string, file: string, path: 'yaml' | 'fast'): string {
  try {
    for (const doc of loadStream(text, file, { path })) {
      if (doc.value !== null) compileScenario(file, doc, { nodeFamily });
    }
    return 'accepted';
  } catch (e) {
    if (e instanceof InputError) return e.format();
    return `crash: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}

/** The one clear line, exit 2, nothing on stdout, no stack trace. */
function expectOneLine(r: { code: number | null; out: string; err: string }, file: string, want: RegExp) {
  expect(r.err).not.toMatch(/\n\s+at |probe:/);
  expect(r.out).toBe('');
  expect(r.code).toBe(2);
  const lines = r.err.split('\n');
  expect(lines.length, r.err).toBe(2);
  expect(lines[1]).toBe('');
  const line = lines[0]!;
  expect(line.startsWith(`${file}:`), line).toBe(true);
  const rest = line.slice(file.length + 1);
  expect(rest).toMatch(/^\d+:\d+: \S/);
  expect(rest).toMatch(want);
  return line;
}

// [fixture, the expected "LINE:COLUMN: message" (a regular expression)]
const CASES: [string, RegExp][] = [
  ['malformed-flow', /^3:1: yaml syntax error: flow sequence/],
  ['tab-indent', /^4:1: yaml syntax error: tabs are not allowed as indentation$/],
  ['duplicate-key-nested', /^6:5: duplicate key 'as'/],
  ['duplicate-key-quoted', /^3:1: duplicate key 'name'/],
  ['alias-bomb', /^8:12: aliases expand to more than \d+ values/],
  ['alias-unknown', /^3:8: unknown alias '\*nope'/],
  ['alias-cycle', /^3:12: alias '\*s' is inside the node it refers to/],
  ['merge-key', /^5:5: merge key '<<' is not supported/],
  ['tag-js-function', /^2:7: tag '!!js\/function' is not allowed/],
  ['tag-python-object', /^3:8: tag '!!python\/object\/apply:os.system' is not allowed/],
  ['tag-js-undefined', /^2:7: tag '!<tag:yaml.org,2002:js\/undefined>' is not allowed/],
  ['tag-include', /^3:8: tag '!include' is not allowed/],
  ['tag-directive', /^4:7: tag '!e!foo' is not allowed/],
  ['tag-on-key', /^2:1: tag '!!str' is not allowed/],
  ['tag-binary', /^7:11: tag '!!binary' is not allowed/],
  ['binary-junk', /^1:1: not a text file/],
  ['invalid-utf8', /^1:1: not a text file/],
  ['control-char', /^2:12: unexpected control character U\+0007/],
  ['lone-cr', /^2:9: unexpected carriage return without a line feed/],
  ['overflow-u64', /^8:10: 0x10000000000000000 does not fit a 64-bit field$/],
  ['overflow-u32', /^8:27: 0x100000000 does not fit a 32-bit field$/],
  ['overflow-s32', /^8:10: -0x80000001 does not fit a 32-bit field$/],
  ['overflow-u8-poke', /^7:12: 0x100 does not fit a 8-bit field$/],
  ['float-infinity', /^5:11: expected an integer.*Infinity/],
  ['expr-divide-by-zero', /^8:13: division by zero$/],
  ['expr-modulo-zero', /^8:13: division by zero$/],
  ['expr-shift-too-far', /^8:13: shift count too large$/],
  ['expr-shift-2g', /^8:14: shift count too large$/],
  ['expr-negative-shift', /^8:13: negative shift count$/],
  ['expr-huge-product', /^8:10: 0x1000+ does not fit a 64-bit field$/],
  ['proto-top', /^3:1: unknown key "__proto__" in a scenario/],
  ['proto-machine', /^3:23: unknown key "__proto__" in machine/],
  ['proto-arg', /^8:23: vhost_vring_state has no field "__proto__"/],
  ['proto-iotlb', /^8:14: unknown key "constructor" in an IOTLB message/],
  ['constructor-step', /^5:5: unknown key "constructor" in an open step/],
  ['path-etc', /^4:11: open: expected a device node path under \/dev, got "\/etc\/passwd"$/],
  ['sysfs-escape', /^4:\d+: .*sys/],
  ['kernel-path', /^3:9: unknown kernel profile "\/etc\/passwd"/],
  ['json-ref', /^3:8: steps: expected a list of steps$/],
  ['path-dotdot', /^4:11: open: expected a device node path under \/dev, got "\/dev\/..\/etc\/passwd"$/],
  ['path-dotdot-deep', /^4:11: open: expected a device node path under \/dev/],
  ['proto-expect', /^5:15: unknown key "__proto__" in an expectation/],
];

/**
 * Oversized arguments are not input errors: write() reads one message whatever len says, and a
 * memory table past max_mem_regions is E2BIG before its regions are read; each runs to its end.
 */
const OVERSIZED = ['write-len-huge', 'write-len-64k', 'write-data-huge', 'memtable-huge'];

/**
 * Known bugs (reported, not fixed here): each test asserts the behaviour the contract asks for and
 * is expected to fail until the fix lands; remove the name from this list then.
 */
const KNOWN_BUGS: [string, RegExp, string][] = [];

/** 2 MiB of comments: above FALLBACK_MAX, so the fast path words its refusal itself. */
const PAD = '# padding so that the fast path cannot hand this input to the yaml path ...........\n'.repeat(
  26000,
);
const padLines = 26000;

function bothPaths(name: string, text: string, file: string, cliLine?: string) {
  const y = refusal(text, file, 'yaml');
  const f = refusal(text, file, 'fast');
  expect(f, `${name}: fast path vs yaml path`).toBe(y);
  if (cliLine !== undefined) expect(y).toBe(cliLine);
  expect(y).not.toMatch(/^crash:/);
}

/**
 * Known divergence: above FALLBACK_MAX (2 MiB) the fast path words YAML syntax errors as js-yaml
 * does (load.ts says so); the position agrees, the message does not.
 */
const WORDING = new Set(['malformed-flow', 'tab-indent']);

describe('hostile input through vioctl run', () => {
  test.each(CASES)('%s', (name, want) => {
    const file = `${D}/${name}.yaml`;
    const line = expectOneLine(cli(file, name), file, want);
    bothPaths(name, readFileSync(file, 'utf8'), file, line);
  });

  const padded = (name: string) => {
    // the same input behind 2 MiB of comments: the same message, 26 000 lines later
    const file = `${D}/${name}.yaml`;
    const text = PAD + readFileSync(file, 'utf8');
    const line = refusal(text, file, 'yaml');
    expect(refusal(text, file, 'fast')).toBe(line);
    const plain = refusal(readFileSync(file, 'utf8'), file, 'yaml');
    if (!/not a text file/.test(plain)) {
      const m = /^(.*?):(\d+):(\d+): (.*)$/.exec(plain)!;
      expect(line).toBe(`${m[1]}:${Number(m[2]) + padLines}:${m[3]}: ${m[4]}`);
    }
  };
  test.each(CASES.filter((c) => !WORDING.has(c[0])))('%s behind 2 MiB of comments', (name) => padded(name));
  test.fails.each([...WORDING])('known divergence: %s behind 2 MiB of comments', (name) => padded(name));

  test.each(OVERSIZED)('%s runs to its end without an internal error', (name) => {
    const r = cli(`${D}/${name}.yaml`, name);
    expect([0, 1]).toContain(r.code);
    expect(r.err).toBe('');
  });

  test('every fixture in fixtures/hostile has a case here', async () => {
    const { readdirSync } = await import('node:fs');
    const names = readdirSync(D)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.replace(/\.yaml$/, ''))
      .sort();
    expect(names).toEqual([...CASES.map((c) => c[0]), ...KNOWN_BUGS.map((c) => c[0]), ...OVERSIZED].sort());
  });
});

/** Inputs too big to commit, written to a temporary folder. */
const STEP =
  '  - write: vs\n    iotlb: { type: UPDATE, iova: 0x1000, size: 0x1000, uaddr: "$m", perm: RW }\n';
function steps(bytes: number): string {
  return STEP.repeat(Math.ceil(bytes / STEP.length));
}
const HEAD =
  'name: huge\nkernel: "6.1"\nsteps:\n  - open: /dev/vhost-vsock\n    as: vs\n  - mmap: m\n    size: 4K\n';

const GENERATED: [string, () => string, RegExp, { yamlPath: boolean }][] = [
  [
    'deep-flow-100k',
    () => `name: deep\nsteps: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
    /^2:\d+: nesting deeper than \d+ levels/,
    { yamlPath: true },
  ],
  [
    'deep-block-500',
    () => `name: deep\nsteps:\n${Array.from({ length: 500 }, (_, i) => `${'  '.repeat(i)}- a:\n`).join('')}`,
    /^\d+:\d+: nesting deeper than \d+ levels/,
    { yamlPath: true },
  ],
  [
    'expr-parens-100k',
    () =>
      `${HEAD}  - ioctl: VHOST_SET_FEATURES\n    fd: vs\n    arg: "${'('.repeat(1e5)}1${')'.repeat(1e5)}"\n`,
    /^10:\d+: expression longer than/,
    { yamlPath: true },
  ],
  [
    'alias-bomb-wide',
    () =>
      `name: wide\nmachine:\n  a: &a [${Array(5000).fill('x').join(', ')}]\n` +
      `  b: [${Array(5000).fill('*a').join(', ')}]\nsteps: []\n`,
    /^4:\d+: aliases expand to more than \d+ values/,
    { yamlPath: true },
  ],
  ['huge-70MiB', () => HEAD + steps(70 * 1024 * 1024), /^1:1: file too large/, { yamlPath: true }],
  [
    'huge-scalar-10MB',
    () => `name: "${'a'.repeat(10_000_000)}"\n`,
    /^1:1: missing required key "steps"$/,
    { yamlPath: true },
  ],
  [
    'huge-2.2MB-dup-at-end',
    () => `${HEAD + steps(2_200_000)}  - close: vs\n    close: vs\n`,
    /^\d+:5: duplicate key 'close'/,
    { yamlPath: true },
  ],
  // the yaml path would take ~20 s and ~2 GB here (guide/yaml-loader.md): the fast path alone
  [
    'huge-20MB-dup-at-end',
    () => `${HEAD + steps(20_000_000)}  - close: vs\n    close: vs\n`,
    /^\d+:5: duplicate key 'close'/,
    { yamlPath: false },
  ],
];

describe('generated hostile input (tens of MB, deep nesting)', () => {
  test.each(GENERATED)('%s', (name, make, want, opts) => {
    const file = join(TMP, `${name}.yaml`);
    const text = make();
    writeFileSync(file, text);
    const line = expectOneLine(cli(file, name), file, want);
    if (opts.yamlPath) bothPaths(name, text, file, line);
    else expect(refusal(text, file, 'fast')).toBe(line);
  });
});

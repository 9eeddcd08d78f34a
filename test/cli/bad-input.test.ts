// Bad input through the real CLI: one line with file:line:column and what was
// expected, nothing on stdout, exit 2, never a stack trace.
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vioctl.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const d = 'fixtures/bad-input';
const CASES: [string, string][] = [
  ['bad-indent', `${d}/bad-indent.yaml:4:1: yaml syntax error: sequence item without - indicator`],
  ['binary-junk', `${d}/binary-junk.yaml:1:1: not a text file: expected UTF-8 text without NUL bytes`],
  [
    'code-tag',
    `${d}/code-tag.yaml:3:11: tag '!!js/function' is not allowed: expected a plain value without a tag`,
  ],
  ['divide-by-zero', `${d}/divide-by-zero.yaml:4:17: division by zero`],
  [
    'duplicate-key',
    `${d}/duplicate-key.yaml:5:5: duplicate key 'as': expected each key at most once in a map`,
  ],
  [
    'family-not-modelled',
    `${d}/family-not-modelled.yaml:4:11: open: /dev/vhost-net is a vhost-net node, which the kernel profile does not model`,
  ],
  [
    'machine-orphan-bus',
    `${d}/machine-orphan-bus.yaml:7:12: 0000:04:00.0 sits on bus 4, which no bridge provides`,
  ],
  ['missing-steps', `${d}/missing-steps.yaml:1:1: missing required key "steps"`],
  [
    'not-a-map',
    `${d}/not-a-map.yaml:1:1: a scenario must be a map with name and steps, got "just a string, not a scenario"`,
  ],
  [
    'patch-on-old-kernel',
    `${d}/patch-on-old-kernel.yaml:2:9: patch "vhost-iotlb-remap" is based on 6.10: it cannot be applied to kernel "6.1"`,
  ],
  [
    'unknown-action',
    `${d}/unknown-action.yaml:5:5: unknown action "frobnicate" (expected one of: open, close, ioctl,`,
  ],
  [
    'unknown-bit',
    `${d}/unknown-bit.yaml:7:32: unknown name 'VIRTIO_F_BOGUS' (expected a constant or feature-bit name`,
  ],
  ['unknown-fd-name', `${d}/unknown-fd-name.yaml:4:9: no fd named "vsock" in process "main"`],
  ['unknown-ioctl', `${d}/unknown-ioctl.yaml:5:12: unknown ioctl "VHOST_GET_FEATURE"`],
  ['unknown-key', `${d}/unknown-key.yaml:5:5: unknown key "expct" in an open step (expected one of: open,`],
  [
    'unknown-patch',
    `${d}/unknown-patch.yaml:3:11: unknown patch "vhost-iotlb-remapp" (known: vhost-iotlb-remap, vhost-new-owner)`,
  ],
  ['unknown-variable', `${d}/unknown-variable.yaml:8:11: no value named "$nope" here`],
  [
    'unquoted-kernel',
    `${d}/unquoted-kernel.yaml:2:9: kernel: expected a quoted string such as "6.10", got the number 6.1`,
  ],
  ['value-too-wide', `${d}/value-too-wide.yaml:8:10: 0x100000000 does not fit a 32-bit field`],
];

describe('vioctl run on bad input', () => {
  test.each(CASES)('%s', (name, want) => {
    const r = run('run', `${d}/${name}.yaml`);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    const lines = r.err.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.startsWith(want)).toBe(true);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  test('every bad-input fixture has a case here', async () => {
    const { readdirSync } = await import('node:fs');
    const names = readdirSync(d)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.replace(/\.yaml$/, ''));
    expect(names.sort()).toEqual(CASES.map((c) => c[0]).sort());
  });

  test('a file that does not exist is exit 2 with its name', () => {
    const r = run('run', 'fixtures/no-such-file.yaml');
    expect(r.code).toBe(2);
    expect(r.err).toBe('fixtures/no-such-file.yaml:1:1: no such file or folder\n');
  });

  test('an unknown option is a usage error: exit 2', () => {
    const r = run('run', '--bogus', `${d}/unknown-key.yaml`);
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--bogus'");
  });

  test('an unknown --kernel is exit 2', () => {
    const r = run('run', '--kernel', '9.9', 'fixtures/stories/qemu-vsock-masked.yaml');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown kernel profile "9\.9"/);
  });
});

describe('vioctl run exit codes and output', () => {
  test('the stories pass: exit 0, tables on stdout, no ANSI escapes in a pipe', () => {
    const r = run('run', 'fixtures/stories');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain('VHOST_VSOCK_SET_RUNNING');
    expect(r.out).not.toContain('\x1b[');
  });

  test('--json prints one array for several scenarios, parseable, with the contract keys', () => {
    const r = run('run', '--json', 'fixtures/stories/crosvm-vsock-access-platform.yaml');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { kernel: string; ok: boolean; steps: unknown[] }[];
    expect(doc.map((x) => x.kernel)).toEqual(['5.10', '5.15', '6.1']);
    expect(Object.keys(doc[0]!)).toEqual([
      'scenario',
      'file',
      'kernel',
      'patches',
      'ok',
      'steps',
      'state',
      'diagnostics',
    ]);
  });

  test('a failed expectation exits 1 (the 5.15 expectations do not hold on 5.10)', () => {
    const r = run('run', '--kernel', '5.10', '--json', 'fixtures/stories/crosvm-vsock-fixed.yaml');
    expect(r.code).toBe(0);
    const bad = run(
      'run',
      '--kernel',
      '5.10',
      '--json',
      'fixtures/stories/crosvm-vsock-access-platform.yaml',
    );
    expect(bad.code).toBe(1);
  });
});

// `vioctl diff` through the real CLI: the crosvm break between 5.10 and 5.15 in one command, an
// identical pair, a patch on side B, and the usage errors.
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vioctl.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const CROSVM = 'fixtures/stories/crosvm-vsock-access-platform.yaml';

describe('vioctl diff', () => {
  test('crosvm: VHOST_VSOCK_SET_RUNNING succeeds on 5.10 and fails with EFAULT on 5.15', () => {
    const r = run('diff', '--kernel', '5.10', '--kernel', '5.15', CROSVM);
    expect(r.code).toBe(1);
    // the file's first scenario, its own kernel: "5.10" overridden on both sides
    const first = r.out.split('\n\n')[0]!;
    expect(first).toContain('crosvm vsock start on 5.10 (ACCESS_PLATFORM not offered)');
    expect(first).toContain('A: 5.10   B: 5.15');
    expect(first).toMatch(/#2 main VHOST_GET_FEATURES {2}fd=vsock\n +out +0x13d000000 +→ {2}0x33d000002/);
    const running = first.slice(first.indexOf('#21 main VHOST_VSOCK_SET_RUNNING'));
    expect(running).toMatch(/^#21 main VHOST_VSOCK_SET_RUNNING {2}fd=vsock arg=1\n +ret +0 +→ {2}-1\n/);
    expect(running).toMatch(/errno +- +→ {2}EFAULT \(Bad address\)/);
    expect(running).toMatch(/site +5\.10: -\n +5\.15: vhost_update_used_flags: /);
    expect(running).toContain('+ vhost-iotlb-miss-at-start: ');
    expect(first).toMatch(/final state\n {4}vhost\n {6}- .*"running":true.*\n {6}\+ .*"running":false/);
    // one block per scenario of the file
    expect(r.out.match(/^ {2}A: 5\.10 {3}B: 5\.15$/gm)).toHaveLength(3);
  });

  test('identical sides: no difference, exit 0', () => {
    const r = run('diff', '--kernel', '6.1', '--kernel', '6.1', 'fixtures/vhost/vhost-net-tap.yaml');
    expect(r.code).toBe(0);
    expect(r.out).toContain('  no difference\n');
  });

  test('one --kernel with --patch compares the profile without and with the patch', () => {
    const r = run(
      'diff',
      '--kernel',
      '6.10',
      '--patch',
      'vhost-new-owner',
      'fixtures/vhost/vhost-net-tap.yaml',
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('A: 6.10   B: 6.10 +vhost-new-owner');
  });

  test('expectation results are not part of the diff', () => {
    // the 5.15 story's expectations fail on 5.10 and hold on 5.15; only calls are compared
    const r = run('diff', '--kernel', '5.15', '--kernel', '6.1', CROSVM);
    expect(r.out).not.toMatch(/expect/);
  });

  test('bad input and usage: exit 2', () => {
    expect(run('diff', '--kernel', '5.10', CROSVM).code).toBe(2);
    expect(run('diff', '--kernel', '5.10', '--kernel', '5.15', '--kernel', '6.1', CROSVM).code).toBe(2);
    const bad = run('diff', '--kernel', '5.10', '--kernel', '9.9', CROSVM);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown kernel profile "9\.9"/);
    expect(bad.out).toBe('');
    expect(
      run('diff', '--kernel', '6.1', '--kernel', '6.6', 'fixtures/bad-input/unknown-key.yaml').code,
    ).toBe(2);
  });
});

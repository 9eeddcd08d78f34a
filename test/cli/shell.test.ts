import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadScenarios } from '../../src/cli/commands/run.js';
import { parseShortStep, ShellSession, stepLine } from '../../src/cli/commands/shell.js';

describe('vioctl shell: steps typed one at a time', () => {
  test('short forms and YAML flow style give the same steps', () => {
    expect(parseShortStep('open /dev/vhost-vsock as vsock')).toEqual({
      open: '/dev/vhost-vsock',
      as: 'vsock',
    });
    expect(parseShortStep('ioctl vsock VHOST_GET_FEATURES')).toEqual({
      ioctl: 'VHOST_GET_FEATURES',
      fd: 'vsock',
    });
    expect(parseShortStep('ioctl vsock VHOST_SET_VRING_NUM arg={index: 0, num: 256}')).toEqual({
      ioctl: 'VHOST_SET_VRING_NUM',
      fd: 'vsock',
      arg: { index: 0n, num: 256n },
    });
    expect(parseShortStep('{ioctl: VHOST_GET_FEATURES, fd: vsock}')).toEqual({
      ioctl: 'VHOST_GET_FEATURES',
      fd: 'vsock',
    });
  });

  test('each step answers at once; a bad step is refused and the session stays as it was', () => {
    const s = new ShellSession({ kernel: '6.1' });
    expect(s.try(parseShortStep('open /dev/vhost-vsock as vsock')).error).toBeUndefined();
    const r = s.try(parseShortStep('ioctl vsock VHOST_SET_MEM_TABLE'));
    const last = r.result!.steps.at(-1)!;
    expect(last.errno).toBe('EPERM');
    expect(stepLine(last)).toContain('EPERM Operation not permitted');
    expect(s.try(parseShortStep('ioctl vsock VHOST_NO_SUCH')).error).toMatch(/unknown ioctl "VHOST_NO_SUCH"/);
    expect(s.steps).toHaveLength(2);
  });

  test('.kernel re-runs the session on another profile; .save writes results as expectations', () => {
    const s = new ShellSession({ kernel: '5.10' });
    s.try(parseShortStep('open /dev/vhost-vsock as vsock'));
    s.try(parseShortStep('ioctl vsock VHOST_GET_FEATURES'));
    expect(s.last!.steps[1]!.out).toBe(0x13d000000n);
    s.kernel = '6.1';
    expect(s.try().result!.steps[1]!.out).toBe(0x33d000002n);
    s.try(parseShortStep('ioctl vsock VHOST_VSOCK_SET_RUNNING arg=1'));
    const file = join(tmpdir(), `vioctl-shell-${process.pid}.yaml`);
    writeFileSync(file, s.scenarioText(true));
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('expect: EPERM');
    const [scen] = loadScenarios([file], {});
    expect(scen!.steps).toHaveLength(3);
  });
});

describe('vioctl shell -e through the real CLI', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/vioctl.js', 'shell', ...args], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });

  test('one-liners run in order and print the step table; exit 0', () => {
    const r = run('--kernel', '6.1', '-e', 'open /dev/vhost-vsock as vs; ioctl vs VHOST_GET_FEATURES');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('0x33d000002');
    expect(r.stdout).toContain('kernel 6.1');
  });

  test('a bad step is one line on stderr and exit 2', () => {
    const r = run('-e', 'ioctl nosuchfd VHOST_GET_FEATURES');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no fd named "nosuchfd"/);
  });
});

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

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

describe('vioctl shell interactive, with a script piped into it (stdin not a TTY)', () => {
  // bin/vioctl, the launcher users run: it starts from the startup snapshot, where node:repl
  // cannot start, so the interactive shell must be handed to the bundle
  const session = (lines: string[], ...args: string[]) =>
    spawnSync('bin/vioctl', ['shell', ...args], {
      encoding: 'utf8',
      input: `${lines.join('\n')}\n`,
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 30_000,
    });

  test('steps answer at once; .state, .undo, .kernel, .save; the saved file runs', () => {
    const saved = join(tmpdir(), `vioctl-shell-${process.pid}.yaml`);
    const r = session(
      [
        'open /dev/vhost-vsock as vsock',
        'ioctl vsock VHOST_SET_OWNER',
        '{ioctl: VHOST_GET_FEATURES, fd: vsock}',
        'ioctl nosuch VHOST_GET_FEATURES',
        '.state',
        '.undo',
        '.kernel 5.10',
        'ioctl vsock VHOST_GET_FEATURES',
        '.kernel 9.99',
        `.save ${saved}`,
      ],
      '--kernel',
      '6.1',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout.split('vioctl ').map((s) => s.trimEnd());
    // each answer follows the prompt of the line that asked for it
    expect(out).toContain('6.1> #0 open /dev/vhost-vsock = 3');
    expect(out).toContain('6.1> #1 VHOST_SET_OWNER = 0');
    expect(out).toContain('6.1> #2 VHOST_GET_FEATURES = 0  out 0x33d000002');
    expect(r.stdout).toMatch(/6\.1> error: .*no fd named "nosuch"/);
    // .state: the tables of the session so far, the owner set
    expect(r.stdout).toMatch(/│ main +│ 3 +│ vsock +│ 1 +│ \/dev\/vhost-vsock/);
    expect(r.stdout).toMatch(/│ 1 +│ \/dev\/vhost-vsock +│ main +│/);
    expect(out).toContain('6.1> 2 steps');
    // .kernel re-runs the two steps left on 5.10, and the prompt follows
    expect(r.stdout).toContain('6.1> #0 open /dev/vhost-vsock = 3\n#1 VHOST_SET_OWNER = 0\n');
    expect(out).toContain('5.10> #2 VHOST_GET_FEATURES = 0  out 0x13d000000');
    expect(r.stdout).toMatch(/5\.10> error: .*9\.99/);
    expect(out).toContain(`5.10> wrote ${saved} (3 steps)`);

    const yaml = readFileSync(saved, 'utf8');
    expect(yaml).toContain('kernel: "5.10"');
    expect(yaml.match(/expect: /g)).toHaveLength(3);
    const run = spawnSync('bin/vioctl', ['run', saved], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('0x13d000000');
  });

  test('the launcher and the bundle answer a piped session alike', () => {
    const lines = ['open /dev/vhost-net as net', 'ioctl net VHOST_GET_FEATURES', '.undo'];
    const snap = session(lines);
    const esm = spawnSync(process.execPath, ['bin/vioctl.js', 'shell'], {
      encoding: 'utf8',
      input: `${lines.join('\n')}\n`,
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(snap.status).toBe(0);
    expect(snap.stdout).toBe(esm.stdout);
    expect(snap.stdout).toContain('#1 VHOST_GET_FEATURES = 0');
    expect(snap.stdout).toContain('1 steps');
  });
});

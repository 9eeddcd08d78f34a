// bin/vioctl starts from the V8 startup snapshot the build makes (or from the bundle when
// there is none): it must answer byte for byte as bin/vioctl.js does, exit codes included.
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';

const env = { ...process.env, NO_COLOR: '1' };
const both = (...args: string[]) => [
  spawnSync('bin/vioctl', args, { encoding: 'utf8', env }),
  spawnSync(process.execPath, ['bin/vioctl.js', ...args], { encoding: 'utf8', env }),
];

describe('bin/vioctl (the startup snapshot launcher)', () => {
  test.each([
    [['run', '--json', 'fixtures/stories/crosvm-vsock-access-platform.yaml']],
    [['run', 'fixtures/stories/vfio-unbind-window.yaml']],
    [['run', 'fixtures/bad-input/unknown-key.yaml']],
    // the yaml package is outside the snapshot (dist/vioctl-yaml.cjs): this input needs it
    [['run', 'fixtures/hostile/tag-python-object.yaml']],
    // every story: the JIT stays on for a folder
    [['run', 'fixtures/stories']],
    [['run', '--kernel', '5.10', 'fixtures/stories/crosvm-vsock-access-platform.yaml']],
    [['--version']],
    [['run', '--bogus']],
  ])('%j gives the same stdout, stderr and exit code', (args) => {
    const [snap, esm] = both(...args);
    expect(snap!.status).toBe(esm!.status);
    expect(snap!.stdout).toBe(esm!.stdout);
    expect(snap!.stderr).toBe(esm!.stderr);
  });

  test("--version is vioctl's, not node's", () => {
    const [snap] = both('--version');
    expect(snap!.stdout.trim()).toBe('0.1.0');
  });
});

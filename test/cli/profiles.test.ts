// `vioctl profiles` through the real CLI: every profile and patch, in text and JSON.
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { PATCHES, profileVersions } from '../../src/kernel/profile.js';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vioctl.js', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('vioctl profiles', () => {
  test('lists every profile with what changed, and every patch', () => {
    const r = run('profiles');
    expect(r.code).toBe(0);
    for (const v of profileVersions())
      expect(r.out).toMatch(new RegExp(`^  ${v.replace('.', '\\.')} +\\S`, 'm'));
    for (const p of Object.keys(PATCHES)) expect(r.out).toContain(`  ${p}\n`);
    expect(r.out).toMatch(/6\.12 .*\[default\]/);
    expect(r.out).toMatch(/vs 5\.10: .*\+vsock-iotlb/);
  });

  test('--json', () => {
    const j = JSON.parse(run('profiles', '--json').out);
    expect(j.profiles.map((p: { version: string }) => p.version)).toEqual(profileVersions());
    const p610 = j.profiles.find((p: { version: string }) => p.version === '6.10');
    expect(p610.patches).toEqual(Object.keys(PATCHES));
    expect(j.patches[0].profiles).toContain('6.12');
  });
});

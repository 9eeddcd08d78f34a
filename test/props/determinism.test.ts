// Determinism (issue 7, part 4): every scenario fixture (not the bad or hostile inputs) gives
// byte-identical tables and JSON across two runs in one process, and across a run of the real CLI
// in a child process with another time zone, locale and environment.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { jsonOf, runFiles, textOf } from '../helpers/run.js';

const EXCLUDED = new Set(['fixtures/bad-input', 'fixtures/hostile']);

function fixtures(dir = 'fixtures'): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      if (!EXCLUDED.has(p)) out.push(...fixtures(p));
    } else if (/\.ya?ml$/.test(e)) out.push(p);
  }
  return out;
}

const FILES = fixtures();

function child(file: string, json: boolean) {
  const r = spawnSync(process.execPath, ['bin/vioctl.js', 'run', ...(json ? ['--json'] : []), file], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      NO_COLOR: '1',
      TZ: 'Pacific/Chatham',
      LANG: 'tr_TR.UTF-8',
      LC_ALL: 'tr_TR.UTF-8',
    },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the same scenario gives the same output', () => {
  test('there are fixtures to check', () => {
    expect(FILES.length).toBeGreaterThan(3);
  });

  test.each(FILES)('%s', (file) => {
    const a = runFiles([file]);
    const b = runFiles([file]);
    const textA = textOf(a);
    const jsonA = jsonOf(a);
    expect(textOf(b)).toBe(textA);
    expect(jsonOf(b)).toBe(jsonA);
    const j = child(file, true);
    expect(j.err).toBe('');
    expect(j.out).toBe(jsonA);
    const t = child(file, false);
    expect(t.out).toBe(textA);
    expect(t.code).toBe(j.code);
  });
});

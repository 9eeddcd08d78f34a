// Every behaviour fixture under fixtures/ (one scenario file per behaviour) runs
// with all its expectations holding. Stories have their own goldens; bad input
// is tested through the CLI.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runFiles } from '../helpers/run.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((e) => {
      const p = join(dir, e);
      if (statSync(p).isDirectory())
        return ['bad-input', 'hostile', 'stories'].includes(e) ? [] : yamlFiles(p);
      return e.endsWith('.yaml') ? [p] : [];
    });
}

describe.each(yamlFiles('fixtures'))('%s', (file) => {
  test('every expectation holds', () => {
    for (const r of runFiles([file])) {
      expect(r.error).toBeUndefined();
      expect(
        r.steps.filter((s) => s.expect === 'fail').map((s) => [s.index, s.call, s.expectFailures]),
      ).toEqual([]);
    }
  });
});

// The kernel stories under fixtures/stories: every expectation in them holds, and
// their printed output matches the goldens beside them (read by a person when
// they change: review the diff of fixtures/stories/*.out.*).
import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { jsonOf, runFiles, textOf } from '../helpers/run.js';

const dir = 'fixtures/stories';
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe.each(files)('%s', (file) => {
  const path = `${dir}/${file}`;
  const results = runFiles([path]);
  const base = path.replace(/\.yaml$/, '');

  test('every scenario runs and every expectation holds', () => {
    for (const r of results) {
      expect(r.error).toBeUndefined();
      expect(r.steps.filter((s) => s.expect === 'fail').map((s) => [s.index, s.expectFailures])).toEqual([]);
      expect(r.ok).toBe(true);
    }
  });

  test('text output matches the golden', async () => {
    await expect(textOf(results)).toMatchFileSnapshot(`../../${base}.out.txt`);
  });

  test('JSON output matches the golden', async () => {
    await expect(jsonOf(results)).toMatchFileSnapshot(`../../${base}.out.json`);
  });

  test('the same scenario prints the same bytes twice', () => {
    expect(jsonOf(runFiles([path]))).toBe(jsonOf(results));
  });
});

describe('the crosvm breakage', () => {
  const [r510, r515, r61] = runFiles([`${dir}/crosvm-vsock-access-platform.yaml`]);
  const running = (r: typeof r510) => r!.steps.find((s) => s.call === 'VHOST_VSOCK_SET_RUNNING')!;

  test('vhost_vsock_start @ 5.10 succeeds: ACCESS_PLATFORM is not in VHOST_VSOCK_FEATURES there', () => {
    expect(running(r510).ret).toBe(0);
  });

  test.each([
    ['5.15', r515],
    ['6.1', r61],
  ])('vhost_vsock_start @ %s fails with EFAULT at vhost_update_used_flags, with a diagnostic', (_v, r) => {
    const s = running(r);
    expect(s.errno).toBe('EFAULT');
    expect(s.site?.function).toBe('vhost_update_used_flags');
    expect(s.diagnostics.map((d) => d.code)).toContain('vhost-iotlb-miss-at-start');
    expect(r!.state.pending).toHaveLength(1);
  });
});

import { describe, expect, test } from 'vitest';
import { toJson } from '../../src/report/json.js';
import { step, vsockResult } from './fixtures.js';

describe('toJson', () => {
  test('one document for a single scenario, 2-space indent, trailing newline', () => {
    const text = toJson([vsockResult()], true);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "scenario": ');
    const doc = JSON.parse(text);
    expect(Array.isArray(doc)).toBe(false);
    expect(Object.keys(doc)).toEqual([
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

  test('an array for several scenarios, in order', () => {
    const a = vsockResult();
    const b = { ...vsockResult(), scenario: 'second', description: 'the second one' };
    const doc = JSON.parse(toJson([a, b], false));
    expect(doc.map((d: { scenario: string }) => d.scenario)).toEqual([a.scenario, 'second']);
    expect(Object.keys(doc[1]).slice(4, 7)).toEqual(['ok', 'description', 'steps']);
    expect(JSON.parse(toJson([a], false))).toHaveLength(1);
  });

  test('step key order; errnoNum, site and expectFailures only on failure', () => {
    const doc = JSON.parse(toJson([vsockResult()], true));
    expect(Object.keys(doc.steps[0])).toEqual([
      'index',
      'process',
      'op',
      'call',
      'ret',
      'errno',
      'out',
      'expect',
      'diagnostics',
    ]);
    expect(Object.keys(doc.steps[3])).toEqual([
      'index',
      'process',
      'op',
      'call',
      'ret',
      'errno',
      'errnoNum',
      'out',
      'expect',
      'expectFailures',
      'site',
      'diagnostics',
    ]);
    expect(doc.steps[3]).toMatchObject({
      ret: -1,
      errno: 'EFAULT',
      errnoNum: 14,
      expectFailures: ['expected 0, got EFAULT'],
      site: { function: 'vq_memory_access_ok', check: '!umem', errno: 'EINVAL' },
      diagnostics: [{ code: 'vq-no-memtable', message: 'no memory table set' }],
    });
    expect(doc.steps[3]).not.toHaveProperty('args');
    expect(doc.diagnostics).toEqual([{ step: 3, code: 'vq-no-memtable', message: 'no memory table set' }]);
  });

  test('64-bit values are hex strings, numbers stay numbers', () => {
    const doc = JSON.parse(toJson([vsockResult()], true));
    expect(doc.steps[0].ret).toBe(3);
    expect(doc.steps[1].ret).toBe('0x7f0000000000');
    expect(doc.steps[2].out).toBe('0x33d000002');
    expect(doc.state.vhost[0]).toEqual({
      file: 1,
      path: '/dev/vhost-vsock',
      owner: 'main',
      features: '0x33d000002',
      backend_features: '0x0',
      iotlb: false,
    });
    expect(doc.state.iotlb[0].size).toBe('0x10000000000000000');
    expect(doc.state.iotlb[0].asid).toBe(0);
  });

  test('state keys: the fixed ones in spec order, then extra keys', () => {
    const r = vsockResult();
    r.state.kvm = [{ vm: 1 }];
    const doc = JSON.parse(toJson([r], true));
    expect(Object.keys(doc.state)).toEqual([
      'processes',
      'fds',
      'vhost',
      'vrings',
      'iotlb',
      'pending',
      'vfio_groups',
      'pci',
      'tasks',
      'diagnostics',
      'kvm',
    ]);
  });

  test('calls that did not return, a BUG, a run-time error', () => {
    const r = vsockResult();
    r.ok = false;
    r.steps = [
      step(0, { ret: null, blocks: true, expect: 'pass' }),
      step(1, { ret: null, paused: 'unbind:device-removed' }),
      step(2, {
        ret: null,
        bug: { site: { function: 'vfio_group_put', check: 'BUG_ON', errno: 'EINVAL' }, stack: ['a', 'b'] },
      }),
      step(3, { ret: null, skipped: true, expect: 'fail', note: 'process killed' }),
    ];
    r.error = { line: 12, column: 5, message: '$x has no value' };
    const doc = JSON.parse(toJson([r], true));
    expect(doc.steps[0]).toMatchObject({ ret: null, blocks: true });
    expect(doc.steps[1].paused).toBe('unbind:device-removed');
    expect(doc.steps[2].bug).toEqual({
      site: { function: 'vfio_group_put', check: 'BUG_ON', errno: 'EINVAL' },
      stack: ['a', 'b'],
    });
    expect(doc.steps[2]).not.toHaveProperty('site');
    expect(Object.keys(doc.steps[3]).slice(-3)).toEqual(['diagnostics', 'skipped', 'note']);
    expect(doc.steps[3].expectFailures).toEqual([]);
    expect(Object.keys(doc).at(-1)).toBe('error');
    expect(doc.error).toEqual({ line: 12, column: 5, message: '$x has no value' });
  });

  test('errnoNum is filled from the errno table when the record lacks it', () => {
    const r = vsockResult();
    r.steps = [step(0, { ret: -1, errno: 'ENOTTY' })];
    expect(JSON.parse(toJson([r], true)).steps[0].errnoNum).toBe(25);
  });

  test('byte-identical output for the same input', () => {
    expect(toJson([vsockResult(), vsockResult()], false)).toBe(toJson([vsockResult(), vsockResult()], false));
  });

  test('single with other than one result is refused', () => {
    expect(() => toJson([], true)).toThrow(RangeError);
  });
});

import { describe, expect, test } from 'vitest';
import { hex, jsonValue, shortValue, truncate } from '../../src/report/format.js';

describe('hex', () => {
  test('lowercase 0x', () => {
    expect(hex(0x33d000002n)).toBe('0x33d000002');
    expect(hex(0xabcdefn)).toBe('0xabcdef');
    expect(hex(0n)).toBe('0x0');
    expect(hex(1n << 64n)).toBe('0x10000000000000000');
  });
});

describe('jsonValue', () => {
  test('bigints become hex strings at any depth; other values stay', () => {
    const v = { a: 1n, b: [2n, 3, 'x', null, true], c: { d: 0xffn, e: 7 } };
    expect(jsonValue(v)).toEqual({ a: '0x1', b: ['0x2', 3, 'x', null, true], c: { d: '0xff', e: 7 } });
    expect(jsonValue(5)).toBe(5);
    expect(jsonValue(null)).toBe(null);
  });

  test('key order is kept', () => {
    expect(Object.keys(jsonValue({ z: 1, a: 2n, m: 3 }) as object)).toEqual(['z', 'a', 'm']);
  });
});

describe('shortValue', () => {
  test('scalars', () => {
    expect(shortValue(0x33d000002n)).toBe('0x33d000002');
    expect(shortValue(42)).toBe('42');
    expect(shortValue(null)).toBe('null');
    expect(shortValue(false)).toBe('false');
    expect(shortValue('/dev/vhost-vsock')).toBe('/dev/vhost-vsock');
    expect(shortValue('')).toBe('""');
  });

  test('flow maps and lists', () => {
    expect(shortValue({ index: 0, num: 256 })).toBe('{index: 0, num: 256}');
    expect(shortValue([{ start: 0n, end: 0xfffffn }])).toBe('[{start: 0x0, end: 0xfffff}]');
    expect(shortValue(['0000:01:00.0', 'a, b', '12', ''])).toBe('[0000:01:00.0, "a, b", "12", ""]');
    expect(shortValue([])).toBe('[]');
  });

  test('long values are cut with …', () => {
    const s = shortValue(Array.from({ length: 10_000 }, (_, i) => i));
    expect(s.length).toBe(60);
    expect(s.endsWith('…')).toBe(true);
    expect(s.startsWith('[0, 1, 2')).toBe(true);
    expect(truncate('x'.repeat(100), 10)).toBe('xxxxxxxxx…');
  });
});

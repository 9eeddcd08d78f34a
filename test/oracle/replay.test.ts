// The oracle script interpreter itself: expressions, lines, constants and the comparison, on small
// hand-made recordings (the real ones are replayed in vsock.test.ts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  type EvalEnv,
  evalExpr,
  KONST_FEATURE_BITS,
  KONST_VALUES,
  konstValue,
  type OracleRecord,
  replayText,
  ScriptError,
  stripLine,
  summarize,
  tokenize,
} from './replay.js';

// A copy of the oracle's scripts and recordings (shared/oracle) lives in test/oracle/data, so the
// tests never need the oracle itself; VIOCTL_ORACLE points at a fresh recording instead.
const ORACLE = process.env.VIOCTL_ORACLE ?? 'test/oracle/data';

const env = (vars: Record<string, bigint> = {}): EvalEnv => ({
  variable: (n) => vars[n],
  mapping: (n) => (n === 'mem' ? 0x7ffff7ef9000n : undefined),
  fd: (n) => (n === 'k0' ? 4n : undefined),
});
const ev = (s: string, vars?: Record<string, bigint>): bigint => evalExpr(s, env(vars));

describe('expressions (runner.c ex_expr)', () => {
  test('binary operators go strictly left to right', () => {
    expect(ev('1+2*3')).toBe(9n);
    expect(ev('$F&~BIT(33)|BIT(32)', { F: 0x33d000002n })).toBe(0x13d000002n);
    expect(ev('1|2<<4')).toBe(0x30n);
    expect(ev('(1|2)^1')).toBe(2n);
  });

  test('numbers: decimal, 0x hex, 0 octal; 64-bit unsigned', () => {
    expect(ev('0x10000')).toBe(0x10000n);
    expect(ev('010')).toBe(8n);
    expect(ev('0')).toBe(0n);
    expect(ev('0xffffffffffffffff')).toBe(0xffffffffffffffffn);
    expect(() => ev('0x10000000000000000')).toThrow(ScriptError);
    expect(ev('-1')).toBe(0xffffffffffffffffn);
    expect(ev('~0')).toBe(0xffffffffffffffffn);
    expect(ev('0-1')).toBe(0xffffffffffffffffn);
    expect(ev('0xffffffffffffffff+2')).toBe(1n);
  });

  test('BIT(n), names and errors', () => {
    expect(ev('BIT(63)')).toBe(1n << 63n);
    expect(ev('BIT(64)')).toBe(0n);
    expect(ev('BIT(VIRTIO_F_ACCESS_PLATFORM)')).toBe(1n << 33n);
    expect(ev('@mem+0x2000')).toBe(0x7ffff7efb000n);
    expect(ev('%k0')).toBe(4n);
    expect(() => ev('$NOPE')).toThrow(ScriptError);
    expect(() => ev('NO_SUCH_CONSTANT')).toThrow(ScriptError);
    expect(() => ev('1 2')).toThrow(ScriptError);
    expect(() => ev('(1')).toThrow(ScriptError);
  });

  test('constants have the oracle meaning: feature names are bit numbers, flags are masks', () => {
    expect(konstValue('VIRTIO_F_ACCESS_PLATFORM')).toBe(33n);
    expect(konstValue('VIRTIO_F_IOMMU_PLATFORM')).toBe(33n);
    expect(konstValue('VHOST_BACKEND_F_IOTLB_ASID')).toBe(3n);
    expect(konstValue('VHOST_F_LOG_ALL')).toBe(26n);
    expect(konstValue('VHOST_ACCESS_RW')).toBe(3n);
    expect(konstValue('VIRTIO_CONFIG_S_FEATURES_OK')).toBe(8n);
    expect(konstValue('IFF_TAP')).toBe(2n);
    expect(konstValue('VFIO_TYPE1v2_IOMMU')).toBe(3n);
  });

  test('every konsts[] name resolves', () => {
    const missing = [...KONST_FEATURE_BITS, ...KONST_VALUES].filter((n) => konstValue(n) === undefined);
    expect(missing).toEqual([]);
  });

  test.skipIf(!existsSync(join(ORACLE, 'runner.c')))('the list is runner.c konsts[]', () => {
    const c = readFileSync(join(ORACLE, 'runner.c'), 'utf8');
    const table = c.slice(c.indexOf('#define K(x)') + 12, c.indexOf('{ NULL, 0 }'));
    const names = [...table.matchAll(/K\((\w+)\)/g)].map((m) => m[1]);
    expect([...KONST_FEATURE_BITS, ...KONST_VALUES].sort()).toEqual(names.sort());
  });
});

describe('lines and words (runner.c exec_line, tokenize)', () => {
  test('comments, blank lines and trailing blanks', () => {
    expect(stripLine('  # a comment')).toBeNull();
    expect(stripLine('')).toBeNull();
    expect(stripLine('read vs timeout=0  # poll first ')).toBe('read vs timeout=0');
    expect(stripLine('echo a#b')).toBe('echo a#b');
  });

  test('quotes group words and are dropped', () => {
    expect(tokenize('echo "two words" x="a b"c')).toEqual(['echo', 'two words', 'x=a bc']);
    expect(tokenize('  ioctl\tvs  VHOST_GET_FEATURES ')).toEqual(['ioctl', 'vs', 'VHOST_GET_FEATURES']);
  });
});

/** A recording from compact rows: [n, op, ret, errno, err, extra]. */
function recording(script: string, rows: [number, number | null, number, Record<string, unknown>?][]) {
  const lines = script.split('\n');
  return rows.map(([n, ret, errno, extra]): OracleRecord => {
    const src = stripLine(lines[n - 1]!)!;
    const rec: OracleRecord = { n, op: tokenize(src)[0]!, src, ...extra };
    if (ret !== null) Object.assign(rec, { ret, errno, err: errno ? 'E' : null });
    return rec;
  });
}

describe('replay', () => {
  const script = [
    'open vs /dev/vhost-vsock',
    'ioctl vs VHOST_GET_FEATURES save=F',
    'ioctl vs VHOST_SET_OWNER',
    'ioctl vs VHOST_SET_FEATURES features=$F',
    'open c /dev/vhost-scsi',
    'ioctl c VHOST_GET_FEATURES',
    'eventfd k',
    'read vs timeout=0',
  ].join('\n');

  test('ret, errno and the main outputs are compared; unmodelled files keep their fd number', () => {
    const rows = replayText(
      script,
      recording(script, [
        [1, 3, 0],
        [2, 0, 0, { features: '0x33d000002' }],
        [3, 0, 0],
        [4, 0, 0],
        [5, 4, 0],
        [6, 0, 0],
        [7, 5, 0],
        [8, -1, 11, { poll: 0, revents: '0x0' }],
      ]),
      '6.1',
    );
    expect(rows.map((r) => [r.line, r.status])).toEqual([
      [1, 'match'],
      [2, 'match'],
      [3, 'match'],
      [4, 'match'],
      [5, 'unsupported'],
      [6, 'unsupported'],
      [7, 'match'],
      [8, 'match'],
    ]);
    expect(summarize(rows)).toEqual({ match: 6, mismatch: 0, unsupported: 2 });
  });

  test('a different output or errno is a mismatch that says what differs', () => {
    const rows = replayText(
      script,
      recording(script, [
        [1, 3, 0],
        [2, 0, 0, { features: '0x33d000000' }],
        [3, -1, 16],
        [4, 0, 0],
        [5, 4, 0],
        [6, 0, 0],
        [7, 5, 0],
        [8, -1, 11, { poll: 1, revents: '0x1' }],
      ]),
      '6.1',
    );
    const bad = rows.filter((r) => r.status === 'mismatch');
    expect(bad.map((r) => r.line)).toEqual([2, 3, 8]);
    expect(bad[0]!.detail).toContain('features');
    expect(bad[1]!.want.errno).toBe(16);
    expect(bad[1]!.got.errno).toBe(0);
    expect(bad[2]!.detail).toContain('revents');
  });

  test('the IOTLB MISS read back is compared in the oracle address space', () => {
    const s = [
      'mmap mem 0x100000',
      'open vs /dev/vhost-vsock',
      'ioctl vs VHOST_SET_OWNER',
      'ioctl vs VHOST_SET_FEATURES features=BIT(VIRTIO_F_ACCESS_PLATFORM)',
      'ioctl vs VHOST_SET_MEM_TABLE region=0:0x100000:@mem',
      'ioctl vs VHOST_SET_VRING_ADDR index=0 desc=@mem avail=@mem+0x1000 used=@mem+0x2000',
      'ioctl vs VHOST_VSOCK_SET_RUNNING running=1',
      'read vs timeout=100',
      'read vs block',
    ].join('\n');
    const miss = (iova: string) => ({
      poll: 1,
      revents: '0x1',
      msgtype: 1,
      asid: 0,
      iotlb: { iova, size: '0x0', uaddr: '0x0', perm: 1, type: 1, type_name: 'MISS' },
    });
    const rec = (iova: string) =>
      recording(s, [
        [1, 0, 0, { addr: '0x7ffff7ef9000', size: '0x100000' }],
        [2, 3, 0],
        [3, 0, 0],
        [4, 0, 0],
        [5, 0, 0],
        [6, 0, 0],
        [7, -1, 14],
        [8, 72, 0, miss(iova)],
        [9, -1, 4, { poll: 0, revents: '0x0' }],
      ]);
    const good = replayText(s, rec('0x7ffff7efb000'), '6.1');
    expect(good.map((r) => r.status)).toEqual(Array(9).fill('match'));
    expect(good[8]!.detail).toContain('SIGALRM');
    const bad = replayText(s, rec('0x7ffff7efc000'), '6.1');
    expect(bad.filter((r) => r.status === 'mismatch').map((r) => r.line)).toEqual([8]);
  });

  test('a fork block runs in a child that is not the owner, then exits', () => {
    const s = [
      'open vs /dev/vhost-vsock',
      'ioctl vs VHOST_SET_OWNER',
      'fork',
      'ioctl vs VHOST_SET_OWNER',
      'endfork',
    ];
    const text = s.join('\n');
    const recs = recording(text, [
      [1, 3, 0],
      [2, 0, 0],
      [3, null, 0, { child_exit: 0 }],
    ]);
    recs.splice(2, 0, { ...recording(text, [[4, -1, 16]])[0]!, proc: 'child' });
    const rows = replayText(text, recs, '6.1');
    expect(rows.map((r) => [r.line, r.proc, r.status])).toEqual([
      [1, 'parent', 'match'],
      [2, 'parent', 'match'],
      [4, 'child', 'match'],
      [3, 'parent', 'match'],
    ]);
  });
});

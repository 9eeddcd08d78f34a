import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { loadStream } from '../../src/scenario/load.js';
import { readSubset } from '../../src/scenario/subset.js';

// The subset reader (src/scenario/subset.ts) may decline anything, but what it accepts it must read
// exactly as the fast path (js-yaml with the Tracker) does, and it must never accept what the fast
// path refuses: it has no error messages of its own.

const MAX_DEPTH = 64;

function walk(d: string): string[] {
  return readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.yaml') ? [p] : [];
  });
}

/** the fast path's values, or undefined where it refuses the text */
function fastValues(text: string): unknown[] | undefined {
  try {
    return loadStream(text, 'x.yaml', { path: 'fast' }).map((d) => d.value);
  } catch {
    return undefined;
  }
}

/** the subset's answer for a text loadStream would give it (after checkText, which refuses first) */
function subsetValues(text: string): unknown[] | undefined {
  try {
    loadStream(text, 'x.yaml', { path: 'fast' });
  } catch {
    // refused before or by the fast path: the subset must decline the same text
    return readSubset(text, MAX_DEPTH) === undefined ? undefined : ['accepted a refused text'];
  }
  return readSubset(text, MAX_DEPTH);
}

function agree(text: string): boolean {
  const s = subsetValues(text);
  if (s === undefined) return true;
  expect(s).toStrictEqual(fastValues(text));
  return true;
}

const FIXTURES = walk('fixtures').filter((f) => !f.includes('/hostile/'));

describe('readSubset agrees with the fast path', () => {
  test('every fixture: declined, or the same values (and most are read)', () => {
    let read = 0;
    for (const f of FIXTURES) {
      const text = readFileSync(f, 'utf8');
      if (subsetValues(text) !== undefined) read++;
      agree(text);
    }
    // machine-shaped fixtures (no anchors, block scalars or odd keys) are the subset's own
    expect(read).toBeGreaterThan(FIXTURES.length / 2);
  });

  test('the large-scenario shape is read, with bigint values and null-prototype maps', () => {
    const text =
      'name: big\nkernel: "6.1"\nsteps:\n  - open: /dev/vhost-vsock\n    as: vs\n' +
      '  - write: vs\n    iotlb: {type: UPDATE, iova: 0x1000, size: 0x1000, uaddr: 0x7f0000000000, perm: RW}\n    expect: 72\n';
    const v = readSubset(text, MAX_DEPTH) as { steps: { iotlb?: Record<string, unknown> }[] }[];
    expect(v).toStrictEqual(fastValues(text));
    expect(v[0]!.steps[1]!.iotlb!.uaddr).toBe(0x7f0000000000n);
    expect(Object.getPrototypeOf(v[0]!.steps[1]!.iotlb)).toBeNull();
  });

  // each is valid YAML the subset must decline (or read right), or a refusal it must leave alone
  const EDGES = [
    'a: 1\na: 2\n', // duplicate key
    '1: x\n', // a key that is not a string
    '<<: {a: 1}\n', // merge key
    'a: &x 1\nb: *x\n', // anchors and aliases
    'a: !!str 1\n', // a tag
    'a: |\n  text\n', // a block scalar
    'a: one\n  two\n', // a multi-line plain scalar
    'a: "x\\ty"\n', // an escape
    'a:\n- x\n', // a sequence at the key's column
    'a: b: c\n', // a compact mapping
    'a: [1, 2,]\n', // a trailing comma
    'a: {b: 1,\n  c: 2}\n', // a flow map over two lines
    'a:\tb\n', // a tab
    'a: b\r\n', // CRLF
    'k: v#not a comment\nl: "q"#bad\n',
    '---\na: 1\n---\nb: 2\n', // documents
    '# only a comment\n',
    'a: 1\n...\n',
    '%YAML 1.2\n---\na: 1\n',
    'a: [x: 1]\n',
    'a: {x}\n',
    '__proto__: 1\n',
    "a: 'it''s'\nb: \"\"\nc: ''\n",
    'a:    spaced   out   \nb: -1\nc: -x\nd: .5\ne: 6.10\nf: yes\ng: ~\nh: null\n',
    'a: http://x:8080/y\nb: {c: /d/e}\n',
    'a:\n  b:\n    - c: 1\n      d: [e, {f: g}]\n    - h\n',
    'a:\n  - b: 1\n   c: 2\n', // a key off the map's column
    'a: 1\n b: 2\n',
    '- a\n- b\n', // a sequence at the root
    'a: "unterminated\n',
    'a: 0o17\nb: 0x\nc: +5\nd: 1e3\ne: .inf\n',
  ];
  test.each(EDGES.map((t) => [JSON.stringify(t).slice(0, 48), t]))('%s', (_l, text) => {
    expect(agree(text)).toBe(true);
  });

  // random edits of a real fixture: whatever the subset still reads, it reads as js-yaml does
  const base = readFileSync('fixtures/stories/crosvm-vsock-fixed.yaml', 'utf8');
  const junk = fc.constantFrom(
    ' ',
    '  ',
    '\n',
    ':',
    '-',
    '#',
    '"',
    "'",
    '{',
    '}',
    '[',
    ']',
    ',',
    '&',
    '*',
    'x',
    '0x1',
  );
  const edit = fc.tuple(fc.nat({ max: base.length }), fc.nat({ max: 3 }), junk);
  test.prop([fc.array(edit, { minLength: 1, maxLength: 4 })], { numRuns: 300 })(
    'random edits of a fixture',
    (edits) => {
      let t = base;
      for (const [at, del, s] of edits) {
        const i = Math.min(at, t.length);
        t = t.slice(0, i) + s + t.slice(i + del);
      }
      return agree(t);
    },
  );

  // random documents in the subset's own style: read, and read right
  const word = fc.stringMatching(/^[a-z][a-z0-9_./-]{0,8}$/);
  const scalar = fc.oneof(
    word,
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((n) => `0x${n.toString(16)}`),
    fc.nat().map(String),
    fc.constantFrom('true', 'null', '~', 'RW', '6.10', '-3', '"quoted x"', "'it''s'", 'a b c'),
  );
  const flow = fc.dictionary(word, scalar, { maxKeys: 4 }).map(
    (o) =>
      `{${Object.entries(o)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')}}`,
  );
  const item = fc.dictionary(word, fc.oneof(scalar, flow), { minKeys: 1, maxKeys: 4 });
  const docText = fc
    .tuple(fc.dictionary(word, scalar, { maxKeys: 3 }), fc.array(item, { maxLength: 6 }))
    .map(([top, steps]) => {
      const lines = Object.entries(top).map(([k, v]) => `${k === 'steps' ? 'x' : k}: ${v}`);
      lines.push('steps:');
      for (const s of steps) {
        Object.entries(s).forEach(([k, v], i) => {
          lines.push(`${i === 0 ? '  - ' : '    '}${k}: ${v}${i === 1 ? '   # note' : ''}`);
        });
      }
      return `${lines.join('\n')}\n`;
    });
  test.prop([docText], { numRuns: 300 })('generated machine-style documents', (text) => {
    const fast = fastValues(text);
    if (fast !== undefined && !/steps:\n$/.test(text)) expect(readSubset(text, MAX_DEPTH)).toBeDefined();
    return agree(text);
  });
});

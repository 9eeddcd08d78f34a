// scripts/dep-patches.mjs patches string-width and cli-table3 inside the bundles, for speed only:
// the patched modules must return exactly what the locked versions return. Both are bundled
// here, with and without the patches, and run on the same random strings and tables.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { applyDepPatches, depPatches, depPatchPlugin } from '../../scripts/dep-patches.mjs';

const require = createRequire(import.meta.url);

interface Mods {
  stringWidth: (s: unknown) => number;
  Table: new (opts?: object) => { push(...rows: unknown[]): number; toString(): string };
}

/** string-width and cli-table3 as one CommonJS bundle, evaluated here */
async function load(patched: boolean): Promise<Mods> {
  const { build } = await import('esbuild');
  const r = await build({
    stdin: {
      contents: "module.exports = { stringWidth: require('string-width'), Table: require('cli-table3') };",
      resolveDir: process.cwd(),
      loader: 'js',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'error',
    plugins: patched ? [depPatchPlugin()] : [],
  });
  const mod = { exports: {} as Mods };
  new Function('module', 'exports', 'require', r.outputFiles[0]!.text)(mod, mod.exports, require);
  return mod.exports;
}

const orig = await load(false);
const fast = await load(true);

const esc = fc.constantFrom('\x1b[31m', '\x1b[39m', '\x1b[1m', '\x1b[22m', '\x1b[0m', '\x1b]8;;http://x\x07');
const piece = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    '…',
    '✓',
    '✗',
    '─',
    '│',
    '漢字',
    '👍',
    '👨‍👩‍👧',
    '1️⃣',
    '#️⃣',
    '\n',
    '\t',
    '\x7f',
    '\x1f',
    'e\u0301',
  ),
  esc,
);
const text = fc.array(piece, { maxLength: 6 }).map((a) => a.join(''));

describe('dependency patches (scripts/dep-patches.mjs)', () => {
  test('each applies exactly once to the locked file and changes it', () => {
    const files = new Set(depPatches.map((p) => p.file));
    const paths = [
      require.resolve('string-width'),
      require.resolve('cli-table3/src/cell.js'),
      require.resolve('cli-table3/src/utils.js'),
      require.resolve('cli-table3/src/layout-manager.js'),
    ];
    for (const f of files) expect(paths.some((p) => f.test(p))).toBe(true);
    for (const p of paths) {
      const src = readFileSync(p, 'utf8');
      expect(applyDepPatches(p, src)).not.toBe(src);
    }
  });

  test('a patch whose code moved fails the build', () => {
    const p = require.resolve('cli-table3/src/cell.js');
    expect(() => applyDepPatches(p, 'function firstDefined() {}')).toThrow(/does not apply/);
  });

  test('string-width: every Latin-1 character and its neighbours, the narrow signs in pairs', () => {
    for (let c = 0; c < 0x100; c++) {
      const s = String.fromCharCode(c);
      expect(fast.stringWidth(s)).toBe(orig.stringWidth(s));
      expect(fast.stringWidth(`a${s}b`)).toBe(orig.stringWidth(`a${s}b`));
    }
    // the narrow signs of the fast path (read from the patch itself), alone and in every pair
    // with ASCII
    const literal = /const NARROW = (\/.*\/);/.exec(depPatches[0]!.replace)![1]!;
    const narrow = new Function(`return ${literal}`)() as RegExp;
    const signs: string[] = [];
    for (let c = 0x7f; c < 0x10000; c++)
      if (narrow.test(String.fromCharCode(c))) signs.push(String.fromCharCode(c));
    expect(signs.join('')).toBe('§·–—…←→✓✗');
    const set = [...signs];
    for (let c = 0x20; c < 0x7f; c++) set.push(String.fromCharCode(c));
    for (const a of signs) {
      expect(orig.stringWidth(a)).toBe(1);
      for (const b of set) {
        expect(fast.stringWidth(a + b)).toBe(orig.stringWidth(a + b));
        expect(fast.stringWidth(b + a)).toBe(orig.stringWidth(b + a));
      }
    }
    expect(fast.stringWidth('0x33d000002')).toBe(11);
    expect(fast.stringWidth(undefined)).toBe(0);
    expect(fast.stringWidth(42)).toBe(orig.stringWidth(42));
  });

  test.prop([text], { numRuns: 2000 })('string-width: same width for any string', (s) => {
    expect(fast.stringWidth(s)).toBe(orig.stringWidth(s));
  });

  const cell = fc.oneof(
    text,
    fc.integer(),
    fc.record(
      {
        content: text,
        hAlign: fc.constantFrom('left', 'center', 'right'),
        chars: fc.constantFrom({ left: '<', right: '>' }, { left: null, right: undefined, mid: '=' }),
        style: fc.constantFrom(
          { 'padding-left': 2, 'padding-right': 0 },
          { 'padding-left': null, paddingRight: 3 },
        ),
      },
      { requiredKeys: ['content'] },
    ),
  );
  // No wordWrap and no spans at random: cli-table3 0.6.5 loops for ever wrapping a wide character
  // into a 1-column cell, and on many overlapping col/row spans (vioctl uses neither). Spans get
  // fixed layouts below.
  const options = fc.record(
    {
      head: fc.array(text, { maxLength: 4 }),
      colAligns: fc.array(fc.constantFrom('left', 'center', 'right'), { maxLength: 4 }),
      colWidths: fc.array(fc.option(fc.integer({ min: 1, max: 12 }), { nil: null }), { maxLength: 4 }),
      truncate: fc.constantFrom('…', '~'),
      style: fc.record({
        head: fc.constant([]),
        border: fc.constant([]),
        compact: fc.boolean(),
        'padding-left': fc.integer({ min: 0, max: 2 }),
        'padding-right': fc.integer({ min: 0, max: 2 }),
      }),
      chars: fc.constant({ mid: '-', 'left-mid': '+', 'top-left': '*' }),
    },
    { requiredKeys: ['style'] },
  );

  test.prop([options, fc.array(fc.array(cell, { maxLength: 4 }), { maxLength: 5 })], { numRuns: 400 })(
    'cli-table3: the same table text for any options and cells',
    (opts, rows) => {
      const draw = (m: Mods) => {
        const t = new m.Table(structuredClone(opts));
        t.push(...structuredClone(rows));
        try {
          return t.toString();
        } catch (e) {
          return `threw ${(e as Error).message}`;
        }
      };
      expect(draw(fast)).toBe(draw(orig));
    },
  );

  test('cli-table3: the same text for col and row spans', () => {
    const layouts: unknown[][][] = [
      [
        [{ content: 'a', colSpan: 2 }, 'b'],
        ['c', 'd', 'e'],
      ],
      [
        [{ content: 'tall\ncell', rowSpan: 2 }, 'x', 'y'],
        ['z', { content: '漢字…', hAlign: 'right' }],
      ],
      [[{ content: '\x1b[31mred\x1b[39m', colSpan: 3, hAlign: 'center' }], ['1', '2', '3']],
    ];
    for (const rows of layouts) {
      const draw = (m: Mods) => {
        const t = new m.Table({ head: ['h1', 'h2', 'h3'], style: { head: [], border: [] } });
        t.push(...structuredClone(rows));
        return t.toString();
      };
      expect(draw(fast)).toBe(draw(orig));
      expect(draw(fast).length).toBeGreaterThan(20);
    }
  });
});

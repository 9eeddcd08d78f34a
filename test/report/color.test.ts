import { describe, expect, test } from 'vitest';
import { colorLevel, makeChalk } from '../../src/report/color.js';

describe('colorLevel', () => {
  test.each([
    // [opts, env, isTTY, level]
    [{}, {}, true, 1],
    [{}, {}, false, 0],
    [{ json: true }, {}, true, 0],
    [{ json: true, color: true }, { FORCE_COLOR: '3' }, true, 0],
    [{ color: true }, {}, false, 1],
    [{ color: true }, { NO_COLOR: '1' }, false, 1],
    [{ color: true }, { FORCE_COLOR: '0' }, false, 1],
    [{ color: true }, { FORCE_COLOR: '3' }, false, 3],
    [{ color: false }, { FORCE_COLOR: '3' }, true, 0],
    [{}, { NO_COLOR: '1' }, true, 0],
    [{}, { NO_COLOR: '' }, true, 1],
    [{}, { NO_COLOR: '1', FORCE_COLOR: '2' }, true, 0],
    [{}, { FORCE_COLOR: '0' }, true, 0],
    [{}, { FORCE_COLOR: '1' }, false, 1],
    [{}, { FORCE_COLOR: '2' }, false, 2],
    [{}, { FORCE_COLOR: '3' }, false, 3],
    [{}, { FORCE_COLOR: '9' }, false, 3],
    [{}, { FORCE_COLOR: '' }, false, 1],
    [{}, { FORCE_COLOR: 'false' }, true, 0],
    [{}, { FORCE_COLOR: 'bogus' }, true, 1],
  ] as const)('%o %o tty=%s → %i', (opts, env, tty, level) => {
    expect(colorLevel(opts, env, tty)).toBe(level);
  });

  test('makeChalk gives that level', () => {
    expect(makeChalk(0).level).toBe(0);
    expect(makeChalk(0).red('x')).toBe('x');
    expect(makeChalk(1).red('x')).toContain('\x1b[');
  });
});

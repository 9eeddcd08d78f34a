import { describe, expect, test } from 'vitest';
import { type ExprEnv, ExprError, evalExpr, fitWidth, parseIntLiteral } from '../../src/scenario/values.js';

const names = new Map<string, bigint>([
  ['VIRTIO_F_VERSION_1', 32n],
  ['VHOST_VIRTIO', 0xafn],
  ['PAGE_SIZE', 4096n],
]);
const vars = new Map<string, bigint>([
  ['base', 0x1000n],
  ['n', 3n],
]);
const env: ExprEnv = {
  name: (id) => names.get(id),
  variable: (id) => vars.get(id),
};

const ev = (src: string): bigint => evalExpr(src, env);

/** The ExprError `src` throws, so a test can check both its message and its offset. */
function errorOf(src: string): ExprError {
  try {
    evalExpr(src, env);
  } catch (e) {
    if (e instanceof ExprError) return e;
    throw e;
  }
  throw new Error(`'${src}' evaluated without an error`);
}

describe('literals', () => {
  test.each([
    ['0', 0n],
    ['123', 123n],
    ['0x1F', 0x1fn],
    ['0X1f', 0x1fn],
    ['0xffffffffffffffff', 0xffffffffffffffffn],
    ['0xfffffffffffff', 0xfffffffffffffn], // 13 digits: the widest read through a double
    ['0x1FFFFFFFFFFFFF', 0x1fffffffffffffn],
    ['0b101', 5n],
    ['4K', 4096n],
    ['4KiB', 4096n],
    ['1M', 1n << 20n],
    ['2MiB', 2n << 20n],
    ['1G', 1n << 30n],
    ['3GiB', 3n << 30n],
    ['1T', 1n << 40n],
    ['1TiB', 1n << 40n],
    ['123456789012345678901234567890', 123456789012345678901234567890n],
  ])('%s', (src, want) => {
    expect(parseIntLiteral(src)).toBe(want);
    expect(ev(src)).toBe(want);
  });

  test('a leading 0 is decimal, not octal', () => {
    expect(parseIntLiteral('010')).toBe(10n);
    expect(ev('0755')).toBe(755n);
  });

  test.each([
    '',
    ' 1',
    '1 ',
    '0x',
    '0b',
    '0b102',
    '0xfg',
    '1_000',
    '4k',
    '4KB',
    '4Ki',
    '0x10K',
    '1.5',
    '-1',
    'K',
  ])('%j is not a literal', (src) => {
    expect(parseIntLiteral(src)).toBeUndefined();
  });

  test('a bad literal inside an expression is an error at its start', () => {
    const e = errorOf('1 + 0x10K');
    expect(e.message).toBe("invalid number '0x10K'");
    expect(e.offset).toBe(4);
    expect(errorOf('12abc').offset).toBe(0);
  });
});

describe('precedence and associativity, as in C', () => {
  test.each([
    ['1 + 2 * 3', 7n],
    ['(1 + 2) * 3', 9n],
    ['1 | 2 & 3', 3n], // & before |: 1 | (2 & 3)
    ['6 & 3 | 8', 10n],
    ['1 ^ 3 & 1', 0n], // & before ^: 1 ^ (3 & 1)
    ['1 | 6 ^ 2', 5n], // ^ before |: 1 | (6 ^ 2)
    ['1 << 2 + 1', 8n], // + before <<
    ['1 << 3 & 12', 8n], // << before &
    ['10 - 4 - 3', 3n], // left associative
    ['64 / 4 / 2', 8n],
    ['2 * 3 % 4', 2n], // (2 * 3) % 4
    ['256 >> 2 >> 1', 32n],
    ['1 << 4 >> 2', 4n],
    ['0x10 + 0x20 * 2', 0x50n],
    ['4K + 1', 4097n],
    [' \t1\n+\r2 ', 3n],
    ['((((7))))', 7n],
  ])('%j = %s', (src, want) => {
    expect(ev(src)).toBe(want);
  });
});

describe('unary operators', () => {
  test.each([
    ['-1', -1n],
    ['+5', 5n],
    ['~0', -1n],
    ['- -3', 3n],
    ['-~0', 1n], // -(~0)
    ['~-1', 0n], // ~(-1)
    ['-2 * 3', -6n], // unary binds tighter than *
    ['~1 & 0xff', 0xfen],
    ['2 - -2', 4n],
    ['-(1 + 2)', -3n],
  ])('%j = %s', (src, want) => {
    expect(ev(src)).toBe(want);
  });
});

describe('C truncating division', () => {
  test.each([
    ['-7 / 2', -3n],
    ['-7 % 2', -1n],
    ['7 / -2', -3n],
    ['7 % -2', 1n],
    ['7 / 2', 3n],
  ])('%j = %s', (src, want) => {
    expect(ev(src)).toBe(want);
  });

  test('division and modulo by zero point at the operator', () => {
    const e = errorOf('10 / (2 - 2)');
    expect(e.message).toBe('division by zero');
    expect(e.offset).toBe(3);
    expect(errorOf('1 + 5 % 0')).toMatchObject({ message: 'division by zero', offset: 6 });
  });
});

describe('shifts', () => {
  test('>> of a negative value is arithmetic', () => {
    expect(ev('-16 >> 2')).toBe(-4n);
    expect(ev('-1 >> 100')).toBe(-1n);
  });

  test('a negative shift count is refused', () => {
    expect(errorOf('1 << -1')).toMatchObject({ message: 'negative shift count', offset: 2 });
    expect(errorOf('8 >> (0 - 1)')).toMatchObject({ message: 'negative shift count', offset: 2 });
  });

  test('a shift count over 1024 is refused, 1024 is not', () => {
    expect(ev('1 << 1024')).toBe(1n << 1024n);
    expect(errorOf('1 << 1025')).toMatchObject({ message: 'shift count too large', offset: 2 });
    expect(errorOf('1 >> 100000')).toMatchObject({ message: 'shift count too large' });
  });

  test('values past 4096 bits are refused', () => {
    expect(ev('1 << 1024 << 1024 << 1024 << 1023')).toBe(1n << 4095n);
    const src = '1 << 1024 << 1024 << 1024 << 1024';
    const e = errorOf(src);
    expect(e.message).toBe('value too large');
    expect(e.offset).toBe(src.lastIndexOf('<<')); // 26: the shift that overflows
    expect(errorOf('(1 << 1024) * (1 << 1024) * (1 << 1024) * (1 << 1024) * 2').message).toBe(
      'value too large',
    );
    expect(errorOf('9'.repeat(2000)).message).toBe('value too large');
  });

  test('< and > alone are not operators', () => {
    expect(errorOf('1 < 2')).toMatchObject({ message: "unexpected '<'", offset: 2 });
  });
});

describe('BIT(n)', () => {
  test('is 1 << n', () => {
    expect(ev('BIT(0)')).toBe(1n);
    expect(ev('BIT(33)')).toBe(0x200000000n);
    expect(ev('BIT ( 1 + 2 )')).toBe(8n);
    expect(ev('BIT(VIRTIO_F_VERSION_1) | BIT(0)')).toBe(0x100000001n);
    expect(ev('BIT(1023)')).toBe(1n << 1023n);
  });

  test('~BIT(33) fills a __u64 as C converts it', () => {
    const v = ev('~BIT(33)');
    expect(v).toBe(-0x200000001n);
    expect(fitWidth(v, 64)).toBe(0xfffffffdffffffffn);
  });

  test('takes only 0..1023', () => {
    expect(errorOf('BIT(1024)')).toMatchObject({ message: 'bit number out of range 0..1023', offset: 4 });
    expect(errorOf('BIT( -1)')).toMatchObject({ message: 'bit number out of range 0..1023', offset: 5 });
  });

  test('needs its parentheses', () => {
    expect(errorOf('BIT 3')).toMatchObject({ message: "expected '(' after BIT", offset: 4 });
    expect(errorOf('BIT(3')).toMatchObject({ message: "expected ')'", offset: 5 });
  });
});

describe('names and variables', () => {
  test('names come from env.name', () => {
    expect(ev('VHOST_VIRTIO')).toBe(0xafn);
    expect(ev('PAGE_SIZE * 2 - 1')).toBe(8191n);
  });

  test('an unknown name is an error at the name', () => {
    const e = errorOf('PAGE_SIZE + FOO');
    expect(e).toBeInstanceOf(ExprError);
    expect(e.message).toBe("unknown name 'FOO'");
    expect(e.offset).toBe(12);
    expect(errorOf('FOO_1')).toMatchObject({ message: "unknown name 'FOO_1'", offset: 0 });
  });

  test('$variables come from env.variable, without the $', () => {
    expect(ev('$base + $n * 4K')).toBe(0x1000n + 3n * 4096n);
    expect(ev('BIT($n)')).toBe(8n);
  });

  test('an unknown variable is an error at the $', () => {
    expect(errorOf('1 + $nope')).toMatchObject({ message: "no value named '$nope'", offset: 4 });
    expect(errorOf('$ n')).toMatchObject({ message: "expected a name after '$'", offset: 0 });
    expect(errorOf('$1')).toMatchObject({ message: "expected a name after '$'", offset: 0 });
  });

  test('a literal-looking string is not looked up', () => {
    const seen: string[] = [];
    const spy: ExprEnv = {
      name: (id) => {
        seen.push(id);
        return undefined;
      },
      variable: () => undefined,
    };
    expect(evalExpr('4K', spy)).toBe(4096n);
    expect(seen).toEqual([]);
  });
});

describe('syntax errors carry the offending offset', () => {
  test.each([
    ['', "expected a number, name or '('", 0],
    ['   ', "expected a number, name or '('", 3],
    ['1 +', "expected a number, name or '('", 3],
    ['1 + * 2', "expected a number, name or '('", 4],
    ['(1 + 2', "expected ')'", 6],
    ['(1 + 2 3)', "expected ')'", 7],
    ['1 + 2)', "unexpected ')'", 5],
    [')', "unexpected ')'", 0],
    ['1 2', "unexpected '2'", 2],
    ['1 foo', "unexpected 'foo'", 2],
    ['1 && 2', "expected a number, name or '('", 3],
    ['1 # 2', "unexpected '#'", 2],
  ])('%j', (src, message, offset) => {
    const e = errorOf(src);
    expect(e.message).toBe(message);
    expect(e.offset).toBe(offset);
  });
});

describe('resource bounds', () => {
  test('nesting up to 64 parentheses is fine, 65 is refused', () => {
    expect(ev('('.repeat(64) + '1' + ')'.repeat(64))).toBe(1n);
    const e = errorOf('('.repeat(65) + '1' + ')'.repeat(65));
    expect(e.message).toBe('parentheses nested deeper than 64');
    expect(e.offset).toBe(64);
  });

  test('BIT( counts as nesting', () => {
    expect(errorOf('BIT('.repeat(65) + '0' + ')'.repeat(65)).message).toBe(
      'parentheses nested deeper than 64',
    );
  });

  test('a source over 4096 characters is refused', () => {
    expect(ev('1' + ' '.repeat(4095))).toBe(1n);
    expect(errorOf('1' + ' '.repeat(4096)).message).toBe('expression longer than 4096 characters');
  });

  test('a long chain of unary operators does not recurse', () => {
    expect(ev('-'.repeat(4000) + '5')).toBe(5n);
    expect(ev('~'.repeat(4001) + '5')).toBe(-6n);
  });
});

describe('fitWidth: C conversion to an unsigned field', () => {
  test.each([
    [-1n, 32, 0xffffffffn],
    [-1n, 8, 0xffn],
    [0xffffffffn, 32, 0xffffffffn],
    [-(2n ** 31n), 32, 0x80000000n],
    [0n, 1, 0n],
    [1n, 1, 1n],
    [-1n, 1, 1n],
    [-1n, 64, 0xffffffffffffffffn],
    [0x1234n, 16, 0x1234n],
  ])('%s in %i bits → %s', (v, bits, want) => {
    expect(fitWidth(v, bits)).toBe(want);
  });

  test.each([
    [0x100000000n, 32],
    [-(2n ** 31n) - 1n, 32],
    [256n, 8],
    [-129n, 8],
    [2n ** 64n, 64],
    [2n, 1],
    [-2n, 1],
  ])('%s does not fit %i bits', (v, bits) => {
    expect(fitWidth(v, bits)).toBeUndefined();
  });

  test('a width that is not a bit count is a programming error', () => {
    expect(() => fitWidth(1n, 0)).toThrow(RangeError);
    expect(() => fitWidth(1n, 1.5)).toThrow(RangeError);
  });

  test('the evaluator and fitWidth together', () => {
    expect(fitWidth(ev('-1'), 32)).toBe(0xffffffffn);
    expect(fitWidth(ev('0x100000000'), 32)).toBeUndefined();
    expect(fitWidth(ev('1G - 1'), 32)).toBe(0x3fffffffn);
  });
});

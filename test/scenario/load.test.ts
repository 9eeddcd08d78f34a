import { afterEach, describe, expect, test } from 'vitest';
import { InputError } from '../../src/scenario/input-error.js';
import { type LoadedDocument, type LoadOptions, loadStream, type YamlPath } from '../../src/scenario/load.js';

type Path = NonNullable<LoadOptions['path']>;
const PATHS = ['yaml', 'fast'] as const;

function load(text: string, path: Path = 'yaml'): LoadedDocument[] {
  return loadStream(text, 'scen.yaml', { path });
}

function value(text: string, path: Path = 'yaml'): unknown {
  const docs = load(text, path);
  expect(docs).toHaveLength(1);
  return docs[0]!.value;
}

/** The one line the CLI would print, or 'ok'. */
function errorLine(text: string, path: Path = 'yaml'): string {
  try {
    load(text, path);
    return 'ok';
  } catch (e) {
    if (e instanceof InputError) return e.format();
    throw e;
  }
}

/**
 * Past 2 MiB the fast path cannot hand a refusal to the yaml path any more: it must find the same
 * message and position itself. A trailing comment makes any document that large.
 */
const PADDING = `\n# ${'padding '.repeat(300_000)}\n`;

/** Every path to a value of the tree, to compare positions of the two paths node by node. */
function allPaths(v: unknown, path: (string | number)[] = [], out: YamlPath[] = []): YamlPath[] {
  out.push(path);
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) allPaths(x, [...path, i], out);
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) allPaths((v as Record<string, unknown>)[k], [...path, k], out);
  }
  return out;
}

describe('InputError', () => {
  test('format() is FILE:LINE:COLUMN: message', () => {
    const e = new InputError('a/b.yaml', 3, 7, 'unknown key "x"');
    expect(e.format()).toBe('a/b.yaml:3:7: unknown key "x"');
    expect(e).toBeInstanceOf(Error);
    expect([e.file, e.line, e.column, e.message]).toEqual(['a/b.yaml', 3, 7, 'unknown key "x"']);
  });
});

describe.each(PATHS)('values: YAML 1.2 core schema (%s path)', (path) => {
  test('integers are exact bigints: decimal, 0x, 0o', () => {
    expect(value('a: 0x1ffffffffffffffff\nb: 0o17\nc: -12\nd: +7\ne: 0x10\nf: 007\n', path)).toEqual({
      a: 0x1ffffffffffffffffn,
      b: 15n,
      c: -12n,
      d: 7n,
      e: 16n,
      f: 7n,
    });
  });

  test('kernel: 6.10 is the float 6.1; quoted it stays a string', () => {
    const v = value('kernel: 6.10\nquoted: "6.10"\n', path) as Record<string, unknown>;
    expect(v.kernel).toBe(6.1);
    expect(v.quoted).toBe('6.10');
  });

  test('YAML 1.1 words and forms are strings', () => {
    expect(value('a: yes\nb: no\nc: on\nd: 0b101\ne: 1_000\nf: -0x10\ng: 12:30\n', path)).toEqual({
      a: 'yes',
      b: 'no',
      c: 'on',
      d: '0b101',
      e: '1_000',
      f: '-0x10',
      g: '12:30',
    });
  });

  test('null, booleans and floats', () => {
    const v = value(
      'a: ~\nb: null\nc: NULL\nd:\ne: True\nf: FALSE\ng: .inf\nh: -.Inf\ni: .NaN\nj: 1e3\nk: .5\n',
      path,
    );
    expect(v).toEqual({
      a: null,
      b: null,
      c: null,
      d: null,
      e: true,
      f: false,
      g: Number.POSITIVE_INFINITY,
      h: Number.NEGATIVE_INFINITY,
      i: Number.NaN,
      j: 1000,
      k: 0.5,
    });
  });

  test('maps have a null prototype; __proto__ is an ordinary own key and pollutes nothing', () => {
    const v = value('__proto__: {polluted: yes}\nconstructor: x\nlist: [{__proto__: 1}]\n', path) as Record<
      string,
      unknown
    >;
    expect(Object.getPrototypeOf(v)).toBeNull();
    expect(Object.keys(v)).toEqual(['__proto__', 'constructor', 'list']);
    const own = Object.getOwnPropertyDescriptor(v, '__proto__')?.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(own)).toBeNull();
    expect(own.polluted).toBe('yes');
    const inner = (v.list as unknown[])[0] as object;
    expect(Object.getPrototypeOf(inner)).toBeNull();
    expect(Object.keys(inner)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('single-pair maps in a flow sequence have a null prototype too', () => {
    const v = value('[a: 1, b]\n', path) as unknown[];
    expect(v).toEqual([{ a: 1n }, 'b']);
    expect(Object.getPrototypeOf(v[0])).toBeNull();
  });

  test('a stream: documents in order, empty documents are null, a comment-only file has none', () => {
    const docs = load('name: a\n---\n---\nname: b\n', path);
    expect(docs.map((d) => [d.index, d.value])).toEqual([
      [0, { name: 'a' }],
      [1, null],
      [2, { name: 'b' }],
    ]);
    expect(load('# nothing here\n', path)).toEqual([]);
    expect(load('', path)).toEqual([]);
  });

  test('aliases share the anchored value', () => {
    const v = value('base: &m {kvm: true}\nother: *m\n', path) as Record<string, unknown>;
    expect(v.other).toBe(v.base);
  });

  test('the bounds are inclusive: 64 levels, aliases materialising 10 000 values', () => {
    expect(load(`a: ${'['.repeat(63)}${']'.repeat(63)}\n`, path)).toHaveLength(1);
    expect(load(`a: &a x\nb: [${Array(10_000).fill('*a').join(', ')}]\n`, path)).toHaveLength(1);
  });

  test('a byte-order mark is not content, CRLF line ends are fine', () => {
    const docs = load('\ufeffa: 1\r\nb: [x, y]\r\n', path);
    expect(docs[0]!.value).toEqual({ a: 1n, b: ['x', 'y'] });
    expect(docs[0]!.locate(['a'], 'key')).toEqual({ line: 1, column: 1 });
    expect(docs[0]!.locate(['b', 1])).toEqual({ line: 2, column: 8 });
  });
});

/** [name, text, the expected line] — the same on both paths, for small and for huge documents. */
const REFUSALS: [string, string, string][] = [
  [
    'duplicate key: at the second key',
    'a: 1\nb: 2\na: 3\n',
    "scen.yaml:3:1: duplicate key 'a': expected each key at most once in a map",
  ],
  [
    'duplicate key in a flow map',
    'm: {x: 1, y: 2, x: 3}\n',
    "scen.yaml:1:17: duplicate key 'x': expected each key at most once in a map",
  ],
  [
    'duplicate quoted key',
    'steps:\n  - open: a\n    "open": b\n',
    "scen.yaml:3:5: duplicate key 'open': expected each key at most once in a map",
  ],
  [
    'unresolved alias: at the alias',
    'a: 1\nb: [x, *nope]\n',
    "scen.yaml:2:8: unknown alias '*nope': expected an anchor '&nope' before it",
  ],
  [
    'an alias inside its own anchor',
    'a: &loop [1, *loop]\n',
    "scen.yaml:1:14: alias '*loop' is inside the node it refers to: expected a reference to a finished node",
  ],
  [
    'billion laughs',
    [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]',
      '',
    ].join('\n'),
    // *a stands for 11 values, *b for 111, *c for 1111: 110 + 1110 + 8 × 1111 crosses 10 000 at the 8th *c
    'scen.yaml:4:36: aliases expand to more than 10000 values: expected fewer or smaller aliases',
  ],
  [
    'too many small aliases',
    `a: &a x\nb: [${Array(10_001).fill('*a').join(', ')}]\n`,
    `scen.yaml:2:${5 + 4 * 10_000}: aliases expand to more than 10000 values: expected fewer or smaller aliases`,
  ],
  [
    'nesting deeper than 64 (flow): the root map is level 1',
    `a: ${'['.repeat(64)}${']'.repeat(64)}\n`,
    'scen.yaml:1:67: nesting deeper than 64 levels: expected at most 64 nested maps and lists',
  ],
  [
    'nesting deeper than 64 (block)',
    `${Array.from({ length: 65 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} v\n`,
    'scen.yaml:65:65: nesting deeper than 64 levels: expected at most 64 nested maps and lists',
  ],
  [
    'nesting 100 000 deep never overflows a stack',
    `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
    'scen.yaml:1:67: nesting deeper than 64 levels: expected at most 64 nested maps and lists',
  ],
  [
    'an integer key',
    'steps:\n  - 1: x\n',
    'scen.yaml:2:5: expected a string key, found an integer: quote the key',
  ],
  ['a float key', '6.10: x\n', 'scen.yaml:1:1: expected a string key, found a number: quote the key'],
  [
    'a boolean key',
    'a: 1\ntrue: x\n',
    'scen.yaml:2:1: expected a string key, found a boolean: quote the key',
  ],
  ['a null key', '{~: x}\n', 'scen.yaml:1:2: expected a string key, found null: quote the key'],
  ['an empty key', 'a:\n  ? \n  : v\n', 'scen.yaml:2:5: expected a string key, found null: quote the key'],
  ['a list key', 'x: 1\n[a, b]: 2\n', 'scen.yaml:2:1: expected a string key, found a list: quote the key'],
  ['a map key', '? {a: 1}\n: 2\n', 'scen.yaml:1:3: expected a string key, found a map: quote the key'],
  [
    'an alias to an integer as a key',
    'a: &n 5\nb: {*n : x}\n',
    'scen.yaml:2:5: expected a string key, found an integer: quote the key',
  ],
  [
    'a merge key',
    'base: &b {x: 1}\nm:\n  <<: *b\n',
    "scen.yaml:3:3: merge key '<<' is not supported (YAML 1.2 has none): expected the keys written out",
  ],
  [
    'a tag that constructs a function',
    'steps:\n  - run: !!js/function "function () { return 1 }"\n',
    "scen.yaml:2:10: tag '!!js/function' is not allowed: expected a plain value without a tag",
  ],
  [
    'a tag that constructs an object',
    'x: !!python/object/apply:os.system ["id"]\n',
    "scen.yaml:1:4: tag '!!python/object/apply:os.system' is not allowed: expected a plain value without a tag",
  ],
  [
    'a core tag is a tag',
    'a: 1\nb: !!str 12\n',
    "scen.yaml:2:4: tag '!!str' is not allowed: expected a plain value without a tag",
  ],
  [
    'a local tag',
    'a: !foo x\n',
    "scen.yaml:1:4: tag '!foo' is not allowed: expected a plain value without a tag",
  ],
  [
    'the non-specific tag',
    'a: ! 12\n',
    "scen.yaml:1:4: tag '!' is not allowed: expected a plain value without a tag",
  ],
  [
    'a verbatim tag',
    'a: !<tag:yaml.org,2002:int> 12\n',
    "scen.yaml:1:4: tag '!<tag:yaml.org,2002:int>' is not allowed: expected a plain value without a tag",
  ],
  [
    'a tag on a key',
    'a: 1\n!!str b: 2\n',
    "scen.yaml:2:1: tag '!!str' is not allowed: expected a plain value without a tag",
  ],
  [
    'a tag on a collection, on its own line',
    'm: !!map\n  a: 1\n',
    "scen.yaml:1:4: tag '!!map' is not allowed: expected a plain value without a tag",
  ],
  [
    'an unknown directive is a warning, and warnings are errors',
    'a: 1\n...\n%FOO bar\n---\nb: 2\n',
    'scen.yaml:3:1: yaml syntax error: unknown directive %FOO',
  ],
  [
    'an ambiguous alias is a warning, and warnings are errors',
    'a: &x 1\nb: [*x:]\n',
    'scen.yaml:2:7: yaml syntax error: alias ending in : is ambiguous',
  ],
  [
    'a map on the line of its own key',
    'x: &a key: v\n',
    'scen.yaml:1:4: yaml syntax error: nested mappings are not allowed in compact mappings',
  ],
  [
    'a control character',
    'name: ok\ndescription: "bell \u0007"\n',
    'scen.yaml:2:20: unexpected control character U+0007: expected printable text',
  ],
  [
    'a carriage return alone',
    'a: 1\rb: 2\n',
    'scen.yaml:1:5: unexpected carriage return without a line feed: expected LF or CRLF line endings',
  ],
];

describe.each(PATHS)('refusals, at their exact position (%s path)', (path) => {
  test.each(REFUSALS)('%s', (_name, text, line) => {
    expect(errorLine(text, path)).toBe(line);
  });

  test('a YAML syntax error: the yaml path words it, with its position', () => {
    expect(errorLine('a:\n  - b\n c: d\n', path)).toBe(
      'scen.yaml:3:1: yaml syntax error: all mapping items must start at the same column',
    );
    expect(errorLine('steps:\n  - open: x\n   as: y\n', path)).toBe(
      'scen.yaml:3:1: yaml syntax error: sequence item without - indicator',
    );
    expect(errorLine('a: "x\n', path)).toBe('scen.yaml:2:1: yaml syntax error: missing closing "quote');
  });

  test('not a text file: NUL bytes, invalid UTF-8, lone surrogates, at 1:1', () => {
    for (const text of [
      'name: a\0b\n',
      `name: ${Buffer.from([0xc3, 0x28]).toString('utf8')}\n`,
      'a: \ud800\n',
    ]) {
      expect(errorLine(text, path)).toBe(
        'scen.yaml:1:1: not a text file: expected UTF-8 text without NUL bytes',
      );
    }
    expect(
      errorLine(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0xff, 0xfe]).toString('utf8'), path),
    ).toBe('scen.yaml:1:1: not a text file: expected UTF-8 text without NUL bytes');
  });

  test('a file over 64 MiB is refused at once', () => {
    const t0 = performance.now();
    expect(errorLine(`# ${'x'.repeat(64 * 1024 * 1024)}\n`, path)).toBe(
      'scen.yaml:1:1: file too large: expected at most 64 MiB of YAML text',
    );
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('refusals in documents too large for the yaml path (the fast path on its own)', () => {
  test.each(REFUSALS)('%s', (_name, text, line) => {
    expect(errorLine(text + PADDING, 'fast')).toBe(line);
  });

  test('a YAML syntax error is still an InputError at a position (js-yaml words it)', () => {
    expect(errorLine(`a: 1\n b: 2\n${PADDING}`, 'fast')).toMatch(/^scen\.yaml:2:\d+: yaml syntax error: /);
    expect(errorLine(`a: [1,\n2\n]\n${PADDING}`, 'fast')).toBe(
      'scen.yaml:2:1: yaml syntax error: deficient indentation',
    );
  });

  test('auto takes the fast path for large files', () => {
    expect(errorLine(`a: [1,\n2\n]\n${PADDING}`, 'auto')).toBe(
      'scen.yaml:2:1: yaml syntax error: deficient indentation',
    );
    expect(errorLine('a: [1,\n2\n]\n', 'auto')).toBe(
      'scen.yaml:2:1: yaml syntax error: flow sequence in block collection must be sufficiently indented and end with a ]',
    );
  });

  test('js-yaml misreads a dedented item after an empty one: refused rather than misread', () => {
    expect(value('- -\n- x\n', 'fast')).toEqual([[null], 'x']); // small: the yaml path re-reads it
    expect(errorLine(`- -\n- x\n${PADDING}`, 'fast')).toBe(
      "scen.yaml:2:1: a '-' less indented than the empty list item before it: write that item as '~' (needed for files over 2 MiB)",
    );
  });

  test('hostile input is refused in bounded time', () => {
    const t0 = performance.now();
    expect(errorLine(`a: &a x\nb:\n${'  - *a\n'.repeat(1_000_000)}`, 'auto')).toBe(
      'scen.yaml:10003:5: aliases expand to more than 10000 values: expected fewer or smaller aliases',
    );
    expect(errorLine(`a: ${'['.repeat(5_000_000)}`, 'auto')).toBe(
      'scen.yaml:1:67: nesting deeper than 64 levels: expected at most 64 nested maps and lists',
    );
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

describe('VIOCTL_LOADER overrides the choice of path', () => {
  const saved = process.env.VIOCTL_LOADER;
  afterEach(() => {
    if (saved === undefined) delete process.env.VIOCTL_LOADER;
    else process.env.VIOCTL_LOADER = saved;
  });

  test('yaml and fast', () => {
    const text = `a: [1,\n2\n]\n${PADDING}`;
    process.env.VIOCTL_LOADER = 'yaml';
    expect(errorLine(text, 'auto')).toMatch(
      /flow sequence in block collection must be sufficiently indented/,
    );
    process.env.VIOCTL_LOADER = 'fast';
    expect(errorLine(text, 'auto')).toMatch(/deficient indentation/);
    expect(errorLine(text, 'yaml')).toMatch(/flow sequence in block collection/); // the option wins
  });
});

describe.each(PATHS)('locate and scalarStart (%s path)', (path) => {
  const text = [
    'name: vsock stalls', // 1
    'kernel: "6.1"', // 2
    'steps:', // 3
    '  - open: /dev/vhost-vsock', // 4
    '    as: vs', // 5
    '  - ioctl: VHOST_SET_FEATURES', // 6
    "    arg: '$host & (VIRTIO_F_VERSION_1 | X)'", // 7
    '    expct: 0', // 8
    '  -', // 9
    '  - write: vs', // 10
    '    iotlb: {type: UPDATE, iova: 0x1000, size: 0x1000}', // 11
    '    expect: "a\\tb"', // 12
    '',
  ].join('\n');
  const doc = () => load(text, path)[0]!;

  test('value and key positions', () => {
    const d = doc();
    expect(d.locate([])).toEqual({ line: 1, column: 1 });
    expect(d.locate(['kernel'])).toEqual({ line: 2, column: 9 });
    expect(d.locate(['steps'])).toEqual({ line: 4, column: 3 });
    expect(d.locate(['steps', 1])).toEqual({ line: 6, column: 5 });
    expect(d.locate(['steps', 1, 'expct'], 'key')).toEqual({ line: 8, column: 5 });
    expect(d.locate(['steps', 1, 'expct'])).toEqual({ line: 8, column: 12 });
    expect(d.locate(['steps', 2])).toEqual({ line: 9, column: 4 }); // an empty item
    expect(d.locate(['steps', 3, 'iotlb', 'size'])).toEqual({ line: 11, column: 47 });
    expect(d.locate(['steps', 3, 'iotlb', 'size'], 'key')).toEqual({ line: 11, column: 41 });
  });

  test('a missing path falls back to the nearest existing ancestor', () => {
    const d = doc();
    expect(d.locate(['steps', 3, 'iotlb', 'perm'])).toEqual({ line: 11, column: 12 });
    expect(d.locate(['steps', 7, 'x'], 'key')).toEqual({ line: 4, column: 3 });
    expect(d.locate(['name', 'deeper'])).toEqual({ line: 1, column: 7 });
    expect(d.locate(['nope'])).toEqual({ line: 1, column: 1 });
  });

  test('scalarStart: after the quote, for one-line strings without escapes', () => {
    const d = doc();
    expect(d.scalarStart(['steps', 1, 'arg'])).toEqual({ line: 7, column: 11 });
    expect(d.scalarStart(['kernel'])).toEqual({ line: 2, column: 10 });
    expect(d.scalarStart(['steps', 0, 'open'])).toEqual({ line: 4, column: 11 });
    expect(d.scalarStart(['steps', 3, 'expect'])).toBeUndefined(); // an escape
    expect(d.scalarStart(['steps', 3, 'iotlb', 'iova'])).toBeUndefined(); // not a string
    expect(d.scalarStart(['steps', 9])).toBeUndefined(); // no such node
  });

  test('scalarStart: multi-line and block scalars have none', () => {
    const d = load('a: |\n  x\nb: >-\n  y\nc: "one\n  two"\nd: plain\n  folded\n', path)[0]!;
    for (const k of ['a', 'b', 'c', 'd']) expect(d.scalarStart([k])).toBeUndefined();
  });

  test('positions in later documents of a stream', () => {
    const docs = load('a: 1\n---\n# c\nb:\n  - x\n  - y: z\n--- [p, q]\n', path);
    expect(docs[1]!.locate(['b', 1, 'y'])).toEqual({ line: 6, column: 8 });
    expect(docs[1]!.locate(['b', 1, 'y'], 'key')).toEqual({ line: 6, column: 5 });
    expect(docs[2]!.locate([1])).toEqual({ line: 7, column: 9 });
  });
});

/** Documents in many styles: both paths must agree on values and on every position. */
const VARIED = [
  'name: a\nsteps:\n  - open: /dev/vhost-net\n    as: net\n  - ioctl: VHOST_SET_OWNER\n    fd: net\n',
  'steps:\n- open: x\n- {ioctl: A, fd: x, arg: 0x10}\n- [a, b, {c: d}]\n',
  'a:\n  b:\n    c: [1, [2, [3]], {d: [e]}]\n  f: {g: {h: i}}\n',
  'list:\n  -\n  - ~\n  - \n  -   # a comment\n  - last\nempty:\nflow: {a, b: , c: d}\n',
  '? explicit\n: value\n? [not, allowed]\n',
  'seq: [a: 1, b, c: [d]]\nquoted: {"k": \'v\', \'k2\': "v2"}\n',
  'text: |\n  line one\n  line two\nfolded: >-\n  folded\n  text\nafter: x\n',
  "multi: \"a\n  b\"\nplain: one\n  two\nsingle: 'it''s'\n",
  '# lead\n\nroot:   # trailing\n\n  # inside\n  k:    v   # c\n\n  k2: &anchor\n    x: 1\n  k3: *anchor\n',
  '- - a\n  - b\n- - - c\n-\n  - d\n',
  '--- # first\na: 1\n...\n---\nb: 2\n--- !!str\n',
  'top:\n    deep:\n          deeper:\n                 - 1\n                 - 2\n    back: 3\n',
  'a: b\r\nc:\r\n  - d\r\n  - e: f\r\n',
  '[1, 2, 3]\n',
  '{a: [b, c], d: e}\n',
  'k: &v value\nl: *v\nm: [*v, *v]\n',
  '  indented: 1\n  root: 2\n',
  'a:\n- x\n- y\nb: z\n',
  'x: {a: 1,\n  b: [2,\n    3]}\ny: [\n  p,\n  q\n  ]\n',
  'unicode: ünïcødé 😀\n"😀": x\n',
];

describe('the two paths agree', () => {
  test.each(VARIED.map((t) => [JSON.stringify(t).slice(0, 40), t]))('%s', (_label, text) => {
    let yamlDocs: LoadedDocument[];
    try {
      yamlDocs = load(text, 'yaml');
    } catch (e) {
      // Both refuse, in the same words.
      expect(errorLine(text, 'fast')).toBe((e as InputError).format());
      expect(errorLine(text + PADDING, 'fast')).toBe((e as InputError).format());
      return;
    }
    const fastDocs = load(text, 'fast');
    expect(fastDocs.map((d) => d.value)).toEqual(yamlDocs.map((d) => d.value));
    yamlDocs.forEach((y, i) => {
      const f = fastDocs[i]!;
      for (const p of allPaths(y.value)) {
        for (const part of ['value', 'key'] as const)
          expect([p, part, f.locate(p, part)]).toEqual([p, part, y.locate(p, part)]);
        expect([p, f.scalarStart(p)]).toEqual([p, y.scalarStart(p)]);
        expect([p, f.locate([...p, 'missing'])]).toEqual([p, y.locate([...p, 'missing'])]);
      }
    });
  });

  test('a large scenario: same values, same positions', () => {
    const steps = 3000;
    const parts = ['name: big\nkernel: "6.1"\nsteps:\n  - open: /dev/vhost-vsock\n    as: vs\n'];
    for (let i = 1; i < steps; i++) {
      parts.push(
        i % 2
          ? '  - write: vs\n    iotlb: {type: UPDATE, iova: 0x1000, size: 0x1000, uaddr: 0x7f0000000000, perm: RW}\n    expect: 72\n'
          : '  - write: vs\n    iotlb: {type: INVALIDATE, iova: 0x1000, size: 0x1000}\n    expect: 72\n',
      );
    }
    const text = parts.join('');
    const [y] = load(text, 'yaml');
    const [a] = load(text, 'auto');
    expect(a!.value).toEqual(y!.value);
    const last = steps - 1;
    for (const [p, part] of [
      [['steps', last, 'iotlb', 'uaddr'], 'value'],
      [['steps', last - 1, 'iotlb', 'size'], 'key'],
      [['steps', 1500, 'expect'], 'value'],
      [['steps', last, 'nope'], 'key'],
      [['steps', steps + 5], 'value'],
    ] as const) {
      expect(a!.locate(p, part)).toEqual(y!.locate(p, part));
    }
    expect(a!.scalarStart(['steps', last, 'write'])).toEqual(y!.scalarStart(['steps', last, 'write']));
    expect((a!.value as { steps: { iotlb?: { uaddr?: bigint } }[] }).steps[last]!.iotlb!.uaddr).toBe(
      0x7f0000000000n,
    );
  });
});

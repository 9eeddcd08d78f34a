// `vioctl test` through the real CLI: one line per scenario, the summary, exit codes, the JUnit and
// JSON reporters, sharding, --bail and the worker pool (whose output must equal the inline run's).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vioctl.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const PASSING = `name: owner then features
kernel: "6.1"
steps:
  - open: /dev/vhost-vsock
    as: vsock
  - ioctl: VHOST_SET_OWNER
    fd: vsock
    expect: 0
  - ioctl: VHOST_GET_FEATURES
    fd: vsock
    expect: {out: 0x33d000002}
`;
const FAILING = `name: wrong expectation <&>
steps:
  - open: /dev/vhost-vsock
    as: vsock
  - ioctl: VHOST_GET_FEATURES
    fd: vsock
    expect: EINVAL
`;
// A saved 64-bit value that does not fit VHOST_VSOCK_SET_RUNNING's int: an input error at run time.
const RUNTIME_ERROR = `name: saved value too wide
steps:
  - open: /dev/vhost-vsock
    as: vsock
  - ioctl: VHOST_GET_FEATURES
    fd: vsock
    save: host
  - ioctl: VHOST_VSOCK_SET_RUNNING
    fd: vsock
    arg: "$host"
`;

function suite(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vioctl-test-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Well-formedness and element counts of JUnit XML, without an XML library. */
function junitShape(xml: string) {
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
  const body = xml.slice(xml.indexOf('\n') + 1);
  const stack: string[] = [];
  const count: Record<string, number> = {};
  const tag = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = tag.exec(body))) {
    end = tag.lastIndex;
    if (m[5] !== undefined) {
      // text: only the five entities and numeric references may follow an ampersand
      expect(m[5]).not.toMatch(/&(?!(amp|lt|gt|quot|apos|#\d+);)/);
      continue;
    }
    expect(m[3] ?? '').not.toMatch(/&(?!(amp|lt|gt|quot|apos|#\d+);)/);
    const name = m[2]!;
    if (m[1]) expect(stack.pop()).toBe(name);
    else {
      count[name] = (count[name] ?? 0) + 1;
      if (!m[4]) stack.push(name);
    }
  }
  expect(end).toBe(body.length);
  expect(stack).toEqual([]);
  return count;
}

describe('vioctl test', () => {
  test('the default suite: fixtures/ without bad-input, one PASS line each, exit 0', () => {
    const r = run('test');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    const rows = lines.filter((l) => /^(PASS|FAIL|ERROR)/.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(15);
    expect(rows.every((l) => /^PASS {3}fixtures\/\S+\.yaml {2}.+ {2}\(\d+ steps?\)$/.test(l))).toBe(true);
    expect(r.out).not.toContain('bad-input');
    expect(lines.at(-1)).toMatch(
      new RegExp(`^${rows.length} scenarios in \\d+ files: ${rows.length} passed, 0 failed, 0 errors$`),
    );
  });

  test('a failed expectation: FAIL with the step and reason, exit 1', () => {
    const dir = suite({ 'a.yaml': PASSING, 'b.yaml': FAILING });
    const r = run('test', dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`PASS   ${dir}/a.yaml  owner then features  (3 steps)`);
    expect(r.out).toContain(`FAIL   ${dir}/b.yaml  wrong expectation <&>  (2 steps)`);
    expect(r.out).toMatch(/\n {7}#1 VHOST_GET_FEATURES: errno: expected EINVAL, got success\n/);
    expect(r.out).toContain('2 scenarios in 2 files: 1 passed, 1 failed, 0 errors');
  });

  test('a run-time input error: ERROR, the line on stderr, exit 2', () => {
    const dir = suite({ 'a.yaml': PASSING, 'c.yaml': RUNTIME_ERROR });
    const r = run('test', dir);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^ERROR {2}.*c\.yaml {2}saved value too wide/m);
    expect(r.err).toMatch(/c\.yaml:\d+:\d+: /);
  });

  test('an input error found while loading: one line on stderr, nothing on stdout, exit 2', () => {
    const r = run('test', 'fixtures/bad-input/unknown-key.yaml', 'fixtures/vhost');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^fixtures\/bad-input\/unknown-key\.yaml:\d+:\d+: unknown key/);
  });

  test('--reporter junit: parseable, a testsuite per file, a testcase per scenario, byte-stable', () => {
    const dir = suite({ 'a.yaml': `${PASSING}---\n${FAILING}`, 'b.yaml': FAILING });
    const r = run('test', dir, '--reporter', 'junit');
    expect(r.code).toBe(1);
    const count = junitShape(r.out);
    expect(count).toMatchObject({ testsuites: 1, testsuite: 2, testcase: 3, failure: 2 });
    expect(r.out).toContain('name="wrong expectation &lt;&amp;&gt;"');
    expect(r.out).toContain(
      '<failure message="step 1 VHOST_GET_FEATURES: errno: expected EINVAL, got success"',
    );
    expect(r.out).toMatch(/<testsuites name="vioctl" tests="3" failures="2" errors="0"/);
    expect(r.out).not.toMatch(/time|timestamp/);
    expect(run('test', dir, '--reporter', 'junit').out).toBe(r.out);
  });

  test('--reporter junit on fixtures/ has one testsuite per fixture file', () => {
    const r = run('test', 'fixtures/', '--reporter', 'junit');
    const text = run('test', 'fixtures/');
    const files = new Set(text.out.split('\n').flatMap((l) => /^\w+ +(\S+\.yaml) /.exec(l)?.[1] ?? []));
    const count = junitShape(r.out);
    expect(count.testsuite).toBe(files.size);
  });

  test('--reporter json is run --json as one array', () => {
    const r = run('test', 'fixtures/vhost', '--reporter', 'json');
    expect(r.code).toBe(0);
    const docs = JSON.parse(r.out);
    expect(Array.isArray(docs)).toBe(true);
    expect(r.out).toBe(run('run', '--json', 'fixtures/vhost').out);
  });

  test('--shard I/N splits by file: the shards are disjoint and cover the suite', () => {
    const rows = (out: string) => out.split('\n').filter((l) => /^(PASS|FAIL|ERROR)/.test(l));
    const all = rows(run('test').out);
    const s1 = rows(run('test', '--shard', '1/2').out);
    const s2 = rows(run('test', '--shard', '2/2').out);
    expect(s1.length).toBeGreaterThan(0);
    expect([...s1, ...s2].sort()).toEqual([...all].sort());
    expect(s1.filter((l) => s2.includes(l))).toEqual([]);
    expect(run('test', '--shard', '1/2').out).toMatch(/\(shard 1\/2\)\n$/);
    expect(run('test', '--shard', '3/2').code).toBe(2);
    expect(run('test', '--shard', 'x').code).toBe(2);
  });

  test('--bail stops after the first failing scenario', () => {
    const dir = suite({ 'a.yaml': FAILING, 'b.yaml': PASSING });
    const r = run('test', dir, '--bail');
    expect(r.code).toBe(1);
    expect(r.out).not.toContain('b.yaml');
    expect(r.out).toContain(
      '1 scenario in 1 file: 0 passed, 1 failed, 0 errors (stopped at the first failure: --bail)',
    );
  });

  test('--kernel overrides every scenario: the crosvm 5.15 story fails on 5.10', () => {
    const r = run('test', 'fixtures/stories/crosvm-vsock-access-platform.yaml', '--kernel', '5.10');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAIL {3}.*crosvm vsock start on 5\.15/m);
  });

  test('--patch on a profile that cannot take it is an input error', () => {
    const r = run('test', 'fixtures/vhost', '--kernel', '6.1', '--patch', 'vhost-new-owner');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
  });

  test('--jobs: the worker pool gives the inline output byte for byte, also with failures and --bail', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vioctl-pool-'));
    for (let i = 0; i < 40; i++) {
      const sub = join(dir, `d${String(i).padStart(2, '0')}`);
      mkdirSync(sub);
      writeFileSync(join(sub, 'a.yaml'), i % 7 === 3 ? FAILING : PASSING);
    }
    for (const extra of [[], ['--bail'], ['--reporter', 'junit']]) {
      const inline = run('test', dir, '--jobs', '1', ...extra);
      const pooled = run('test', dir, '--jobs', '3', ...extra);
      expect(pooled.code).toBe(1);
      expect(pooled.out).toBe(inline.out);
    }
  });

  test('the status line: on stderr when it is a terminal (and not under CI), never on stdout', () => {
    // script(1) gives the command a pseudo-terminal: stdout and stderr both reach it
    const inTty = (cmd: string) => {
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
      delete env.CI;
      return spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env });
    };
    const both = inTty('bin/vioctl test fixtures/stories');
    expect(both.status).toBe(0);
    // each status line is drawn after ESC[1G ESC[2K (column 1, erase the line)
    const parts = both.stdout.split('\u001b[1G\u001b[2K');
    expect(parts.slice(1).some((s) => /^\[\d+\/\d+\] 0 failed/.test(s))).toBe(true);
    // the last one, [N/N], is erased in turn
    expect(parts.slice(0, -1).some((s) => /\[(\d+)\/\1\] 0 failed$/.test(s))).toBe(true);
    const stdoutOnly = inTty('bin/vioctl test fixtures/stories 2>/dev/null');
    expect(stdoutOnly.stdout).not.toMatch(/\[\d+\/\d+\] \d+ failed/);
    expect(stdoutOnly.stdout).toMatch(/\d+ scenarios in 10 files: \d+ passed, 0 failed/);
    const ci = spawnSync('script', ['-qec', 'bin/vioctl test fixtures/stories', '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
    });
    expect(ci.stdout).not.toMatch(/\[\d+\/\d+\] \d+ failed/);
    // piped (the other tests): stderr stays empty
    expect(run('test', 'fixtures/stories').err).toBe('');
  });

  test('usage errors exit 2', () => {
    expect(run('test', '--reporter', 'tap').code).toBe(2);
    expect(run('test', '--jobs', '0').code).toBe(2);
    expect(run('test', 'no/such/dir').code).toBe(2);
  });
});

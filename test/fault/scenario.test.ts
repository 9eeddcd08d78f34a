// fail_nth in the scenario language and on the command line: validation, the JSON and text reports.
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { toJson } from '../../src/report/json.js';
import { textOf } from '../helpers/run.js';
import { inputError, run, yaml } from './helpers.js';

const OPEN = '  - open: /dev/vhost-vsock\n    as: vs\n';

describe('fail_nth: in a scenario', () => {
  test('bad values are one line at the value, at scenario level and on a step', () => {
    const msg = (got: string) =>
      `fail_nth: expected an integer from 0 to 4294967295 (the Nth fault point fails; 0: none), got ${got}`;
    expect(inputError(`name: x\nfail_nth: -1\nsteps:\n${OPEN}`)).toBe(
      `fault.yaml:2:11: ${msg('the integer -1')}`,
    );
    expect(inputError(`name: x\nfail_nth: 0x100000000\nsteps:\n${OPEN}`)).toBe(
      `fault.yaml:2:11: ${msg('the integer 4294967296')}`,
    );
    expect(inputError(`name: x\nsteps:\n${OPEN}    fail_nth: often\n`)).toBe(
      `fault.yaml:5:15: ${msg('"often"')}`,
    );
    expect(inputError(`name: x\nfail_nth: 0\nsteps:\n${OPEN}    fail_nth: 3\n`)).toBe('ok');
  });

  test('fail_nth: 0 injects nothing and reports nothing', () => {
    const x = run(`name: x\nfail_nth: 0\nsteps:\n${OPEN}`);
    expect(x.r.failNth).toBeUndefined();
    expect(x.r.faults).toBeUndefined();
    expect(toJson([x.r], true)).not.toContain('fail_nth');
  });

  test('JSON: the run gets fail_nth and faults, the faulted step its faults', () => {
    const x = run(yaml('6.12', '  - eventfd: a\n  - eventfd: b\n'), 2);
    const doc = JSON.parse(toJson([x.r], true));
    expect(doc.fail_nth).toBe(2);
    const fault = { step: 1, nth: 2, scope: 'run', kind: 'alloc', site: 'do_eventfd: kmalloc ctx' };
    expect(doc.faults).toEqual({ points: 2, injected: [fault] });
    expect(doc.steps[1]).toMatchObject({ ret: -1, errno: 'ENOMEM', errnoNum: 12, faults: [fault] });
    expect(doc.steps[0].faults).toBeUndefined();
  });

  test('text: the fault line under the steps and a note at the step', () => {
    const t = textOf([run(yaml('6.12', '  - eventfd: a\n'), 1).r]);
    expect(t).toContain('fail_nth 1: 1 fault(s) injected; the run reached 1 fault point(s)');
    expect(t).toContain('#0 fault injected at do_eventfd: kmalloc ctx (fail_nth 1)');
    const none = textOf([run(yaml('6.12', '  - eventfd: a\n'), 5).r]);
    expect(none).toContain('fail_nth 5: no fault injected; the run reached 1 fault point(s)');
  });

  test('the same faulted run prints the same bytes', () => {
    const text = yaml('6.12', '  - eventfd: a\n  - eventfd: b\n  - close: a\n');
    expect(toJson([run(text, 2).r], true)).toBe(toJson([run(text, 2).r], true));
  });
});

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vioctl.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('--fail-nth', () => {
  const story = 'fixtures/stories/crosvm-vsock-fixed.yaml';

  test('run: a bad value is a usage error (exit 2, one line)', () => {
    const r = cli('run', '--fail-nth', '1x', story);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe('error: --fail-nth: expected an integer from 0 to 4294967295 (0: none), got "1x"\n');
  });

  test('run --json: every scenario of the file gets the fault; the failed expectation is exit 1', () => {
    const r = cli('run', '--fail-nth', '2', '--json', story);
    expect(r.code).toBe(1);
    const docs = JSON.parse(r.out) as { fail_nth: number; faults: { injected: { site: string }[] } }[];
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) {
      expect(d.fail_nth).toBe(2);
      expect(d.faults.injected).toHaveLength(1);
    }
  });

  test('test: overrides the suite; a bad value is exit 2', () => {
    expect(cli('test', '--fail-nth', '2', story).code).toBe(1);
    expect(cli('test', '--fail-nth', '0', story).code).toBe(0);
    expect(cli('test', '--fail-nth', '-3', story).code).toBe(2);
  });
});

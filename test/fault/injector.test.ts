// The fault injector itself (src/kernel/fault.ts) and the user-copy fault points of Mm.
import { describe, expect, test } from 'vitest';
import { FaultInjector } from '../../src/kernel/fault.js';
import { makeKernel } from '../helpers/kernel.js';

describe('FaultInjector: should_fail_ex with fail_nth', () => {
  test('the run counter fails exactly the Nth point, once', () => {
    const f = new FaultInjector();
    const t = {};
    f.armRun(3);
    const fired = [1, 2, 3, 4, 5].map((i) => f.alloc(t, `site ${i}`));
    expect(fired).toEqual([false, false, true, false, false]);
    expect(f.points).toBe(5);
    expect(f.injected).toEqual([{ step: null, nth: 3, scope: 'run', kind: 'alloc', site: 'site 3' }]);
  });

  test("a step's counter counts only its task's points and is gone after disarmStep", () => {
    const f = new FaultInjector();
    const mine = {};
    const other = {};
    f.step = 4;
    f.armStep(mine, 2);
    expect(f.copy(other, 'copy_from_user')).toBe(false);
    expect(f.copy(mine, 'copy_from_user')).toBe(false);
    expect(f.stepPending).toBe(true);
    expect(f.copy(mine, 'copy_to_user')).toBe(true);
    expect(f.stepPending).toBe(false);
    expect(f.injected).toEqual([{ step: 4, nth: 2, scope: 'step', kind: 'copy', site: 'copy_to_user' }]);
    f.armStep(mine, 5);
    f.disarmStep();
    for (let i = 0; i < 6; i++) expect(f.alloc(mine, 'x')).toBe(false);
  });

  test('kernel-thread work (asWorker) reaches no fault point: its fail_nth is 0', () => {
    const f = new FaultInjector();
    f.armRun(1);
    expect(f.asWorker(() => f.alloc({}, 'vhost worker'))).toBe(false);
    expect(f.points).toBe(0);
    expect(f.alloc({}, 'task')).toBe(true);
  });
});

describe('Mm user copies as fault points', () => {
  test('_copy_from_user: should_fail_usercopy comes before access_ok, so an unmapped address counts too', () => {
    const { k, p } = makeKernel('6.12');
    k.fault.armRun(2);
    expect(p.mm.copyFromUser(0x1000n, 8)).toBeUndefined(); // unmapped: EFAULT, and point 1
    const at = k.scratch(p);
    expect(p.mm.copyFromUser(at, 8)).toBeUndefined(); // mapped, but the injected point 2
    expect(p.mm.copyFromUser(at, 8)).toBeInstanceOf(Uint8Array);
    expect(k.fault.points).toBe(3);
  });

  test('get_user / put_user style accesses (readUser, writeUser) are no fault points', () => {
    const { k, p } = makeKernel('6.12');
    k.fault.armRun(1);
    const at = k.scratch(p);
    expect(p.mm.writeUser(at, new Uint8Array([1, 2]))).toBe(true);
    expect(p.mm.readUser(at, 2)).toEqual(new Uint8Array([1, 2]));
    expect(k.fault.points).toBe(0);
    expect(p.mm.copyToUser(at, new Uint8Array([3]))).toBe(false);
    expect(p.mm.readUser(at, 1)).toEqual(new Uint8Array([1])); // nothing written on the failed copy
  });

  test('a forked address space shares the kernel injector', () => {
    const { k, p } = makeKernel('6.12');
    const child = k.fork(p, 'child');
    k.fault.armRun(1);
    expect(child.mm.copyFromUser(k.scratch(child), 4)).toBeUndefined();
    expect(k.fault.injected[0]?.site).toBe('copy_from_user');
  });
});

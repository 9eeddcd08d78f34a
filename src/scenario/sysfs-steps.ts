// The PCI/sysfs actions (scenario.md, Steps): `sysfs:` reads or writes a sysfs
// file, `readlink:` and `ls:`, and the `bind:` / `unbind:` shorthands, which are
// the same sysfs writes in the order a user types them.
import type { Outcome } from '../kernel/result.js';
import { isMap } from './compile-util.js';
import type { Step } from './model.js';
import { outcomeFields } from './outcome.js';
import type { StepRecord } from './run-result.js';
import type { ProcState, Runtime } from './runtime.js';

/** "01:00.0" → "0000:01:00.0" */
export function fullBdf(bdf: string): string {
  return /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i.test(bdf) ? `0000:${bdf}` : bdf;
}

/** Runs `rest` after `first` has finished well, also when `first` pauses or waits first. */
function then(first: Outcome, rest: () => Outcome): Outcome {
  if (first.ok === 'blocked') return { ok: 'blocked', retry: () => then(first.retry(), rest) };
  if (first.ok === 'paused')
    return { ok: 'paused', point: first.point, resume: () => then(first.resume(), rest) };
  return first.ok === true ? rest() : first;
}

/** The name of the driver a device is bound to, or null. */
function currentDriver(rt: Runtime, ps: ProcState, bdf: string): string | null {
  const r = rt.k.readlink(ps.proc, `/sys/bus/pci/devices/${bdf}/driver`);
  if (r.ok !== true) return null;
  const target = String(r.out);
  return target.slice(target.lastIndexOf('/') + 1);
}

/** sysfs:, readlink:, ls:, bind:, unbind: — an outcome that may pause or wait, with how to record it. */
export function doSysfs(rt: Runtime, ps: ProcState, step: Step, rec: StepRecord): Outcome | undefined {
  const k = rt.k;
  const raw = step.raw;
  const pauseAt = typeof raw.pause_at === 'string' ? raw.pause_at : undefined;
  switch (step.action) {
    case 'sysfs': {
      const path = step.main as string;
      if (raw.value !== undefined) return k.sysfsWrite(ps.proc, path, String(raw.value), pauseAt);
      const r = k.sysfsRead(ps.proc, path);
      Object.assign(rec, outcomeFields(r));
      if (r.ok === true) rec.out = String(r.out).replace(/\n$/, '');
      return undefined;
    }
    case 'readlink':
    case 'ls': {
      const path = step.main as string;
      const r = step.action === 'ls' ? k.ls(ps.proc, path) : k.readlink(ps.proc, path);
      Object.assign(rec, outcomeFields(r));
      if (r.ok === true) rec.out = Array.isArray(r.out) ? [...r.out] : String(r.out);
      return undefined;
    }
    case 'unbind': {
      const bdf = fullBdf(step.main as string);
      const drv = currentDriver(rt, ps, bdf);
      return k.sysfsWrite(ps.proc, `/sys/bus/pci/drivers/${drv ?? 'none'}/unbind`, bdf, pauseAt);
    }
    case 'bind': {
      const spec = step.main as Record<string, unknown>;
      if (!isMap(spec)) return undefined;
      const bdf = fullBdf(String(spec.device));
      const driver = String(spec.driver);
      const dev = `/sys/bus/pci/devices/${bdf}`;
      const override = k.sysfsWrite(ps.proc, `${dev}/driver_override`, driver);
      return then(override, () => {
        const drv = currentDriver(rt, ps, bdf);
        const unbound = drv
          ? k.sysfsWrite(ps.proc, `/sys/bus/pci/drivers/${drv}/unbind`, bdf, pauseAt)
          : override;
        return then(unbound, () => k.sysfsWrite(ps.proc, '/sys/bus/pci/drivers_probe', bdf));
      });
    }
    default:
      return undefined;
  }
}

// The driver core's side of PCI binding (drivers/base/bus.c, dd.c, drivers/pci/pci-driver.c):
// bind_store, unbind_store, drivers_probe_store, the probe path with its DMA-ownership step
// (v5.19, vfio.md §8.2) and driver release. Unbinding is a pausable operation (kernel/tasks.ts):
// vfio-pci's remove() passes the named points of scenario.md ("Races").
import { type Kernel, KernelBugTrap } from '../../kernel/kernel.js';
import { type Fail, fail, ok, type SysResult } from '../../kernel/result.js';
import type { Op, OpStep } from '../../kernel/tasks.js';
import { vfioNotifyBound, vfioNotifyUnbound } from '../vfio/notifier.js';
import { driverMatches, type PciDriver, pciDriver, pciDrivers } from './pci-drivers.js';
import { type PciBus, type PciDev, rawBus } from './topology.js';

/** The machine's PCI bus, with the boot drivers bound the first time anyone looks. */
export function pciBus(k: Kernel): PciBus {
  const { bus, fresh } = rawBus(k);
  if (fresh) {
    for (const d of bus.devs) {
      const drv = d.bootDriver ? pciDriver(d.bootDriver) : undefined;
      if (drv) reallyProbe(k, drv, d, 'boot');
    }
  }
  return bus;
}

/** sysfs_streq: equal but for one trailing newline on either side. */
export function sysfsStreq(a: string, b: string): boolean {
  const strip = (s: string) => (s.endsWith('\n') ? s.slice(0, -1) : s);
  return strip(a) === strip(b);
}

/** bus_find_device_by_name */
export function findDevice(k: Kernel, name: string): PciDev | undefined {
  return pciBus(k).devs.find((d) => d.present && sysfsStreq(d.bdf, name));
}

export function findDeviceExact(k: Kernel, bdf: string): PciDev | undefined {
  return pciBus(k).devs.find((d) => d.present && d.bdf === bdf);
}

/** Which sysfs write reached the probe: the BUG's call trace differs. */
export type ProbeEntry = 'bind' | 'drivers_probe' | 'boot';

/** A probe that did not bind: `core` errors come from the driver core, `probe` from ->probe(). */
type ProbeOutcome = null | { readonly kind: 'core' | 'probe'; readonly f: Fail };

/** really_probe(): dma_configure (DMA ownership), ->probe(), driver_bound() and its bus notifier. */
function reallyProbe(k: Kernel, drv: PciDriver, dev: PciDev, entry: ProbeEntry): ProbeOutcome {
  const g = dev.group;
  const countsDma = k.profile.has('vfio-dma-ownership') && !drv.driverManagedDma;
  if (countsDma) {
    // iommu_device_use_default_domain: a user-owned group refuses kernel DMA users.
    if (g.ownerCnt > 0 && g.owner !== null) {
      return {
        kind: 'core',
        f: fail('EBUSY', 'iommu_device_use_default_domain', 'group->owner_cnt && group->owner'),
      };
    }
    g.ownerCnt++;
  }
  const e = drv.probe(k, dev);
  if (e) {
    if (countsDma) g.ownerCnt--;
    return { kind: 'probe', f: e };
  }
  dev.driver = drv.name;
  // driver_bound() → BUS_NOTIFY_BOUND_DRIVER → (before 5.19) vfio's iommu group notifier.
  const bug = vfioNotifyBound(k, dev, entry);
  if (bug) throw new KernelBugTrap(bug);
  return null;
}

/** device_lock(): a device being unbound holds it; writers wait for the unbind to end. */
function lockWait(dev: PciDev): OpStep {
  return { wait: () => !dev.unbinding };
}

/** bind_store: find the device, match, then device_driver_attach. */
export function* bindStore(k: Kernel, drv: PciDriver, value: string): Op {
  const dev = findDevice(k, value);
  if (!dev || !driverMatches(drv, dev)) return fail('ENODEV', 'bind_store', '!dev || !driver_match_device');
  if (!k.profile.has('driver-core-probe-errno')) {
    // Until 5.13 bind_store refused a bound device and any failed probe alike with ENODEV; it tests
    // dev->driver before taking the device lock, so a device whose unbind waits (its driver still
    // set) is refused at once.
    if (dev.driver !== null) return fail('ENODEV', 'bind_store', 'dev->driver != NULL');
    const r = reallyProbe(k, drv, dev, 'bind');
    return r ? fail('ENODEV', 'bind_store', 'driver_probe_device() == 0 (probe failed)') : ok(value.length);
  }
  // device_driver_attach takes the device lock, which an unbind or a remove holds
  if (dev.unbinding) yield lockWait(dev);
  // a remove that held the lock left the device dead (device_del → kill_device)
  if (!dev.present)
    return fail('ENODEV', '__driver_probe_device', 'dev->p->dead || !device_is_registered(dev)');
  if (dev.driver !== null) return fail('EBUSY', '__driver_probe_device', 'dev->driver');
  const r = reallyProbe(k, drv, dev, 'bind');
  return r ? r.f : ok(value.length);
}

/** unbind_store: only the driver the device is bound to can unbind it. */
export function* unbindStore(k: Kernel, drv: PciDriver, value: string): Op {
  const dev = findDevice(k, value);
  if (!dev || dev.driver !== drv.name) return fail('ENODEV', 'unbind_store', '!dev || dev->driver != drv');
  if (dev.unbinding) {
    // device_driver_detach waits on the device lock; by then the driver is gone: nothing to do.
    yield lockWait(dev);
    return ok(value.length);
  }
  yield* releaseDriver(k, dev);
  return ok(value.length);
}

/** __device_release_driver: ->remove(), dma_cleanup, dev->driver = NULL, UNBOUND_DRIVER. */
export function* releaseDriver(k: Kernel, dev: PciDev): Generator<OpStep, void, void> {
  const drv = dev.driver ? pciDriver(dev.driver) : undefined;
  if (!drv) return;
  dev.unbinding = true;
  if (drv.remove) yield* drv.remove(k, dev);
  if (k.profile.has('vfio-dma-ownership') && !drv.driverManagedDma) dev.group.ownerCnt--;
  dev.driver = null;
  dev.unbinding = false;
  vfioNotifyUnbound(k, dev);
}

/**
 * drivers_probe_store: bus_rescan_devices_helper() tests dev->driver before taking any lock, so a
 * bound device, one whose unbind or remove waits in ->remove() included (the driver core clears
 * dev->driver only after ->remove() returns), is left as it is; otherwise device_attach(), where any
 * failure of the attach is EINVAL (vfio.md §8.2).
 */
export function* driversProbeStore(k: Kernel, value: string): Op {
  const dev = findDevice(k, value);
  if (!dev) return fail('ENODEV', 'drivers_probe_store', '!dev');
  if (dev.driver !== null) return ok(value.length);
  // __device_attach: device_lock(), then nothing for a dead device (kill_device in device_del). In
  // the model a driverless device is never mid-unbind, so neither is taken; kept as the kernel has it.
  if (dev.unbinding) yield lockWait(dev);
  if (!dev.present) return ok(value.length);
  for (const drv of pciDrivers()) {
    if (!driverMatches(drv, dev)) continue;
    const r = reallyProbe(k, drv, dev, 'drivers_probe');
    if (!r) break;
    // A probe's own error lets the next driver try (__device_attach_driver); driver-core
    // errors (the DMA-ownership EBUSY) end device_attach() with an error.
    if (r.kind === 'core') {
      return {
        ok: false,
        errno: 'EINVAL',
        site: {
          function: 'drivers_probe_store',
          check: 'bus_rescan_devices_helper() != 0',
          errno: r.f.errno,
        },
      };
    }
  }
  return ok(value.length);
}

/**
 * kstrtoul(buf, 0, &val) (lib/kstrtox.c): an optional '+', base from the prefix (0x hex, 0 octal,
 * else decimal), at least one digit, at most one trailing newline, nothing else; null where the
 * kernel returns -EINVAL or -ERANGE. The store sees the buffer up to its first NUL.
 */
export function kstrtoul(buf: string): bigint | null {
  let s = buf.split('\0')[0] ?? '';
  if (s.startsWith('+')) s = s.slice(1);
  let base = 10;
  if (s[0] === '0') {
    if ((s[1] === 'x' || s[1] === 'X') && /^[0-9a-fA-F]$/.test(s[2] ?? '')) {
      base = 16;
      s = s.slice(2);
    } else base = 8;
  }
  const digits = { 8: /^[0-7]+/, 10: /^[0-9]+/, 16: /^[0-9a-fA-F]+/ }[base]!.exec(s)?.[0];
  if (!digits) return null;
  const rest = s.slice(digits.length);
  if (rest !== '' && rest !== '\n') return null;
  const v = BigInt(base === 16 ? `0x${digits}` : base === 8 ? `0o${digits}` : digits);
  return v < 1n << 64n ? v : null;
}

/** remove (pci_stop_and_remove_bus_device): children first, each unbound, then off the bus. */
export function* removeStore(k: Kernel, dev: PciDev, value: string): Op {
  const n = kstrtoul(value);
  if (n === null) return fail('EINVAL', 'remove_store', 'kstrtoul(buf, 0, &val) < 0');
  if (!n) return ok(value.length);
  const bus = pciBus(k);
  const below = bus.devs.filter((d) => d !== dev && isBelow(d, dev)).reverse();
  for (const d of [...below, dev]) {
    if (!d.present) continue;
    if (d.unbinding) yield lockWait(d);
    yield* releaseDriver(k, d);
    d.present = false;
    const i = d.group.devices.indexOf(d);
    if (i >= 0) d.group.devices.splice(i, 1);
  }
  return ok(value.length);
}

function isBelow(d: PciDev, top: PciDev): boolean {
  for (let p = d.parent; p; p = p.parent) if (p === top) return true;
  return false;
}

/** driver_set_override: the name up to a newline; an empty value (or "\n") clears it. */
export function driverOverrideStore(dev: PciDev, value: string): SysResult {
  if (value.length >= 4096 - 1) return fail('EINVAL', 'driver_set_override', 'len >= (PAGE_SIZE - 1)');
  const s = value.split('\0')[0] ?? '';
  const name = s.split('\n')[0] ?? '';
  dev.override = name === '' ? null : name;
  return ok(value.length);
}

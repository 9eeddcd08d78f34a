// The sysfs files of the PCI bus (drivers/pci/pci-sysfs.c, drivers/base/bus.c) and the /dev/vfio
// listing: what a scenario's `sysfs:`, `bind:`, `unbind:`, `readlink:` and `ls:` reach.
import type { CallCtx } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { OkOut, SysfsHook } from '../../kernel/registry.js';
import { type Fail, fail, ok, type SysResult } from '../../kernel/result.js';
import type { Op } from '../../kernel/tasks.js';
import { vfio } from '../vfio/state.js';
import { cdevOf, unbindPoints } from '../vfio/vfio-pci.js';
import {
  bindStore,
  driverOverrideStore,
  driversProbeStore,
  findDeviceExact,
  kstrtoul,
  pciBus,
  removeStore,
  unbindStore,
} from './bus.js';
import { pciDriver, pciDrivers } from './pci-drivers.js';
import { functionResetWorks } from './reset.js';
import { devicesPath, type PciDev, toSysRoot } from './topology.js';

const BDF = '[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]';
const DEV_ATTR = new RegExp(
  `^/sys/(?:bus/pci/devices|devices/pci0000:00(?:/${BDF})*)/(${BDF})(?:/([^/]+))?$`,
);
const DRV_ATTR = /^\/sys\/bus\/pci\/drivers\/([^/]+)(?:\/([^/]+))?$/;
const GROUPS = /^\/sys\/kernel\/iommu_groups(?:\/(\d+)(?:\/devices(?:\/([^/]+))?)?)?$/;

function textOut(s: string): OkOut {
  return { ok: true, ret: s.length, out: s };
}

function entries(list: readonly string[]): OkOut {
  return { ok: true, ret: 0, out: [...list].sort() };
}

const noEnt = (fn: string): Fail => fail('ENOENT', fn, 'no such file');
const DEV_FILES = ['class', 'device', 'driver_override', 'iommu_group', 'remove', 'uevent', 'vendor'];
const DRV_FILES = ['bind', 'new_id', 'remove_id', 'uevent', 'unbind'];

function device(k: Kernel, bdf: string): PciDev | undefined {
  return findDeviceExact(k, bdf);
}

function hasReset(k: Kernel, d: PciDev): boolean {
  return functionResetWorks(k, d);
}

function write(ctx: CallCtx, path: string, value: string): Op | SysResult {
  const k = ctx.k;
  if (value.length === 0) return ok(0);
  if (path === '/sys/bus/pci/drivers_probe') return driversProbeStore(k, value);
  const drv = DRV_ATTR.exec(path);
  if (drv) {
    const d = pciDriver(drv[1]!);
    if (!d) return noEnt('kernfs_iop_lookup');
    if (drv[2] === 'bind') return bindStore(k, d, value);
    if (drv[2] === 'unbind') return unbindStore(k, d, value);
    if (drv[2] === undefined) return fail('EISDIR', 'do_open', 'a directory');
    if (DRV_FILES.includes(drv[2]) || pciBus(k).devs.some((x) => x.bdf === drv[2]))
      return fail('EINVAL', 'kernfs_fop_write_iter', 'not modelled: new_id/remove_id/uevent');
    return noEnt('kernfs_iop_lookup');
  }
  const m = DEV_ATTR.exec(path);
  if (m) {
    const d = device(k, m[1]!);
    if (!d) return noEnt('kernfs_iop_lookup');
    switch (m[2]) {
      case 'driver_override':
        return driverOverrideStore(d, value);
      case 'remove':
        return removeStore(k, d, value);
      case 'reset': {
        if (!hasReset(k, d)) return noEnt('kernfs_iop_lookup');
        const val = kstrtoul(value);
        if (val === null) return fail('EINVAL', 'reset_store', 'kstrtoul(buf, 0, &val) < 0');
        if (val !== 1n) return fail('EINVAL', 'reset_store', 'val != 1');
        return ok(value.length);
      }
      case undefined:
      case 'driver':
      case 'iommu_group':
        if (m[2] === 'driver' && d.driver === null) return noEnt('kernfs_iop_lookup');
        return fail('EISDIR', 'do_open', 'a directory');
      case 'vendor':
      case 'device':
      case 'class':
        return fail('EACCES', 'kernfs_fop_open', 'read-only attribute');
      default:
        return noEnt('kernfs_iop_lookup');
    }
  }
  return noEnt('kernfs_iop_lookup');
}

function read(ctx: CallCtx, path: string): OkOut | Fail {
  const k = ctx.k;
  const m = DEV_ATTR.exec(path);
  if (m) {
    const d = device(k, m[1]!);
    if (!d) return noEnt('kernfs_iop_lookup');
    switch (m[2]) {
      case 'driver_override':
        return textOut(`${d.override ?? '(null)'}\n`);
      case 'vendor':
        return textOut(`0x${d.id.slice(0, 4)}\n`);
      case 'device':
        return textOut(`0x${d.id.slice(5)}\n`);
      case 'class':
        return textOut(d.bridge ? '0x060400\n' : d.id === '8086:10d3' ? '0x020000\n' : '0x00ff00\n');
      case 'remove':
      case 'reset':
        return fail('EACCES', 'kernfs_fop_open', 'write-only attribute');
      default:
        return m[2] === undefined ? fail('EISDIR', 'vfs_read', 'a directory') : noEnt('kernfs_iop_lookup');
    }
  }
  if (path === '/sys/bus/pci/drivers_probe' || /\/(bind|unbind)$/.test(path))
    return fail('EACCES', 'kernfs_fop_open', 'write-only attribute');
  return noEnt('kernfs_iop_lookup');
}

function readlink(ctx: CallCtx, path: string): OkOut | Fail {
  const k = ctx.k;
  const m = DEV_ATTR.exec(path);
  if (m) {
    const d = device(k, m[1]!);
    if (!d) return noEnt('kernfs_iop_lookup');
    const up = toSysRoot(d);
    if (m[2] === undefined) {
      if (!path.startsWith('/sys/bus/pci/devices/')) return fail('EINVAL', 'do_readlinkat', 'not a symlink');
      return textOut(`../../..${devicesPath(d).slice(4)}`);
    }
    if (m[2] === 'driver') {
      if (d.driver === null) return noEnt('kernfs_iop_lookup');
      return textOut(`${up}bus/pci/drivers/${d.driver}`);
    }
    if (m[2] === 'iommu_group') return textOut(`${up}kernel/iommu_groups/${d.group.id}`);
    return DEV_FILES.includes(m[2])
      ? fail('EINVAL', 'do_readlinkat', 'not a symlink')
      : noEnt('kernfs_iop_lookup');
  }
  const drv = DRV_ATTR.exec(path);
  if (drv?.[2]) {
    const d = device(k, drv[2]);
    if (d && d.driver === drv[1]) return textOut(`../../../../devices${devicesPath(d).slice(12)}`);
  }
  const g = GROUPS.exec(path);
  if (g?.[2]) {
    const d = device(k, g[2]);
    if (d && String(d.group.id) === g[1]) return textOut(`../../../../devices${devicesPath(d).slice(12)}`);
  }
  return noEnt('kernfs_iop_lookup');
}

function ls(ctx: CallCtx, path: string): OkOut | Fail {
  const k = ctx.k;
  const bus = pciBus(k);
  const live = bus.devs.filter((d) => d.present);
  const p = path.replace(/\/+$/, '');
  if (p === '/dev/vfio') {
    const names = [...vfio(k).groups.values()].filter((g) => g.node).map((g) => String(g.id));
    if (live.some((d) => cdevOf(k, d) !== null)) names.push('devices');
    return entries([...names, 'vfio']);
  }
  if (p === '/dev/vfio/devices') {
    const n = live.map((d) => cdevOf(k, d)).filter((x): x is number => x !== null);
    if (!n.length) return fail('ENOENT', 'do_sys_open', 'no vfio cdev yet');
    return entries(n.map((x) => `vfio${x}`));
  }
  if (p === '/sys/bus/pci/devices') return entries(live.map((d) => d.bdf));
  if (p === '/sys/bus/pci/drivers') return entries(pciDrivers().map((d) => d.name));
  const drv = DRV_ATTR.exec(p);
  if (drv && !drv[2]) {
    if (!pciDriver(drv[1]!)) return noEnt('kernfs_iop_lookup');
    return entries([...DRV_FILES, ...live.filter((d) => d.driver === drv[1]).map((d) => d.bdf)]);
  }
  const m = DEV_ATTR.exec(p);
  if (m && !m[2]) {
    const d = device(k, m[1]!);
    if (!d) return noEnt('kernfs_iop_lookup');
    const names = [...DEV_FILES];
    if (d.driver) names.push('driver');
    if (hasReset(k, d)) names.push('reset');
    if (cdevOf(k, d) !== null) names.push('vfio-dev');
    for (const c of live.filter((x) => x.parent === d)) names.push(c.bdf);
    return entries(names);
  }
  const g = GROUPS.exec(p);
  if (g && !g[2]) {
    if (!g[1]) return entries([...bus.groups.keys()].map(String));
    const grp = bus.groups.get(Number(g[1]));
    if (!grp) return noEnt('kernfs_iop_lookup');
    if (!p.endsWith('/devices')) return entries(['devices', 'reserved_regions', 'type']);
    return entries(grp.devices.filter((d) => d.present).map((d) => d.bdf));
  }
  return noEnt('kernfs_iop_lookup');
}

export const PCI_SYSFS: SysfsHook = {
  claims: (path) => path.startsWith('/sys/') || path === '/dev/vfio' || path.startsWith('/dev/vfio/devices'),
  write,
  read,
  readlink,
  ls,
  points(k, path) {
    return /\/(unbind|remove)$/.test(path) ? unbindPoints(k) : [];
  },
};

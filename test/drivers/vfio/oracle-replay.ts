// A replay of the oracle's VFIO recording (shared/oracle scripts/vfio.txt, results{,-6.12}/vfio.jsonl)
// through the Kernel API, for the vfio, pci and kvm drivers. test/oracle/replay.ts (shared) does not
// run sysfs or VFIO lines yet; this interpreter covers exactly what vfio.txt uses, with the runner's
// conventions (README "Script language"): `key=EXPR`, expressions strictly left to right, `@MAP`,
// `%FD`, `${VAR}`, VFIO_IOMMU_GET_INFO's default argsz 4096, hot-reset info's `count=` slots.
import { readFileSync } from 'node:fs';
import { registerDrivers } from '../../../src/drivers/index.js';
import { Kernel, O_RDWR } from '../../../src/kernel/kernel.js';
import { PROT_READ, PROT_WRITE } from '../../../src/kernel/memory.js';
import { type KernelProfile, makeProfile } from '../../../src/kernel/profile.js';
import type { SysfsOutcome } from '../../../src/kernel/registry.js';
import { constantValue } from '../../../src/uapi/constants.js';
import { errnoInfo } from '../../../src/uapi/errno.js';
import { vfioNr } from '../../../src/uapi/vfio.js';

export interface Row {
  line: number;
  src: string;
  want: Record<string, unknown>;
  got: Record<string, unknown>;
  ok: boolean;
}

type Got = Record<string, unknown>;

function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2]!);
  return out;
}

export function replayVfio(script: string, results: string, version: string): Row[] {
  const prof = makeProfile(version, []);
  if (typeof prof === 'string') throw new Error(prof);
  const k = new Kernel(prof as KernelProfile);
  registerDrivers(k);
  const p = k.spawn('main');
  const fds = new Map<string, number>();
  const maps = new Map<string, bigint>();
  const vars = new Map<string, bigint>();
  const recs = new Map<number, Record<string, unknown>>();
  for (const l of readFileSync(results, 'utf8').split('\n'))
    if (l.trim()) recs.set(JSON.parse(l).n, JSON.parse(l));
  const lines = readFileSync(script, 'utf8').split('\n');
  const rows: Row[] = [];

  const atom = (t: string): bigint => {
    if (t.startsWith('@')) return maps.get(t.slice(1))!;
    if (t.startsWith('%')) return BigInt(fds.get(t.slice(1)) ?? -1);
    if (t.startsWith('$')) return vars.get(t.slice(1))!;
    if (/^-?\d/.test(t)) return BigInt(t);
    const c = constantValue(t);
    if (c === undefined) throw new Error(`unknown constant ${t}`);
    return c;
  };
  // strictly left to right, | + and nothing else is used by vfio.txt
  const num = (e: string): bigint => {
    const parts = e.split(/([|+])/);
    let v = atom(parts[0]!);
    for (let i = 1; i < parts.length; i += 2) {
      const x = atom(parts[i + 1]!);
      v = parts[i] === '|' ? v | x : v + x;
    }
    return v;
  };
  const subst = (s: string) => s.replace(/\$\{(\w+)\}/g, (_m, n) => String(vars.get(n)));
  const kv = (tok: string[], key: string): string | undefined =>
    tok.find((t) => t.startsWith(`${key}=`))?.slice(key.length + 1);
  const kvn = (tok: string[], key: string, def: bigint): bigint => {
    const v = kv(tok, key);
    return v === undefined || v === '' ? def : num(v);
  };
  const res = (r: SysfsOutcome): Got => {
    if (r.ok === true) return { ret: Number(r.ret), errno: 0 };
    if (r.ok === false)
      return { ret: -1, errno: errnoInfo(r.errno).num, site: `${r.site.function}: ${r.site.check}` };
    return { ret: null, errno: null, pending: r.ok };
  };
  const buf = (n: number) => new Uint8Array(n);
  const stage = (b: Uint8Array) => k.stage(p, b);
  const u32 = (b: Uint8Array, off: number, v: bigint | number) =>
    new DataView(b.buffer).setUint32(off, Number(BigInt.asUintN(32, BigInt(v))), true);
  const u64 = (b: Uint8Array, off: number, v: bigint) =>
    new DataView(b.buffer).setBigUint64(off, BigInt.asUintN(64, v), true);
  const back = (a: bigint, n: number) => new DataView(p.mm.copyFromUser(a, n)!.buffer);

  const ioctl = (tok: string[]): Got => {
    const fd = fds.get(tok[1]!) ?? -1;
    const req = tok[2]!;
    const call = (arg: bigint) => res(k.ioctl(p, fd, vfioNr(req), arg));
    switch (req) {
      case 'VFIO_GET_API_VERSION':
      case 'VFIO_GROUP_UNSET_CONTAINER':
      case 'VFIO_DEVICE_RESET':
        return call(kvn(tok, 'arg', 0n));
      case 'VFIO_CHECK_EXTENSION':
        return call(kvn(tok, 'ext', 0n));
      case 'VFIO_SET_IOMMU':
        return call(kvn(tok, 'type', 0n));
      case 'VFIO_GROUP_GET_STATUS': {
        const b = buf(8);
        u32(b, 0, kvn(tok, 'argsz', 8n));
        const a = stage(b);
        const g = call(a);
        if (g.ret === 0) g.flags = back(a, 8).getUint32(4, true);
        return g;
      }
      case 'VFIO_GROUP_SET_CONTAINER': {
        const b = buf(4);
        u32(b, 0, kvn(tok, 'container', 0n));
        return call(stage(b));
      }
      case 'VFIO_GROUP_GET_DEVICE_FD': {
        const name = new TextEncoder().encode(`${kv(tok, 'dev')}\0`);
        const g = call(stage(name));
        if (typeof g.ret === 'number' && g.ret >= 0) fds.set(kv(tok, 'as')!, g.ret);
        return g;
      }
      case 'VFIO_DEVICE_GET_INFO': {
        const b = buf(24);
        u32(b, 0, kvn(tok, 'argsz', 20n));
        const a = stage(b);
        const g = call(a);
        if (g.ret === 0) {
          const d = back(a, 20);
          Object.assign(g, {
            argsz: d.getUint32(0, true),
            flags: d.getUint32(4, true),
            num_regions: d.getUint32(8, true),
          });
          Object.assign(g, { num_irqs: d.getUint32(12, true), cap_offset: d.getUint32(16, true) });
        }
        return g;
      }
      case 'VFIO_DEVICE_GET_REGION_INFO':
      case 'VFIO_DEVICE_GET_IRQ_INFO': {
        const region = req === 'VFIO_DEVICE_GET_REGION_INFO';
        const b = buf(32);
        u32(b, 0, kvn(tok, 'argsz', region ? 32n : 16n));
        u32(b, 8, kvn(tok, 'index', 0n));
        const a = stage(b);
        const g = call(a);
        if (g.ret === 0) {
          const d = back(a, 32);
          g.flags = d.getUint32(4, true);
          if (region)
            Object.assign(g, {
              size: `0x${d.getBigUint64(16, true).toString(16)}`,
              offset: `0x${d.getBigUint64(24, true).toString(16)}`,
            });
          else g.count = d.getUint32(12, true);
        }
        return g;
      }
      case 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO': {
        const count = Number(kvn(tok, 'count', 0n));
        const b = buf(12 + 8 * count);
        u32(b, 0, kvn(tok, 'argsz', BigInt(12 + 8 * count)));
        u32(b, 4, kvn(tok, 'flags', 0n));
        u32(b, 8, kvn(tok, 'incount', 0n));
        const a = stage(b);
        const g = call(a);
        const d = back(a, 12);
        Object.assign(g, {
          argsz: d.getUint32(0, true),
          flags: d.getUint32(4, true),
          count: d.getUint32(8, true),
        });
        return g;
      }
      case 'VFIO_DEVICE_PCI_HOT_RESET': {
        const gs = (kv(tok, 'groups') ?? '').split(',').filter((x) => x !== '');
        const b = buf(12 + 4 * gs.length);
        u32(b, 0, kvn(tok, 'argsz', BigInt(12 + 4 * gs.length)));
        u32(b, 4, kvn(tok, 'flags', 0n));
        u32(b, 8, kvn(tok, 'count', BigInt(gs.length)));
        gs.forEach((x, i) => {
          u32(b, 12 + 4 * i, num(x));
        });
        return call(stage(b));
      }
      case 'VFIO_IOMMU_GET_INFO': {
        const b = buf(4096);
        u32(b, 0, kvn(tok, 'argsz', 4096n));
        const a = stage(b);
        const g = call(a);
        if (g.ret === 0) {
          const d = back(a, 4096);
          Object.assign(g, {
            argsz: d.getUint32(0, true),
            flags: d.getUint32(4, true),
            cap_offset: d.getUint32(16, true),
          });
          const caps: unknown[] = [];
          for (let off = d.getUint32(16, true); off; off = d.getUint32(off + 4, true))
            caps.push({ id: d.getUint16(off, true), next: d.getUint32(off + 4, true) });
          if (caps.length) g.caps = caps;
        }
        return g;
      }
      case 'VFIO_IOMMU_MAP_DMA': {
        const b = buf(32);
        u32(b, 0, kvn(tok, 'argsz', 32n));
        u32(b, 4, kvn(tok, 'flags', 3n));
        u64(b, 8, kvn(tok, 'vaddr', 0n));
        u64(b, 16, kvn(tok, 'iova', 0n));
        u64(b, 24, kvn(tok, 'size', 0n));
        return call(stage(b));
      }
      case 'VFIO_IOMMU_UNMAP_DMA': {
        const b = buf(24);
        u32(b, 0, kvn(tok, 'argsz', 24n));
        u32(b, 4, kvn(tok, 'flags', 0n));
        u64(b, 8, kvn(tok, 'iova', 0n));
        u64(b, 16, kvn(tok, 'size', 0n));
        const a = stage(b);
        const g = call(a);
        g.unmapped_size = `0x${back(a, 24).getBigUint64(16, true).toString(16)}`;
        return g;
      }
      default:
        throw new Error(`replay: no ioctl ${req}`);
    }
  };

  let want: Record<string, unknown> | undefined;
  const exec = (tok: string[]): Got => {
    switch (tok[0]) {
      case 'open': {
        const path = subst(tok[2]!);
        if (!k.drivers.claim(path)) {
          // a family these drivers do not model (/dev/iommu): hold the fd number the kernel gave
          const f = k.newFile(path, O_RDWR, { kind: 'stand-in' }, null);
          if (typeof want?.ret === 'number' && want.ret >= 0) fds.set(tok[1]!, k.installFd(p, f));
          return { skip: true };
        }
        const r = k.open(p, path, O_RDWR);
        if (r.ok) fds.set(tok[1]!, Number(r.ret));
        return res(r);
      }
      case 'close': {
        const r = k.close(p, fds.get(tok[1]!) ?? -1);
        fds.delete(tok[1]!);
        return res(r);
      }
      case 'ls': {
        const r = k.ls(p, tok[1]!);
        return r.ok ? { ret: 0, errno: 0, entries: r.out } : res(r);
      }
      case 'readlink': {
        const r = k.readlink(p, tok[1]!);
        return r.ok ? { ret: r.ret, errno: 0, target: r.out } : res(r);
      }
      case 'group_of': {
        const r = k.readlink(p, `/sys/bus/pci/devices/${tok[2]}/iommu_group`);
        if (!r.ok) return res(r);
        const g = Number(String(r.out).split('/').pop());
        vars.set(tok[1]!, BigInt(g));
        return { ret: 0, errno: 0, group: g };
      }
      case 'sysfs_write': {
        const v = tok[2] === 'EMPTY' ? '\n' : tok[2]!.replace(/\\n/g, '\n');
        return res(k.sysfsWrite(p, subst(tok[1]!), v));
      }
      case 'mmap': {
        const r = k.mmap(p, { size: num(tok[2]!), prot: PROT_READ | PROT_WRITE, kind: 'anon' });
        if (r.ok) maps.set(tok[1]!, BigInt(r.ret));
        return { ret: r.ok ? 0 : -1, errno: r.ok ? 0 : errnoInfo(r.errno).num };
      }
      case 'ioctl':
        return ioctl(tok);
      default:
        throw new Error(`replay: no op ${tok[0]}`);
    }
  };

  const COMPARE = ['flags', 'argsz', 'cap_offset', 'count', 'num_regions', 'num_irqs', 'size', 'offset'];
  lines.forEach((raw, i) => {
    const n = i + 1;
    want = recs.get(n);
    if (!want) return;
    const src = raw.replace(/(^|\s)#.*$/, '').trim();
    const got = exec(tokenize(src));
    if (got.skip) return;
    let ok = got.ret === want.ret && got.errno === want.errno;
    const keys = ['ret', 'errno'];
    for (const key of COMPARE) {
      if (key in want && key in got && want.ret === 0) {
        keys.push(key);
        if (got[key] !== want[key]) ok = false;
      }
    }
    for (const key of ['entries', 'target', 'group', 'unmapped_size'] as const) {
      if (key in want && key in got) {
        keys.push(key);
        if (JSON.stringify(got[key]) !== JSON.stringify(want[key])) ok = false;
      }
    }
    if (want.caps && got.caps) {
      const w = (want.caps as { id: number; next: number }[]).map((c) => ({ id: c.id, next: c.next }));
      if (JSON.stringify(w) !== JSON.stringify(got.caps)) ok = false;
    }
    const pick = (o: Record<string, unknown>): Record<string, unknown> =>
      Object.fromEntries(keys.filter((x) => x in o).map((x) => [x, o[x]]));
    const w = want;
    rows.push({ line: n, src, want: pick(w), got: { ...pick(got), site: got.site }, ok });
  });
  return rows;
}

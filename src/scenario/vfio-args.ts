// The VFIO argument shapes that are more than a struct (scenario.md, "Arguments
// and outputs"): the device name string, GET_INFO's capability chain, and the
// hot-reset info and reset buffers with their variable tails.
import { readScalar, writeScalar } from '../uapi/struct.js';
import { vfio_iommu_type1_info } from '../uapi/vfio.js';
import { isMap } from './compile-util.js';
import type { YamlPath } from './load.js';
import type { OutValue } from './run-result.js';
import type { ProcState, Runtime } from './runtime.js';

const VFIO_PCI_HOT_RESET_FLAG_DEV_ID = 1;
const MAX_BUFFER = 0x8000;

export interface Built {
  bytes: Uint8Array;
  decode: ((b: Uint8Array) => OutValue) | null;
}

function keys(
  rt: Runtime,
  arg: Record<string, unknown>,
  path: YamlPath,
  allowed: string[],
  what: string,
): void {
  for (const k of Object.keys(arg)) {
    if (!allowed.includes(k)) rt.fail([...path, k], `${what} has no field "${k}" (${allowed.join(', ')})`);
  }
}

function u32(rt: Runtime, ps: ProcState, v: unknown, path: YamlPath, dflt: bigint): bigint {
  return v === undefined ? dflt : rt.value(ps, v, path, 32);
}

/** VFIO_GROUP_GET_DEVICE_FD: the device name and its NUL. */
export function deviceName(rt: Runtime, arg: unknown, path: YamlPath): Built {
  if (typeof arg !== 'string') rt.fail(path, 'arg: expected the device name, such as "0000:01:00.0"');
  const s = new TextEncoder().encode(arg);
  const b = new Uint8Array(s.length + 1);
  b.set(s);
  return { bytes: b, decode: null };
}

/** VFIO_IOMMU_GET_INFO: `{argsz, flags}`; out has the fixed fields and `caps` in chain order. */
export function type1Info(rt: Runtime, ps: ProcState, arg: unknown, path: YamlPath): Built {
  const a = arg === undefined ? {} : arg;
  if (!isMap(a)) rt.fail(path, 'arg: expected {argsz, flags}');
  keys(rt, a, path, ['argsz', 'flags'], 'vfio_iommu_type1_info');
  const argsz = u32(rt, ps, a.argsz, [...path, 'argsz'], BigInt(vfio_iommu_type1_info.size));
  const b = new Uint8Array(Math.max(vfio_iommu_type1_info.size, Math.min(Number(argsz), MAX_BUFFER)));
  writeScalar(b, 0, 'u32', argsz);
  writeScalar(b, 4, 'u32', u32(rt, ps, a.flags, [...path, 'flags'], 0n));
  return { bytes: b, decode: decodeType1Info };
}

function decodeType1Info(b: Uint8Array): OutValue {
  const capOffset = Number(readScalar(b, 16, 'u32'));
  const caps: OutValue[] = [];
  const seen = new Set<number>();
  for (let off = capOffset; off !== 0 && off + 8 <= b.length && !seen.has(off); ) {
    seen.add(off);
    const id = Number(readScalar(b, off, 'u16'));
    const version = Number(readScalar(b, off + 2, 'u16'));
    const next = Number(readScalar(b, off + 4, 'u32'));
    const cap: Record<string, OutValue> = { id, version };
    if (id === 1 && off + 16 <= b.length) {
      const n = Number(readScalar(b, off + 8, 'u32'));
      const ranges: OutValue[] = [];
      for (let i = 0; i < n && off + 16 + 16 * (i + 1) <= b.length; i++) {
        ranges.push({
          start: readScalar(b, off + 16 + 16 * i, 'u64'),
          end: readScalar(b, off + 24 + 16 * i, 'u64'),
        });
      }
      cap.nr_iovas = n;
      cap.iova_ranges = ranges;
    } else if (id === 2 && off + 32 <= b.length) {
      cap.flags = Number(readScalar(b, off + 8, 'u32'));
      cap.pgsize_bitmap = readScalar(b, off + 16, 'u64');
      cap.max_dirty_bitmap_size = readScalar(b, off + 24, 'u64');
    } else if (id === 3 && off + 12 <= b.length) {
      cap.avail = Number(readScalar(b, off + 8, 'u32'));
    }
    caps.push(cap);
    off = next;
  }
  return {
    argsz: Number(readScalar(b, 0, 'u32')),
    flags: Number(readScalar(b, 4, 'u32')),
    iova_pgsizes: readScalar(b, 8, 'u64'),
    cap_offset: capOffset,
    caps,
  };
}

/** VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: `{count}` is the caller's capacity in slots. */
export function hotResetInfo(rt: Runtime, ps: ProcState, arg: unknown, path: YamlPath): Built {
  const a = arg === undefined ? {} : arg;
  if (!isMap(a)) rt.fail(path, 'arg: expected {count, flags, argsz}');
  keys(rt, a, path, ['count', 'flags', 'argsz'], 'vfio_pci_hot_reset_info');
  const capacity = Number(u32(rt, ps, a.count, [...path, 'count'], 0n));
  const argsz = u32(rt, ps, a.argsz, [...path, 'argsz'], BigInt(12 + 8 * capacity));
  const b = new Uint8Array(Math.min(Math.max(12 + 8 * capacity, Number(argsz)), MAX_BUFFER));
  writeScalar(b, 0, 'u32', argsz);
  writeScalar(b, 4, 'u32', u32(rt, ps, a.flags, [...path, 'flags'], 0n));
  return {
    bytes: b,
    decode: (x) => {
      const flags = Number(readScalar(x, 4, 'u32'));
      const count = Number(readScalar(x, 8, 'u32'));
      const devices: OutValue[] = [];
      for (let i = 0; i < Math.min(capacity, count) && 12 + 8 * (i + 1) <= x.length; i++) {
        const o = 12 + 8 * i;
        const id = Number(readScalar(x, o, 'u32'));
        const loc = { segment: Number(readScalar(x, o + 4, 'u16')), bus: x[o + 6]!, devfn: x[o + 7]! };
        devices.push(
          flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID ? { devid: id, ...loc } : { group_id: id, ...loc },
        );
      }
      return { argsz: Number(readScalar(x, 0, 'u32')), flags, count, devices };
    },
  };
}

/** VFIO_DEVICE_PCI_HOT_RESET: `{group_fds: [...]}` with optional count, flags, argsz. */
export function hotReset(rt: Runtime, ps: ProcState, arg: unknown, path: YamlPath): Built {
  const a = arg === undefined ? {} : arg;
  if (!isMap(a)) rt.fail(path, 'arg: expected {group_fds: [...], count, flags, argsz}');
  keys(rt, a, path, ['group_fds', 'count', 'flags', 'argsz'], 'vfio_pci_hot_reset');
  const fds = a.group_fds ?? [];
  if (!Array.isArray(fds)) rt.fail([...path, 'group_fds'], 'group_fds: expected a list of fds');
  const nums = fds.map((f, i) => BigInt(rt.fd(ps, f, [...path, 'group_fds', i])));
  const count = u32(rt, ps, a.count, [...path, 'count'], BigInt(nums.length));
  const argsz = u32(rt, ps, a.argsz, [...path, 'argsz'], BigInt(12 + 4 * nums.length));
  const b = new Uint8Array(Math.min(Math.max(12 + 4 * nums.length, Number(argsz)), MAX_BUFFER));
  writeScalar(b, 0, 'u32', argsz);
  writeScalar(b, 4, 'u32', u32(rt, ps, a.flags, [...path, 'flags'], 0n));
  writeScalar(b, 8, 'u32', count);
  for (const [i, n] of nums.entries()) writeScalar(b, 12 + 4 * i, 's32', n);
  return { bytes: b, decode: null };
}

// The iommufd argument shapes with more than their struct (scenario.md, "Arguments and outputs"):
// IOMMU_IOAS_IOVA_RANGES's `out` also lists the iommu_iova_range entries the kernel wrote at
// allowed_iovas, as far as the caller's num_iovas let it.
import { iommu_iova_range } from '../uapi/iommufd.js';
import { readScalar, type StructDef } from '../uapi/struct.js';
import type { OutValue } from './run-result.js';
import type { ProcState } from './runtime.js';

/** at most this many entries are read back (the kernel writes one per hole of the reserved tree) */
const MAX_IOVAS = 64;

/**
 * The struct as structOut gives it plus `iovas: [{start, last}]`: the first min(num_iovas given,
 * num_iovas returned) entries at allowed_iovas, read after the call (an unreadable one ends it).
 */
export function iovaRangesOut(
  ps: ProcState,
  def: StructDef,
  input: Uint8Array,
  structOut: (def: StructDef, b: Uint8Array) => { [k: string]: OutValue },
): (b: Uint8Array) => OutValue {
  const off = (name: string) => def.fields.find((f) => f.name === name)!.offset;
  const capacity = Number(readScalar(input, off('num_iovas'), 'u32'));
  return (b) => {
    const out = structOut(def, b);
    const n = Math.min(capacity, Number(readScalar(b, off('num_iovas'), 'u32')), MAX_IOVAS);
    const at = readScalar(b, off('allowed_iovas'), 'u64');
    const iovas: OutValue[] = [];
    for (let i = 0; i < n; i++) {
      const e = ps.proc.mm.readUser(at + BigInt(iommu_iova_range.size * i), iommu_iova_range.size);
      if (!e) break;
      iovas.push({ start: readScalar(e, 0, 'u64'), last: readScalar(e, 8, 'u64') });
    }
    out.iovas = iovas;
    return out;
  };
}

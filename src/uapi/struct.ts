// A tiny layout DSL for uapi structs: C natural alignment on x86-64 (LP64),
// little endian. Offsets are computed, never typed in, so a layout reads like
// its header.

export type Scalar = 'u8' | 'u16' | 'u32' | 'u64' | 's32' | 's64';

/** What a field holds beyond its width: a user pointer takes an address, an fd a name or a number. */
export type FieldRole = 'pointer' | 'fd';

export interface FieldDef {
  readonly name: string;
  readonly type: Scalar;
  readonly offset: number;
  readonly size: number;
  readonly role?: FieldRole;
  /** the kernel fills it (an `out` field): an fd-role out field is the fd the ioctl returns */
  readonly out?: true;
}

export interface StructDef {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly FieldDef[];
}

export const SCALAR_SIZE: Record<Scalar, number> = { u8: 1, u16: 2, u32: 4, u64: 8, s32: 4, s64: 8 };

export type FieldSpec = readonly [name: string, type: Scalar, role?: FieldRole, dir?: 'out'];

/** Lays out fields in order with natural alignment; the struct is padded to its largest alignment. */
export function struct(name: string, specs: readonly FieldSpec[], opts: { size?: number } = {}): StructDef {
  let off = 0;
  let align = 1;
  const fields: FieldDef[] = [];
  for (const [fname, type, role, dir] of specs) {
    const size = SCALAR_SIZE[type];
    off = Math.ceil(off / size) * size;
    align = Math.max(align, size);
    fields.push({
      name: fname,
      type,
      offset: off,
      size,
      ...(role ? { role } : {}),
      ...(dir === 'out' ? { out: true as const } : {}),
    });
    off += size;
  }
  const size = opts.size ?? Math.ceil(off / align) * align;
  return { name, size, fields };
}

export function fieldOf(def: StructDef, name: string): FieldDef | undefined {
  return def.fields.find((f) => f.name === name);
}

/** The fd an ioctl returns inside its struct (KVM_CREATE_DEVICE's fd, IOMMU_FAULT_QUEUE_ALLOC's out_fault_fd). */
export function outFdField(def: StructDef): FieldDef | undefined {
  return def.fields.find((f) => f.role === 'fd' && f.out);
}

export function isSigned(t: Scalar): boolean {
  return t === 's32' || t === 's64';
}

/** Reads a little-endian scalar; signed types come back negative where their top bit is set. */
export function readScalar(buf: Uint8Array, off: number, type: Scalar): bigint {
  const size = SCALAR_SIZE[type];
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[off + i] ?? 0);
  if (isSigned(type) && v >> BigInt(size * 8 - 1) === 1n) v -= 1n << BigInt(size * 8);
  return v;
}

/** Writes the low bytes of v (two's complement for negatives). */
export function writeScalar(buf: Uint8Array, off: number, type: Scalar, v: bigint): void {
  const size = SCALAR_SIZE[type];
  let x = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) {
    buf[off + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

export function decodeStruct(def: StructDef, buf: Uint8Array, base = 0): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const f of def.fields) out[f.name] = readScalar(buf, base + f.offset, f.type);
  return out;
}

export function encodeStruct(
  def: StructDef,
  values: Readonly<Record<string, bigint>>,
  buf = new Uint8Array(def.size),
  base = 0,
): Uint8Array {
  for (const f of def.fields) {
    const v = values[f.name];
    if (v !== undefined) writeScalar(buf, base + f.offset, f.type, v);
  }
  return buf;
}

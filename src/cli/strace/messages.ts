// The bytes of write() and read() on a vhost fd (struct vhost_msg / vhost_msg_v2: a type word, the
// v2 asid or the v1 hole, then struct vhost_iotlb_msg at offset 8, 72 bytes in all, vhost.md §9.1)
// and on an eventfd (one __u64 counter), as scenario fields.
import { CONSTANTS } from '../../uapi/constants.js';
import { decodeStruct, readScalar } from '../../uapi/struct.js';
import { VHOST_MSG_IOTLB_OFFSET, VHOST_MSG_SIZE, vhost_iotlb_msg } from '../../uapi/vhost.js';
import { iotlbTypeByValue } from '../iotlb-text.js';
import type { YVal } from './emit.js';

const V1 = CONSTANTS.get('VHOST_IOTLB_MSG') ?? 1n;
const V2 = CONSTANTS.get('VHOST_IOTLB_MSG_V2') ?? 2n;
const PERM = ['NONE', 'RO', 'WO', 'RW'];
/** the union's bytes after vhost_iotlb_msg's last field (type, at 8 + 25) */
const TAIL = VHOST_MSG_IOTLB_OFFSET + 26;

export interface Message {
  version: 1 | 2;
  asid: bigint;
  iotlb: { type: number; iova: bigint; size: bigint; uaddr: bigint; perm: number };
}

/** A 72-byte message whose every byte the scenario's message fields express; else undefined. */
export function decodeMessage(b: Uint8Array): Message | undefined {
  if (b.length !== VHOST_MSG_SIZE) return undefined;
  const header = readScalar(b, 0, 'u32');
  const word1 = readScalar(b, 4, 'u32');
  if (header !== V1 && header !== V2) return undefined;
  if (header === V1 && word1 !== 0n) return undefined; // the v1 hole: only data: writes it
  if (b.subarray(TAIL).some((x) => x !== 0)) return undefined;
  const m = decodeStruct(vhost_iotlb_msg, b, VHOST_MSG_IOTLB_OFFSET);
  return {
    version: header === V2 ? 2 : 1,
    asid: header === V2 ? word1 : 0n,
    iotlb: { type: Number(m.type), iova: m.iova!, size: m.size!, uaddr: m.uaddr!, perm: Number(m.perm) },
  };
}

/** `iotlb:` of a write step: names where the scenario language has them. */
export function iotlbFields(m: Message): Record<string, YVal> {
  const t = m.iotlb;
  const out: Record<string, YVal> = {
    type: iotlbTypeByValue(t.type)?.short ?? BigInt(t.type),
    iova: t.iova,
    size: t.size,
    uaddr: t.uaddr,
    perm: PERM[t.perm] ?? BigInt(t.perm),
  };
  if (m.asid !== 0n) out.asid = m.asid;
  return out;
}

/** `out` of a read step, as the runner prints it: the header's type and asid, then the iotlb. */
export function readOut(m: Message): Record<string, YVal> {
  const t = m.iotlb;
  const out: Record<string, YVal> = { type: BigInt(m.version) };
  if (m.version === 2) out.asid = m.asid;
  out.iotlb = { type: BigInt(t.type), iova: t.iova, size: t.size, uaddr: t.uaddr, perm: BigInt(t.perm) };
  return out;
}

/** The counter an 8-byte eventfd buffer holds. */
export function counter(b: Uint8Array): bigint | undefined {
  return b.length === 8 ? readScalar(b, 0, 'u64') : undefined;
}

export const hexBytes = (b: Uint8Array): string => Buffer.from(b).toString('hex');

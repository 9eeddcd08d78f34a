// `decode --iotlb HEX`: a 72-byte struct vhost_msg (v1: int type, a 4-byte hole) or vhost_msg_v2
// (u32 type, u32 asid), then struct vhost_iotlb_msg at offset 8 (vhost.md §9.1).
import { CONSTANTS, flagNames } from '../uapi/constants.js';
import { decodeStruct, readScalar } from '../uapi/struct.js';
import { VHOST_MSG_IOTLB_OFFSET, VHOST_MSG_SIZE, vhost_iotlb_msg } from '../uapi/vhost.js';
import { iotlbTypeByValue } from './iotlb-text.js';

const V1 = Number(CONSTANTS.get('VHOST_IOTLB_MSG') ?? 1n);
const V2 = Number(CONSTANTS.get('VHOST_IOTLB_MSG_V2') ?? 2n);
const PERM = ['NONE', 'RO', 'WO', 'RW'];

function parseHex(s: string): Uint8Array | string {
  const t = s.replace(/^0x/i, '').replace(/[\s:,]|\\x/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(t))
    return `--iotlb: expected hex bytes (an even number of hex digits), got "${s}"`;
  return Uint8Array.from(t.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

export function decodeIotlb(text: string): string[] | string {
  const buf = parseHex(text);
  if (typeof buf === 'string') return buf;
  const need = VHOST_MSG_IOTLB_OFFSET + vhost_iotlb_msg.size;
  if (buf.length < need) {
    return `--iotlb: ${buf.length} bytes: a vhost message has an 8-byte header and a 32-byte vhost_iotlb_msg (${VHOST_MSG_SIZE} in all)`;
  }
  const header = Number(readScalar(buf, 0, 'u32'));
  const word1 = Number(readScalar(buf, 4, 'u32'));
  const out: string[] = [];
  if (buf.length !== VHOST_MSG_SIZE) {
    out.push(`length     ${buf.length} bytes (write() of a message takes ${VHOST_MSG_SIZE})`);
  }
  if (header === V2)
    out.push(`header     type ${header} VHOST_IOTLB_MSG_V2 (struct vhost_msg_v2), asid ${word1}`);
  else if (header === V1) {
    out.push(`header     type ${header} VHOST_IOTLB_MSG (struct vhost_msg, v1: no asid)`);
    if (word1 !== 0) out.push(`           bytes 4..7 (the v1 hole) hold ${word1}: ignored by the kernel`);
  } else out.push(`header     type ${header}: neither VHOST_IOTLB_MSG (1) nor _V2 (2); write() gives EINVAL`);
  const m = decodeStruct(vhost_iotlb_msg, buf, VHOST_MSG_IOTLB_OFFSET);
  const type = Number(m.type);
  const t = iotlbTypeByValue(type);
  const perm = Number(m.perm);
  const permName = PERM[perm] ?? flagNames('VHOST_ACCESS', BigInt(perm))?.join('|') ?? String(perm);
  out.push(
    `iotlb.type ${type} ${t ? t.constant : '(unknown type: the handler gives EINVAL)'}`,
    `iova       ${hex(m.iova!)}`,
    `size       ${hex(m.size!)}`,
    `uaddr      ${hex(m.uaddr!)}`,
    `perm       ${perm} ${perm <= 3 ? `VHOST_ACCESS_${permName}` : permName}`,
  );
  const last = m.size! === 0n ? undefined : m.iova! + m.size! - 1n;
  if (last !== undefined) out.push(`range      [${hex(m.iova!)}, ${hex(last)}]`);
  return out;
}

// The vhost IOTLB message types (include/uapi/linux/vhost_types.h, vhost.md §9) with the short
// names scenarios use (`type: UPDATE`): values come from src/uapi/constants.ts.
import { CONSTANTS } from '../uapi/constants.js';

export interface IotlbTypeInfo {
  short: string;
  constant: string;
  value: number;
  direction: string;
  meaning: string;
}

const TO_KERNEL = 'userspace → kernel, by write() on the vhost fd';
const FROM_KERNEL = 'kernel → userspace, by read() on the vhost fd';

const DOCS: Record<string, [string, string]> = {
  MISS: [
    FROM_KERNEL,
    'the device needs a translation for iova (perm: the access it wants); answer with UPDATE',
  ],
  UPDATE: [TO_KERNEL, 'map [iova, iova + size) to uaddr with perm; wakes queues stalled on a MISS it covers'],
  INVALIDATE: [TO_KERNEL, 'drop every entry overlapping [iova, iova + size)'],
  ACCESS_FAIL: [FROM_KERNEL, 'defined in the uapi; no in-tree vhost driver queues it'],
  BATCH_BEGIN: [
    TO_KERNEL,
    'start a batch of updates (VHOST_BACKEND_F_IOTLB_BATCH; vhost-vdpa commits at BATCH_END)',
  ],
  BATCH_END: [TO_KERNEL, 'end the batch: vhost-vdpa hands the parent the whole map at once'],
  REMAP: [TO_KERNEL, 'change the uaddr of existing mappings after a live update (proposed, never merged)'],
};

export const IOTLB_TYPES: readonly IotlbTypeInfo[] = Object.entries(DOCS).flatMap(
  ([short, [direction, meaning]]) => {
    const constant = `VHOST_IOTLB_${short}`;
    const v = CONSTANTS.get(constant);
    return v === undefined ? [] : [{ short, constant, value: Number(v), direction, meaning }];
  },
);

/** By short name (UPDATE) or header name (VHOST_IOTLB_UPDATE). */
export function iotlbType(name: string): IotlbTypeInfo | undefined {
  return IOTLB_TYPES.find((t) => t.short === name || t.constant === name);
}

export function iotlbTypeByValue(v: number): IotlbTypeInfo | undefined {
  return IOTLB_TYPES.find((t) => t.value === v);
}

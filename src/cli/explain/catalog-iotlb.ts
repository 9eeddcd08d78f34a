// Checks of the IOTLB messages userspace writes to a vhost fd: vhost_chr_write_iter parses the
// message, then the device's handler (vhost_process_iotlb_msg for vhost-net and vhost-vsock,
// vhost_vdpa_process_iotlb_msg for vhost-vdpa) acts on it. write() returns the parser's errno as is
// and turns every handler errno into EFAULT: the site keeps the handler's.
import type { Probe } from './probe.js';
import { iotlb, OWN, UPDATE_4K, VDPA_ASID, VDPA_OWNED, VSOCK } from './steps.js';

const UPDATE = 'VHOST_IOTLB_UPDATE';
const INVALIDATE = 'VHOST_IOTLB_INVALIDATE';
const BEGIN = 'VHOST_IOTLB_BATCH_BEGIN';
const END = 'VHOST_IOTLB_BATCH_END';
const REMAP = 'VHOST_IOTLB_REMAP';

const probe = (
  target: string,
  title: string,
  fn: Probe['fn'],
  steps: readonly string[],
  patches?: string[],
): Probe => ({
  target,
  title,
  fn,
  steps,
  ...(patches ? { patches } : {}),
});

const VSOCK_OWNED = [VSOCK, OWN, '{mmap: m, size: 64K}'];
const notOwner = (type: string, fields: string) =>
  probe(type, 'vhost-vdpa: caller is not the owner', 'vhost_dev_check_owner', [
    '{open: /dev/vhost-vdpa-0, as: d}',
    '{mmap: m, size: 64K, memfd: true}',
    iotlb(type.replace('VHOST_IOTLB_', ''), fields),
  ]);

export const IOTLB_PROBES: readonly Probe[] = [
  probe(UPDATE, 'a write shorter than the header type', 'vhost_chr_write_iter', [
    ...VDPA_OWNED,
    '{write: d, iotlb: {type: UPDATE}, len: 2}',
  ]),
  probe(UPDATE, 'an unknown header type', 'vhost_chr_write_iter', [
    ...VDPA_OWNED,
    '{write: d, iotlb: {type: UPDATE}, header: 5}',
  ]),
  probe(UPDATE, 'a write shorter than the message', 'vhost_chr_write_iter', [
    ...VDPA_OWNED,
    '{write: d, iotlb: {type: UPDATE}, len: 20}',
  ]),
  probe(
    UPDATE,
    'size 0',
    ['vhost_chr_write_iter', 'vhost_vdpa_process_iotlb_update'],
    [...VDPA_OWNED, iotlb('UPDATE', 'iova: 0, size: 0, uaddr: $m, perm: RW')],
  ),
  notOwner(UPDATE, 'iova: 0, size: 4K, uaddr: $m, perm: RW'),
  probe(UPDATE, 'vhost-vdpa: asid >= nas', 'vhost_vdpa_process_iotlb_msg', [
    ...VDPA_ASID,
    iotlb('UPDATE', 'iova: 0, size: 4K, uaddr: $m, perm: RW, asid: 2'),
  ]),
  probe(UPDATE, 'vhost-vdpa: iova + size - 1 overflows', 'vhost_vdpa_process_iotlb_update', [
    ...VDPA_OWNED,
    iotlb('UPDATE', 'iova: 0xfffffffffffff000, size: 0x2000, uaddr: $m, perm: RW'),
  ]),
  probe(UPDATE, 'vhost-vdpa: overlaps a mapping', 'vhost_vdpa_process_iotlb_update', [
    ...VDPA_OWNED,
    UPDATE_4K,
    iotlb('UPDATE', 'iova: 0, size: 8K, uaddr: $m, perm: RW'),
  ]),
  probe(UPDATE, 'vhost-vsock: no device IOTLB (ACCESS_PLATFORM not acked)', 'vhost_process_iotlb_msg', [
    ...VSOCK_OWNED,
    iotlb('UPDATE', 'iova: 0, size: 4K, uaddr: $m, perm: RW'),
  ]),
  probe(UPDATE, 'vhost-vsock: uaddr outside user space', 'vhost_process_iotlb_msg', [
    ...VSOCK_OWNED,
    '{ioctl: VHOST_SET_FEATURES, fd: d, arg: [VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM]}',
    iotlb('UPDATE', 'iova: 0, size: 4K, uaddr: 0xffff800000000000, perm: RW'),
  ]),

  notOwner(INVALIDATE, 'iova: 0, size: 4K'),
  probe(INVALIDATE, 'vhost-vdpa: no address space for the asid', 'vhost_vdpa_process_iotlb_msg', [
    ...VDPA_ASID,
    iotlb('INVALIDATE', 'iova: 0, size: 4K, asid: 1'),
  ]),
  probe(INVALIDATE, 'vhost-vsock: no device IOTLB', 'vhost_process_iotlb_msg', [
    ...VSOCK_OWNED,
    iotlb('INVALIDATE', 'iova: 0, size: 4K'),
  ]),

  notOwner(BEGIN, ''),
  probe(BEGIN, 'vhost-vdpa: asid >= nas', 'vhost_vdpa_process_iotlb_msg', [
    ...VDPA_ASID,
    iotlb('BATCH_BEGIN', 'asid: 2'),
  ]),

  probe(END, 'vhost-vdpa: in a batch of another asid', 'vhost_vdpa_process_iotlb_msg', [
    ...VDPA_ASID,
    UPDATE_4K.replace('perm: RW', 'perm: RW, asid: 1'),
    iotlb('BATCH_BEGIN', 'asid: 0'),
    iotlb('BATCH_END', 'asid: 1'),
  ]),

  probe(
    REMAP,
    'vhost-vdpa: perm given or size 0',
    'vhost_vdpa_process_iotlb_remap',
    [...VDPA_OWNED, UPDATE_4K, iotlb('REMAP', 'iova: 0, size: 4K, uaddr: $m, perm: RW')],
    ['vhost-iotlb-remap'],
  ),
  probe(
    REMAP,
    'vhost-vdpa: no mapping at iova',
    'vhost_vdpa_process_iotlb_remap',
    [...VDPA_OWNED, UPDATE_4K, iotlb('REMAP', 'iova: 0x100000, size: 4K, uaddr: $m')],
    ['vhost-iotlb-remap'],
  ),
  probe(
    REMAP,
    'vhost-vdpa: not exactly one mapping',
    'vhost_vdpa_process_iotlb_remap',
    [...VDPA_OWNED, UPDATE_4K, iotlb('REMAP', 'iova: 0, size: 8K, uaddr: $m')],
    ['vhost-iotlb-remap'],
  ),
];

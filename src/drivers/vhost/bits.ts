// Bit numbers the vhost code tests (include/uapi/linux/virtio_config.h,
// virtio_ring.h, vhost_types.h), as the kernel names them.
export const VIRTIO_RING_F_EVENT_IDX = 29;
export const VHOST_F_LOG_ALL = 26;
export const VIRTIO_F_VERSION_1 = 32;
export const VIRTIO_F_ACCESS_PLATFORM = 33;
export const VIRTIO_F_RING_PACKED = 34;
export const VIRTIO_F_RING_RESET = 40;
export const VHOST_NET_F_VIRTIO_NET_HDR = 27;
export const VIRTIO_NET_F_MRG_RXBUF = 15;
export const VIRTIO_VSOCK_F_SEQPACKET = 1;

export const VHOST_BACKEND_F_IOTLB_MSG_V2 = 0x1;
export const VHOST_BACKEND_F_IOTLB_BATCH = 0x2;
export const VHOST_BACKEND_F_IOTLB_ASID = 0x3;

export const VHOST_IOTLB_MSG = 1;
export const VHOST_IOTLB_MSG_V2 = 2;

export const VHOST_IOTLB_MISS = 1;
export const VHOST_IOTLB_UPDATE = 2;
export const VHOST_IOTLB_INVALIDATE = 3;
export const VHOST_IOTLB_ACCESS_FAIL = 4;
export const VHOST_IOTLB_BATCH_BEGIN = 5;
export const VHOST_IOTLB_BATCH_END = 6;

export const VHOST_ACCESS_RO = 0x1;
export const VHOST_ACCESS_WO = 0x2;
export const VHOST_ACCESS_RW = 0x3;

/** VHOST_FEATURES: NOTIFY_ON_EMPTY, LOG_ALL, ANY_LAYOUT, INDIRECT_DESC, EVENT_IDX, VERSION_1 */
export const VHOST_FEATURES = 0x13d000000n;

export const bit = (n: number): bigint => 1n << BigInt(n);

// include/uapi/linux/if_tun.h: the tun/tap ioctls vhost-net's users need.
import { defineIoctl, type IoctlDef } from './ioctl-def.js';

/** struct ifreq as TUNSETIFF reads it: a 16-byte name, then the flags short of the union (40 bytes). */
export const IFREQ_SIZE = 40;
export const IFNAMSIZ = 16;

const T = 'T'.charCodeAt(0);
export const TUN_IOCTLS: readonly IoctlDef[] = [
  // Declared _IOW(int) although it takes a struct ifreq: the encoded size is that of int.
  defineIoctl(
    'TUNSETIFF',
    'tun',
    'w',
    T,
    202,
    { kind: 'custom', size: IFREQ_SIZE, layout: 'ifreq' },
    {
      encodedSize: 4,
    },
  ),
  defineIoctl(
    'TUNGETIFF',
    'tun',
    'r',
    T,
    210,
    { kind: 'custom', size: IFREQ_SIZE, layout: 'ifreq' },
    {
      encodedSize: 4,
    },
  ),
  defineIoctl('TUNSETVNETHDRSZ', 'tun', 'w', T, 216, { kind: 'scalar', type: 's32' }),
];

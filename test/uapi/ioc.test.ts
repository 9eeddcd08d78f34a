import { describe, expect, test } from 'vitest';
import { io, ioc, iocDecode, ior, iow, iowr } from '../../src/uapi/ioc.js';

// include/uapi/linux/vhost.h: VHOST_VIRTIO is 0xAF; numbers as vhost.md §2 lists them.
describe('_IOC encoding (include/uapi/asm-generic/ioctl.h)', () => {
  test.each([
    ['VHOST_GET_FEATURES', ior(0xaf, 0x00, 8), 0x8008af00],
    ['VHOST_SET_FEATURES', iow(0xaf, 0x00, 8), 0x4008af00],
    ['VHOST_SET_OWNER', io(0xaf, 0x01), 0x0000af01],
    ['VHOST_SET_VRING_ADDR', iow(0xaf, 0x11, 40), 0x4028af11],
    ['VHOST_GET_VRING_BASE', iowr(0xaf, 0x12, 8), 0xc008af12],
    ['VHOST_VSOCK_SET_RUNNING', iow(0xaf, 0x61, 4), 0x4004af61],
  ])('%s', (_name, got, want) => {
    expect(got).toBe(want);
  });

  test('decode inverts encode', () => {
    expect(iocDecode(0xc008af12)).toEqual({ dir: 'rw', type: 0xaf, nr: 0x12, size: 8 });
    expect(iocDecode(ioc('r', 0x3b, 0x6a, 0))).toEqual({ dir: 'r', type: 0x3b, nr: 0x6a, size: 0 });
  });

  test('a size past 14 bits is refused', () => {
    expect(() => ioc('w', 0xaf, 0, 1 << 14)).toThrow(RangeError);
  });
});

// `vioctl explain` through the real CLI: each kind of name, names from tables added later (VFIO)
// found automatically, and unknown names with suggestions.
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { ALL_IOCTLS } from '../../src/uapi/ioctls.js';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/vioctl.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

describe('vioctl explain', () => {
  test('an ioctl: number, _IOC fields, fd type and the struct layout with offsets', () => {
    const r = run('explain', 'VHOST_SET_VRING_ADDR');
    expect(r.code).toBe(0);
    expect(r.out).toContain('VHOST_SET_VRING_ADDR  ioctl 0x4028af11');
    expect(r.out).toContain('encoding   _IOW(0xaf, 0x11, 40 bytes)');
    expect(r.out).toMatch(/nr +0x11 \(17\)/);
    expect(r.out).toContain('argument   struct vhost_vring_addr, 40 bytes');
    expect(r.out).toMatch(/^ +8 +8 +u64 +desc_user_addr {2}\(pointer\)$/m);
    expect(r.out).toMatch(/^ +32 +8 +u64 +log_guest_addr$/m);
  });

  test('one ioctl of every fd type in ALL_IOCTLS (tables added later show up by themselves)', () => {
    const seen = new Set<string>();
    for (const d of ALL_IOCTLS) {
      if (seen.has(d.family)) continue;
      seen.add(d.family);
      const r = run('explain', d.name);
      expect(r.code, d.name).toBe(0);
      expect(r.out).toContain(`${d.name}  ioctl ${hex32(d.number)}`);
    }
  });

  test('IOTLB message types, REMAP with its patch', () => {
    expect(run('explain', 'UPDATE').out).toContain('VHOST_IOTLB_UPDATE  IOTLB message type 2');
    const remap = run('explain', 'REMAP');
    expect(remap.code).toBe(0);
    expect(remap.out).toContain('IOTLB message type 7');
    expect(remap.out).toContain('--patch vhost-iotlb-remap');
  });

  test('a feature bit: bit, mask and the devices offering it per profile', () => {
    const r = run('explain', 'VIRTIO_F_ACCESS_PLATFORM');
    expect(r.code).toBe(0);
    expect(r.out).toContain('feature bit 33 (transport), mask 0x200000000');
    expect(r.out).toContain('aliases    VIRTIO_F_IOMMU_PLATFORM');
    expect(r.out).toMatch(/\/dev\/vhost-vsock +5\.15, .*6\.12 {2}\(not: 5\.10\)/);
    expect(run('explain', 'VIRTIO_F_IOMMU_PLATFORM').out).toContain(
      'is the old name of VIRTIO_F_ACCESS_PLATFORM',
    );
  });

  test('an errno, a constant, a profile, a patch', () => {
    expect(run('explain', 'EFAULT').out).toBe('EFAULT  errno 14: Bad address\n');
    expect(run('explain', 'ENOTSUP').out).toContain('EOPNOTSUPP  errno 95');
    expect(run('explain', 'VHOST_ACCESS_RW').out).toContain('constant 0x3 (3)');
    const p = run('explain', '5.15');
    expect(p.out).toContain('kernel profile "5.15"');
    expect(p.out).toContain('vsock-iotlb: ');
    const patch = run('explain', 'vhost-new-owner');
    expect(patch.out).toContain('ioctl VHOST_NEW_OWNER');
    expect(patch.out).toMatch(/profiles +6\.10, 6\.12/);
  });

  test('an unknown name: exit 2 with suggestions', () => {
    const r = run('explain', 'VHOST_SET_OWNR');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('unknown name "VHOST_SET_OWNR" (did you mean: VHOST_SET_OWNER');
  });
});

describe('vioctl explain of a pause point', () => {
  test('unbind:device-removed lists, per vfio profile, the points an unbind passes', () => {
    const r = spawnSync(process.execPath, ['bin/vioctl.js', 'explain', 'unbind:device-removed'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}3\.19 +unbind:device-removed → unbind:waiting-for-release$/m);
    expect(r.stdout).toMatch(/^ {2}5\.18 +.*unbind:waiting-for-container$/m);
  });
});

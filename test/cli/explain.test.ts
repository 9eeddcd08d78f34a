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
    expect(run('explain', 'EFAULT').out).toMatch(/^EFAULT {2}errno 14: Bad address\n/);
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

describe('vioctl explain: the checks in the kernel order, answered per profile', () => {
  test('an ioctl: its devices, then each check with the profiles grouped by answer', () => {
    const r = run('explain', 'VHOST_VDPA_SET_GROUP_ASID');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^devices +vhost-vdpa +\/dev\/vhost-vdpa-0 +on 5\.10\+$/m);
    expect(r.out).toMatch(/^ +vhost-vdpa +\/dev\/vhost-vdpa-1 +on 5\.15\+$/m);
    expect(r.out).toMatch(
      /^ {2}1\. caller is not the owner +\[vhost_dev_check_owner; on \/dev\/vhost-vdpa-0\]$/m,
    );
    // the bound check: Debian's backport on 6.1 and 6.12, absent in mainline 6.6 – 6.10
    expect(r.out).toMatch(/^ +6\.1, 6\.12 +EINVAL at vhost_vdpa_vring_ioctl: idx >= vdpa->ngroups$/m);
    expect(r.out).toMatch(/^ +6\.5–6\.10 +0 \(the check passes or does not exist\)$/m);
    expect(r.out).toMatch(/^unknown +on 5\.10, 5\.15: /m);
    // the iommufd-container build models only the vfio paths
    expect(r.out).toMatch(
      /^not run +on 3\.19, 4\.0, 5\.18, 6\.12-iommufd-vfio-container: vhost-vdpa is not modelled$/m,
    );
  });

  test('--kernel restricts the answers to one profile; an unknown profile exits 2', () => {
    const r = run('explain', 'VHOST_VDPA_RESUME', '--kernel', '6.1');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ +6\.1 +ENOTTY at vhost_vring_ioctl: .*\[unknown here\]$/m);
    expect(r.out).not.toMatch(/EOPNOTSUPP/);
    const bad = run('explain', 'VHOST_VDPA_RESUME', '--kernel', '9.9');
    expect(bad.code).toBe(2);
    expect(bad.out).toBe('');
    expect(bad.err).toContain('unknown kernel profile "9.9"');
  });

  test("an IOTLB type: the parser's errno as is, the handler's behind write()'s EFAULT", () => {
    const r = run('explain', 'UPDATE');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^ +5\.10–5\.15 +EFAULT \(the handler's EINVAL\) at vhost_vdpa_process_iotlb_update: /m,
    );
    expect(r.out).toMatch(
      /^ +6\.1\+ +EINVAL at vhost_chr_write_iter: msg\.type == VHOST_IOTLB_UPDATE && msg\.size == 0$/m,
    );
    const remap = run('explain', 'REMAP');
    expect(remap.out).toMatch(
      /^ +6\.10\+ +EFAULT \(the handler's ENOENT\) at vhost_vdpa_process_iotlb_remap: /m,
    );
    expect(remap.out).toMatch(/not run: needs --patch vhost-iotlb-remap/);
  });

  test('an errno lists the checks that give it, the handler errnos behind EFAULT included', () => {
    const r = run('explain', 'ENOENT');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^ {2}VHOST_IOTLB_REMAP: vhost-vdpa: no mapping at iova +6\.10\+ \(the handler's; write\(\) gives EFAULT\)$/m,
    );
    expect(r.out).toMatch(/^ {2}IOMMU_IOAS_MAP: no IOAS of that id +6\.5\+, 6\.12-iommufd-vfio-container$/m);
  });

  test('--json: the checks with each group of profiles and its site', () => {
    const r = run('explain', 'VFIO_GROUP_SET_CONTAINER', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ name: 'VFIO_GROUP_SET_CONTAINER', kind: 'ioctl', family: 'vfio-group' });
    const neg = j.checks.find((c: { title: string }) => c.title === 'a negative fd');
    expect(neg.answers).toContainEqual(
      expect.objectContaining({
        kernels: ['6.1', '6.5', '6.6', '6.9', '6.10', '6.12', '6.12-iommufd-vfio-container'],
        errno: 'EBADF',
      }),
    );
    expect(neg.answers).toContainEqual(
      expect.objectContaining({
        errno: 'EINVAL',
        site: expect.objectContaining({ function: 'vfio_group_fops_unl_ioctl' }),
      }),
    );
    expect(run('explain', 'VFIO_GROUP_SET_CONTAINER', '--json').out).toBe(r.out);
  });
});

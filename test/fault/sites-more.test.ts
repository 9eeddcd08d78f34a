// Fault sites of vhost-vdpa's config calls, KVM_CREATE_VM, TUNSETIFF and VFIO_GROUP_GET_DEVICE_FD's
// strndup_user (6.1 and 6.12 source). Test names give the kernel function followed.
import { describe, expect, test } from 'vitest';
import { GROUP, run, setIommu, yaml } from './helpers.js';

const site = (x: ReturnType<typeof run>, i: number) => x.step(i).faults?.[0]?.site;

describe('vhost-vdpa config', () => {
  test.each(['6.1', '6.12'])(
    'vhost_vdpa_get_config @ %s: the kvzalloc comes after the header copy and before the copy out',
    (ver) => {
      const at = (n: number) =>
        run(
          yaml(
            ver,
            `  - open: /dev/vhost-vdpa-0
    as: v
  - ioctl: VHOST_VDPA_GET_CONFIG
    fd: v
    arg: { off: 0, len: 6 }
    fail_nth: ${n}
`,
          ),
        );
      expect([1, 2, 3].map((n) => site(at(n), 1))).toEqual([
        'copy_from_user',
        'vhost_vdpa_get_config: kvzalloc buf',
        'copy_to_user',
      ]);
      expect(at(2).step(1)).toMatchObject({ errno: 'ENOMEM', site: { function: 'vhost_vdpa_get_config' } });
      expect(at(4).step(1)).toMatchObject({ errno: null, ret: 0 });
    },
  );

  test('vhost_vdpa_set_config: vmemdup_user is a kvmalloc (-ENOMEM) then a copy_from_user (-EFAULT); nothing written', () => {
    const steps = (n: number) => `  - open: /dev/vhost-vdpa-0
    as: v
  - ioctl: VHOST_VDPA_SET_CONFIG
    fd: v
    arg: { off: 0, len: 6, buf: "020000000001" }
    fail_nth: ${n}
  - ioctl: VHOST_VDPA_GET_CONFIG
    fd: v
    arg: { off: 0, len: 6 }
`;
    const x = run(yaml('6.12', steps(2)));
    expect(site(x, 1)).toBe('vmemdup_user: kvmalloc');
    expect(x.step(1)).toMatchObject({ errno: 'ENOMEM', site: { function: 'vhost_vdpa_set_config' } });
    // the MAC is the machine's still
    expect(x.step(2).out).toMatchObject({ buf: '525400123456' });
    const y = run(yaml('6.12', steps(3)));
    expect(site(y, 1)).toBe('copy_from_user');
    expect(y.step(1)).toMatchObject({ errno: 'EFAULT' });
    expect(run(yaml('6.12', steps(4))).step(2).out).toMatchObject({ buf: '020000000001' });
  });
});

describe('kvm', () => {
  test.each(['6.1', '6.12'])(
    'kvm_create_vm @ %s: kvm_arch_alloc_vm NULL is -ENOMEM, the fd put back (the next VM gets the same number)',
    (ver) => {
      const x = run(
        yaml(
          ver,
          `  - open: /dev/kvm
    as: kvm
  - ioctl: KVM_CREATE_VM
    fd: kvm
    fail_nth: 1
  - ioctl: KVM_CREATE_VM
    fd: kvm
`,
        ).replace('steps:', 'machine: { kvm: true }\nsteps:'),
      );
      expect(site(x, 1)).toBe('kvm_arch_alloc_vm: __vmalloc kvm');
      expect(x.step(1)).toMatchObject({ errno: 'ENOMEM', site: { function: 'kvm_create_vm' } });
      expect(x.step(2)).toMatchObject({ errno: null, ret: 4 });
      expect(x.leaks).toEqual([]);
    },
  );
});

describe('tun', () => {
  test.each(['6.1', '6.12'])(
    'tun_set_iff @ %s: alloc_netdev_mqs NULL is -ENOMEM before the name is taken; the file stays detached',
    (ver) => {
      const setIff = (fail?: number) => `  - ioctl: TUNSETIFF
    fd: t
    arg: { ifr_name: "", ifr_flags: [IFF_TAP, IFF_NO_PI] }
${fail ? `    fail_nth: ${fail}\n` : ''}`;
      const x = run(yaml(ver, `  - open: /dev/net/tun\n    as: t\n${setIff(2)}${setIff()}`));
      // point 1: copy_from_user of the ifreq
      expect(site(x, 1)).toBe('alloc_netdev_mqs: dev_addr_init kzalloc');
      expect(x.step(1)).toMatchObject({ errno: 'ENOMEM', site: { function: 'tun_set_iff' } });
      // not attached (no EEXIST), and tap0 is still free
      expect(x.step(2)).toMatchObject({ errno: null, out: { ifr_name: 'tap0' } });
      expect(x.leaks).toEqual([]);
    },
  );
});

describe('vfio', () => {
  test.each(['6.1', '6.12'])(
    'vfio_group_ioctl_get_device_fd @ %s: strndup_user is two fault points (memdup_user kmalloc, one copy_from_user), not one per byte',
    (ver) => {
      const at = (n: number) =>
        run(
          yaml(
            ver,
            `${GROUP}${setIommu()}  - ioctl: VFIO_GROUP_GET_DEVICE_FD
    fd: g
    arg: "0000:03:00.0"
    fail_nth: ${n}
`,
          ),
        ).step(5);
      expect(at(1)).toMatchObject({ errno: 'ENOMEM', site: { function: 'memdup_user' } });
      expect(at(1).faults?.[0]?.site).toBe('memdup_user: kmalloc');
      expect(at(2)).toMatchObject({ errno: 'EFAULT', site: { function: 'memdup_user' } });
      expect(at(3).faults?.[0]?.site).toBe(
        ver === '6.1' ? undefined : 'vfio_allocate_device_file: kzalloc df',
      );
    },
  );

  test('vfio_device_open_file (6.12): vfio_allocate_device_file -ENOMEM before vfio_df_group_open: the device is not opened', () => {
    const x = run(
      yaml(
        '6.12',
        `${GROUP}${setIommu()}  - ioctl: VFIO_GROUP_GET_DEVICE_FD
    fd: g
    arg: "0000:03:00.0"
    fail_nth: 3
  - ioctl: VFIO_GROUP_UNSET_CONTAINER
    fd: g
`,
      ),
    );
    expect(x.step(5)).toMatchObject({
      errno: 'ENOMEM',
      ret: -1,
      site: { function: 'vfio_allocate_device_file' },
    });
    // no device fd holds the container: UNSET_CONTAINER is not EBUSY
    expect(x.step(6)).toMatchObject({ errno: null, ret: 0 });
    expect(x.leaks).toEqual([]);
  });
});

// Each modelled fault site: the errno the kernel returns there, what it unwinds, and that a step's
// fail_nth counts only inside that step. Test names give the kernel function followed.
import { describe, expect, test } from 'vitest';
import { GROUP, run, setIommu, yaml } from './helpers.js';

const VSOCK_OWNED = `
  - open: /dev/vhost-vsock
    as: vs
  - ioctl: VHOST_SET_OWNER
    fd: vs
`;

describe('vhost', () => {
  test('vhost_dev_set_owner (6.1): kthread_create fails first, -ENOMEM, and the device stays without owner', () => {
    const x = run(
      yaml(
        '6.1',
        `${VSOCK_OWNED}    fail_nth: 1
  - ioctl: VHOST_SET_OWNER
    fd: vs
`,
      ),
    );
    expect(x.step(1)).toMatchObject({ errno: 'ENOMEM', site: { function: 'vhost_dev_set_owner' } });
    expect(x.step(1).faults).toEqual([
      { step: 1, nth: 1, scope: 'step', kind: 'alloc', site: 'kthread_create_on_node: kmalloc create' },
    ]);
    // unwound: a second SET_OWNER is not EBUSY
    expect(x.step(2)).toMatchObject({ ret: 0, errno: null });
    expect(x.leaks).toEqual([]);
  });

  test('vhost_dev_set_owner (6.12): vhost_dev_alloc_iovecs (3 per vq) comes before vhost_worker_create', () => {
    const at = (n: number) =>
      run(yaml('6.12', `${VSOCK_OWNED}    fail_nth: ${n}\n`)).step(1).faults?.[0]?.site;
    expect(at(1)).toBe('vhost_dev_alloc_iovecs: kmalloc_array vq 0 indirect');
    expect(at(6)).toBe('vhost_dev_alloc_iovecs: kmalloc_array vq 1 heads');
    expect(at(7)).toBe('vhost_worker_create: kzalloc worker');
    expect(at(8)).toBe('vhost_task_create: kzalloc vtsk');
    expect(at(9)).toBeUndefined(); // SET_OWNER reaches 8 fault points
  });

  test('vhost_vsock_set_features: vhost_init_device_iotlb -ENOMEM is -EFAULT (goto err)', () => {
    const x = run(
      yaml(
        '6.12',
        `${VSOCK_OWNED}  - ioctl: VHOST_SET_FEATURES
    fd: vs
    arg: [VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM]
    fail_nth: 2
`,
      ),
    );
    // point 1 is copy_from_user of the features, point 2 iotlb_alloc
    expect(x.step(2)).toMatchObject({ errno: 'EFAULT', site: { function: 'vhost_vsock_set_features' } });
    expect(x.r.state.vhost[0]).toMatchObject({ iotlb: false, features: 0n });
  });

  test('vhost_vsock_dev_ioctl: VHOST_SET_FEATURES copies with copy_from_user (a fault point), GET_VRING_BASE reads idx with get_user (none)', () => {
    const x = run(
      yaml(
        '6.12',
        `${VSOCK_OWNED}  - ioctl: VHOST_SET_FEATURES
    fd: vs
    arg: VIRTIO_F_VERSION_1
    fail_nth: 1
  - ioctl: VHOST_GET_VRING_BASE
    fd: vs
    arg: { index: 0 }
    fail_nth: 1
`,
      ),
    );
    expect(x.step(2)).toMatchObject({ errno: 'EFAULT' });
    expect(x.step(2).faults?.[0]?.site).toBe('copy_from_user');
    // vhost_vring_ioctl: get_user(idx) is not counted, so the first point is copy_to_user of the state
    expect(x.step(3)).toMatchObject({ errno: 'EFAULT' });
    expect(x.step(3).faults?.[0]?.site).toBe('copy_to_user');
  });

  test('vhost_chr_write_iter: each copy_from_iter is a fault point; a short copy is -EINVAL', () => {
    const x = run(
      yaml(
        '6.12',
        `${VSOCK_OWNED}  - ioctl: VHOST_SET_FEATURES
    fd: vs
    arg: [VIRTIO_F_VERSION_1, VIRTIO_F_ACCESS_PLATFORM]
  - mmap: ram
    size: 64K
  - write: vs
    iotlb: { type: UPDATE, iova: 0, size: 4K, uaddr: "$ram", perm: RW }
    fail_nth: 2
  - write: vs
    iotlb: { type: UPDATE, iova: 0, size: 4K, uaddr: "$ram", perm: RW }
    fail_nth: 3
`,
      ),
    );
    // v1 message: point 1 the type, point 2 the vhost_iotlb_msg
    expect(x.step(4)).toMatchObject({ errno: 'EINVAL', site: { function: 'vhost_chr_write_iter' } });
    // point 3: vhost_iotlb_add_range_ctx's kmalloc; the handler's -ENOMEM becomes -EFAULT
    expect(x.step(5)).toMatchObject({
      errno: 'EFAULT',
      site: { function: 'vhost_process_iotlb_msg', errno: 'ENOMEM' },
    });
    expect(x.r.state.iotlb).toEqual([]);
  });

  test('vhost_set_memory: kvzalloc -ENOMEM; vhost_iotlb_add_range failing is -EFAULT (goto err), the old table kept', () => {
    const steps = (n: number) => `${VSOCK_OWNED}  - mmap: ram
    size: 1M
  - ioctl: VHOST_SET_MEM_TABLE
    fd: vs
    arg: { regions: [{ guest_phys_addr: 0, memory_size: 1M, userspace_addr: "$ram" }] }
    fail_nth: ${n}
`;
    // points: copy_from_user(&mem), kvzalloc, copy_from_user(regions), iotlb_alloc, add_range
    const errnos = [1, 2, 3, 4, 5, 6].map((n) => run(yaml('6.12', steps(n))).step(3).errno);
    expect(errnos).toEqual(['EFAULT', 'ENOMEM', 'EFAULT', 'ENOMEM', 'EFAULT', null]);
    const x = run(yaml('6.12', steps(5)));
    expect(x.step(3).site?.check).toContain('-ENOMEM');
  });

  test('vhost_net_open: the vqs, rx queue and xdp kmalloc_arrays are -ENOMEM; kvmalloc of the device is no fault point', () => {
    const site = (n: number) =>
      run(yaml('6.12', `  - open: /dev/vhost-net\n    as: n\n    fail_nth: ${n}\n`)).step(0);
    expect([1, 2, 3].map((n) => site(n).faults?.[0]?.site)).toEqual([
      'vhost_net_open: kmalloc_array vqs',
      'vhost_net_open: kmalloc_array rxq.queue',
      'vhost_net_open: kmalloc_array xdp',
    ]);
    expect(site(3)).toMatchObject({ errno: 'ENOMEM', ret: -1 });
    expect(site(4)).toMatchObject({ errno: null, ret: 3 });
  });

  test('vhost_net_reset_owner: vhost_dev_reset_owner_prepare -ENOMEM before anything is stopped: the owner stays', () => {
    const x = run(
      yaml(
        '6.12',
        `  - open: /dev/vhost-net
    as: n
  - ioctl: VHOST_SET_OWNER
    fd: n
  - ioctl: VHOST_RESET_OWNER
    fd: n
    fail_nth: 1
`,
      ),
    );
    expect(x.step(2)).toMatchObject({ errno: 'ENOMEM', site: { function: 'vhost_net_reset_owner' } });
    expect(x.r.state.vhost[0]).toMatchObject({ owner: 'main' });
  });

  test('vhost_vdpa_open: kmalloc_array vqs -ENOMEM drops v->opened (err:), so the next open works', () => {
    const x = run(
      yaml(
        '6.12',
        `  - open: /dev/vhost-vdpa-0
    as: v
    fail_nth: 1
  - open: /dev/vhost-vdpa-0
    as: v
`,
      ),
    );
    expect(x.step(0)).toMatchObject({ errno: 'ENOMEM', site: { function: 'vhost_vdpa_open' } });
    expect(x.step(1)).toMatchObject({ errno: null, ret: 3 });
    expect(x.leaks).toEqual([]);
  });
});

describe('vfio, eventfd, iommufd', () => {
  test('vfio_fops_open: kzalloc of the container -ENOMEM, nothing allocated', () => {
    const x = run(yaml('6.12', '  - open: /dev/vfio/vfio\n    as: c\n    fail_nth: 1\n'));
    expect(x.step(0)).toMatchObject({ errno: 'ENOMEM', site: { function: 'vfio_fops_open' } });
    expect(x.leaks).toEqual([]);
  });

  test('vfio_dma_do_map: kzalloc of the dma -ENOMEM: nothing mapped or charged', () => {
    const steps = (fail: string) => `${GROUP}${setIommu()}  - mmap: ram
    size: 1M
  - ioctl: VFIO_IOMMU_MAP_DMA
    fd: c
    arg: { flags: [VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE], vaddr: "$ram", iova: 0, size: 1M }
${fail}  - ioctl: VFIO_IOMMU_MAP_DMA
    fd: c
    arg: { flags: [VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE], vaddr: "$ram", iova: 0, size: 1M }
`;
    // point 1 copies the map struct in, point 2 is the kzalloc
    const x = run(yaml('6.1', steps('    fail_nth: 2\n')));
    expect(x.step(6)).toMatchObject({ errno: 'ENOMEM', site: { function: 'vfio_dma_do_map' } });
    // nothing was linked: the same mapping again is not EEXIST
    expect(x.step(7)).toMatchObject({ errno: null, ret: 0 });
    expect(x.leaks).toEqual([]);
  });

  test('vfio_ioctl_set_iommu: vfio_iommu_type1_open kzalloc -ENOMEM leaves the container without driver', () => {
    const x = run(
      yaml(
        '6.12',
        `${GROUP}${setIommu()}    fail_nth: 1
  - ioctl: VFIO_SET_IOMMU
    fd: c
    arg: VFIO_TYPE1v2_IOMMU
`,
      ),
    );
    expect(x.step(4)).toMatchObject({ errno: 'ENOMEM', site: { function: 'vfio_iommu_type1_open' } });
    expect(x.step(5)).toMatchObject({ errno: null, ret: 0 });
  });

  test('do_eventfd: kmalloc of the ctx -ENOMEM, no fd installed', () => {
    const x = run(yaml('6.12', '  - eventfd: e\n    fail_nth: 1\n  - eventfd: f\n'));
    expect(x.step(0)).toMatchObject({ errno: 'ENOMEM', site: { function: 'do_eventfd' } });
    expect(x.step(1)).toMatchObject({ ret: 3 });
  });
});

describe('scopes', () => {
  test("a step's fail_nth never reaches a later step; the run's counts across processes", () => {
    const text = yaml(
      '6.12',
      `  - eventfd: a
    fail_nth: 2
  - spawn: other
  - eventfd: b
    process: other
`,
    );
    const x = run(text);
    expect(x.step(0).errno).toBeNull();
    expect(x.step(2).errno).toBeNull();
    expect(x.r.faults).toEqual({ points: 2, injected: [] });
    const y = run(text, 2);
    expect(y.step(2)).toMatchObject({ process: 'other', errno: 'ENOMEM' });
    expect(y.r.failNth).toBe(2);
  });
});

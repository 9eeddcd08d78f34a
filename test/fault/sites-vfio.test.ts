// vfio's fault sites not in sites.test.ts: vfio_iommu_type1_attach_group's allocations (drivers/vfio/
// vfio_iommu_type1.c, drivers/iommu/intel/iommu.c at 6.1 and 6.12). Test names give the kernel
// function followed.
import { describe, expect, test } from 'vitest';
import { GROUP, run, setIommu, yaml } from './helpers.js';

describe('vfio_iommu_type1_attach_group', () => {
  // point 1 is vfio_iommu_type1_open's kzalloc; then the group, the vfio_domain, the dmar_domain
  test.each([
    ['6.1', 2, 'vfio_iommu_type1_attach_group: kzalloc group', 'ENOMEM'],
    ['6.12', 2, 'vfio_iommu_type1_attach_group: kzalloc group', 'ENOMEM'],
    ['6.1', 3, 'vfio_iommu_type1_attach_group: kzalloc domain', 'ENOMEM'],
    ['6.12', 3, 'vfio_iommu_type1_attach_group: kzalloc domain', 'ENOMEM'],
    // 6.1: ret = -EIO; iommu_domain_alloc's NULL; 6.11+: iommu_paging_domain_alloc's ERR_PTR(-ENOMEM)
    ['6.1', 4, 'iommu_domain_alloc: intel alloc_domain kzalloc', 'EIO'],
    ['6.12', 4, 'iommu_paging_domain_alloc: intel alloc_domain kzalloc', 'ENOMEM'],
  ])(
    '@ %s point %i (%s): %s from SET_IOMMU, the type1 instance released, the container without driver',
    (ver, n, site, errno) => {
      const x = run(yaml(ver, `${GROUP}${setIommu(n)}${setIommu()}`));
      expect(x.step(4).faults?.[0]?.site).toBe(site);
      expect(x.step(4)).toMatchObject({ errno, site: { function: 'vfio_iommu_type1_attach_group' } });
      // __vfio_container_attach_groups failed: release(data), container->iommu_driver stays NULL
      expect(x.step(5)).toMatchObject({ errno: null, ret: 0 });
      expect(x.leaks).toEqual([]);
    },
  );

  test('@ 6.12 a second group joining a container with a driver (vfio_container_attach_group): -ENOMEM, the group stays out, DMA ownership released', () => {
    const x = run(
      yaml(
        '6.12',
        `${GROUP}${setIommu()}  - bind: { device: "0000:01:00.0", driver: vfio-pci }
  - bind: { device: "0000:01:00.1", driver: vfio-pci }
  - open: /dev/vfio/6
    as: g2
  - ioctl: VFIO_GROUP_SET_CONTAINER
    fd: g2
    arg: $c
    fail_nth: 2
  - ioctl: VFIO_GROUP_SET_CONTAINER
    fd: g2
    arg: $c
`,
      ),
    );
    // the fd is read with get_user (no fault point): point 1 is the group kzalloc, 2 the domain's
    expect(x.step(8).faults?.[0]?.site).toBe('vfio_iommu_type1_attach_group: kzalloc domain');
    expect(x.step(8)).toMatchObject({ errno: 'ENOMEM', site: { function: 'vfio_iommu_type1_attach_group' } });
    // not attached, and iommu_group_claim_dma_owner undone: the same SET_CONTAINER works
    expect(x.step(9)).toMatchObject({ errno: null, ret: 0 });
    expect(x.leaks).toEqual([]);
  });
});

describe('iommufd', () => {
  test.each([
    ['6.12', '/dev/iommu'],
    ['6.12-iommufd-vfio-container', '/dev/vfio/vfio'],
  ])('iommufd_fops_open @ %s (%s): kzalloc of the ictx -ENOMEM, no fd', (ver, path) => {
    const x = run(yaml(ver, `  - open: ${path}\n    as: i\n    fail_nth: 1\n  - open: ${path}\n    as: i\n`));
    expect(x.step(0).faults?.[0]?.site).toBe('iommufd_fops_open: kzalloc ictx');
    expect(x.step(0)).toMatchObject({ errno: 'ENOMEM', ret: -1, site: { function: 'iommufd_fops_open' } });
    expect(x.step(1)).toMatchObject({ errno: null, ret: 3 });
    expect(x.leaks).toEqual([]);
  });

  test('iommufd_ioas_alloc_ioctl: _iommufd_object_alloc -ENOMEM before xa_alloc: the next IOAS still gets id 1', () => {
    const alloc = (fail?: number) => `  - ioctl: IOMMU_IOAS_ALLOC
    fd: i
${fail ? `    fail_nth: ${fail}\n` : ''}`;
    const x = run(yaml('6.12', `  - open: /dev/iommu\n    as: i\n${alloc(2)}${alloc()}`));
    // point 1: copy_struct_from_user of the command; point 2: the object's kzalloc
    expect(x.step(1).faults?.[0]?.site).toBe('_iommufd_object_alloc: kzalloc ioas');
    expect(x.step(1)).toMatchObject({ errno: 'ENOMEM', site: { function: '_iommufd_object_alloc' } });
    expect(x.step(2)).toMatchObject({ errno: null, out: { out_ioas_id: 1 } });
    expect(x.leaks).toEqual([]);
  });
});

describe("iommufd_fault_alloc as the context's first object", () => {
  const faults = (fail?: number) => `  - ioctl: IOMMU_FAULT_QUEUE_ALLOC
    fd: i
${fail ? `    fail_nth: ${fail}\n` : ''}`;
  const OPEN = '  - open: /dev/iommu\n    as: i\n';

  test('@ 6.12 point 2 (the object kzalloc): -ENOMEM, no id reserved: the next fault object is id 1', () => {
    const x = run(yaml('6.12', `${OPEN}${faults(2)}${faults()}`));
    // point 1: copy_struct_from_user of the command
    expect(x.step(1).faults?.[0]?.site).toBe('_iommufd_object_alloc: kzalloc fault');
    expect(x.step(1)).toMatchObject({ errno: 'ENOMEM', site: { function: '_iommufd_object_alloc' } });
    expect(x.step(2)).toMatchObject({ errno: null, ret: 0, out: { out_fault_id: 1 } });
    expect(x.leaks).toEqual([]);
  });

  test("@ 6.12 point 3: _iommufd_object_alloc's xa_alloc into the empty ictx->objects needs its first xa_node; GFP_NOWAIT fails, __xas_nomem retries, the alloc succeeds", () => {
    const x = run(yaml('6.12', `${OPEN}${faults(3)}`));
    expect(x.step(1).faults?.[0]?.site).toBe('xas_alloc: ictx->objects xa_node (GFP_NOWAIT)');
    expect(x.step(1)).toMatchObject({ errno: null, ret: 0, out: { out_fault_id: 1 } });
    expect(x.leaks).toEqual([]);
  });

  test('@ 6.12 point 4 is anon_inode_getfile: a second fault object has no xa_node point (the xarray has its node)', () => {
    const x = run(yaml('6.12', `${OPEN}${faults()}${faults(3)}`));
    expect(x.step(2).faults?.[0]?.site).toBe('anon_inode_getfile: alloc_file_pseudo');
    expect(x.step(2)).toMatchObject({ errno: 'ENOMEM', site: { function: 'anon_inode_getfile' } });
    expect(x.leaks).toEqual([]);
  });
});

describe('iommufd_vfio_compat_ioas_create (VFIO_GROUP_SET_CONTAINER with an iommufd)', () => {
  const STEPS = (fail?: number) => `  - bind: { device: "0000:03:00.0", driver: vfio-pci }
  - open: /dev/iommu
    as: i
  - open: /dev/vfio/8
    as: g
  - ioctl: VFIO_GROUP_SET_CONTAINER
    fd: g
    arg: $i
${fail ? `    fail_nth: ${fail}\n` : ''}`;

  test("@ 6.12 point 1 (iommufd_ioas_alloc's kzalloc): -ENOMEM, the group keeps no iommufd: the same SET_CONTAINER works", () => {
    // the fd is read with get_user (no fault point)
    const x = run(yaml('6.12', `${STEPS(1)}  - ioctl: VFIO_GROUP_SET_CONTAINER\n    fd: g\n    arg: $i\n`));
    expect(x.step(3).faults?.[0]?.site).toBe('_iommufd_object_alloc: kzalloc ioas');
    expect(x.step(3)).toMatchObject({ errno: 'ENOMEM', site: { function: '_iommufd_object_alloc' } });
    expect(x.step(4)).toMatchObject({ errno: null, ret: 0 });
    expect(x.leaks).toEqual([]);
  });

  test("@ 6.12 point 2: the compat IOAS is the empty context's first object (the xa_node, retried)", () => {
    const x = run(yaml('6.12', STEPS(2)));
    expect(x.step(3).faults?.[0]?.site).toBe('xas_alloc: ictx->objects xa_node (GFP_NOWAIT)');
    expect(x.step(3)).toMatchObject({ errno: null, ret: 0 });
    expect(x.leaks).toEqual([]);
  });
});

describe('iommufd IOAS_MAP and device bind', () => {
  const IOAS = `  - open: /dev/iommu
    as: i
  - ioctl: IOMMU_IOAS_ALLOC
    fd: i
    save: { ioas: out_ioas_id }
  - mmap: m
    size: 64K
`;
  const map = (fail?: number) => `  - ioctl: IOMMU_IOAS_MAP
    fd: i
    arg: { flags: [IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE], ioas_id: $ioas, user_va: $m, length: 16K, iova: 0x100000 }
${fail ? `    fail_nth: ${fail}\n` : ''}`;

  test.each([
    [2, 'iopt_alloc_pages: kzalloc pages', 'iopt_alloc_pages'],
    [3, 'iopt_alloc_area_pages: iopt_area_alloc kzalloc', 'iopt_alloc_area_pages'],
  ])(
    'iopt_map_user_pages: point %i (%s) -ENOMEM; nothing is mapped, the same range maps next',
    (n, site, fn) => {
      // point 1: copy_struct_from_user of the command
      const x = run(yaml('6.12', `${IOAS}${map(n)}${map()}`));
      expect(x.step(3).faults?.[0]?.site).toBe(site);
      expect(x.step(3)).toMatchObject({ errno: 'ENOMEM', site: { function: fn } });
      // no area was inserted: the fixed IOVA is free (no EEXIST)
      expect(x.step(4)).toMatchObject({ errno: null, ret: 0 });
      expect(x.leaks).toEqual([]);
    },
  );

  const CDEV = `  - bind: { device: "0000:03:00.0", driver: vfio-pci }
  - open: /dev/iommu
    as: i
  - open: /dev/vfio/devices/vfio0
    as: dev
`;
  const bind = (fail?: number) => `  - ioctl: VFIO_DEVICE_BIND_IOMMUFD
    fd: dev
    arg: { iommufd: $i }
${fail ? `    fail_nth: ${fail}\n` : ''}`;

  test.each([
    [2, 'iommufd_get_group: kzalloc igroup', 'iommufd_get_group'],
    [4, '_iommufd_object_alloc: kzalloc idev', '_iommufd_object_alloc'],
  ])(
    'iommufd_device_bind: point %i (%s) -ENOMEM; the DMA ownership is not kept, the bind works next',
    (n, site, fn) => {
      // point 1: copy_from_user of the bind struct
      const x = run(yaml('6.12', `${CDEV}${bind(n)}${bind()}`));
      expect(x.step(3).faults?.[0]?.site).toBe(site);
      expect(x.step(3)).toMatchObject({ errno: 'ENOMEM', site: { function: fn } });
      // the claim was dropped (out_release_owner / never made) and no id was used: devid 1
      expect(x.step(4)).toMatchObject({ errno: null, out: { out_devid: 1 } });
      expect(x.leaks).toEqual([]);
    },
  );

  test.each([
    [3, 'xas_alloc: ictx->groups xa_node (GFP_NOWAIT)'],
    [5, 'xas_alloc: ictx->objects xa_node (GFP_NOWAIT)'],
  ])(
    'iommufd_device_bind into an empty context: point %i (%s) fails, __xas_nomem retries it with GFP_KERNEL, and the bind succeeds',
    (n, site) => {
      // points: the copy (1), the igroup kzalloc (2), the first xa_node of ictx->groups (3: the
      // context has no igroup), the idev kzalloc (4), the first xa_node of ictx->objects (5)
      const x = run(yaml('6.12', `${CDEV}${bind(n)}`));
      expect(x.step(3).faults?.[0]?.site).toBe(site);
      expect(x.step(3)).toMatchObject({ errno: null, ret: 0, out: { out_devid: 1 } });
      expect(x.leaks).toEqual([]);
    },
  );

  test('iommufd_get_group @ 6.12: group 0 into an empty ictx->groups is xa_head itself (no xa_node point); a second group then needs the node', () => {
    // 00:00.0 is iommu group 0 on the default machine, 03:00.0 another group
    const two = `  - bind: { device: "0000:00:00.0", driver: vfio-pci }
  - bind: { device: "0000:03:00.0", driver: vfio-pci }
  - open: /dev/iommu
    as: i
  - open: /dev/vfio/devices/vfio0
    as: d0
  - open: /dev/vfio/devices/vfio1
    as: d1
  - ioctl: VFIO_DEVICE_BIND_IOMMUFD
    fd: d0
    arg: { iommufd: $i }
    fail_nth: 3
  - ioctl: VFIO_DEVICE_BIND_IOMMUFD
    fd: d1
    arg: { iommufd: $i }
    fail_nth: 3
`;
    const x = run(yaml('6.12', two));
    // group 0: the copy (1), the igroup kzalloc (2), then the idev kzalloc (3)
    expect(x.step(5).faults?.[0]?.site).toBe('_iommufd_object_alloc: kzalloc idev');
    expect(x.step(5)).toMatchObject({ errno: 'ENOMEM', site: { function: '_iommufd_object_alloc' } });
    // the second group's index is not 0: its store allocates the first xa_node (point 3, retried)
    expect(x.step(6).faults?.[0]?.site).toBe('xas_alloc: ictx->groups xa_node (GFP_NOWAIT)');
    expect(x.step(6)).toMatchObject({ errno: null, ret: 0 });
    expect(x.leaks).toEqual([]);
  });

  test('vfio_device_fops_cdev_open: vfio_allocate_device_file -ENOMEM puts the registration back (an unbind does not wait)', () => {
    const x = run(
      yaml(
        '6.12',
        `  - bind: { device: "0000:03:00.0", driver: vfio-pci }
  - open: /dev/vfio/devices/vfio0
    as: dev
    fail_nth: 1
  - unbind: "0000:03:00.0"
`,
      ),
    );
    expect(x.step(1).faults?.[0]?.site).toBe('vfio_allocate_device_file: kzalloc df');
    expect(x.step(1)).toMatchObject({
      errno: 'ENOMEM',
      ret: -1,
      site: { function: 'vfio_allocate_device_file' },
    });
    expect(x.step(2)).toMatchObject({ errno: null });
    expect(x.step(2).blocks).toBeFalsy();
    expect(x.leaks).toEqual([]);
  });
});

describe('iommufd HWPT', () => {
  const attach = (fail?: number) => `  - ioctl: VFIO_DEVICE_ATTACH_IOMMUFD_PT
    fd: dev
    arg: { pt_id: $ioas }
${fail ? `    fail_nth: ${fail}\n` : ''}`;
  test.each([
    [2, '_iommufd_object_alloc: kzalloc hwpt_paging', '_iommufd_object_alloc'],
    [3, 'iommufd_hwpt_paging_alloc: intel alloc_domain kzalloc', 'iommufd_hwpt_paging_alloc'],
  ])(
    'iommufd_hwpt_paging_alloc: point %i (%s) -ENOMEM before iopt_table_add_domain; the next attach makes the HWPT',
    (n, site, fn) => {
      const x = run(
        yaml(
          '6.12',
          `  - bind: { device: "0000:03:00.0", driver: vfio-pci }
  - open: /dev/iommu
    as: i
  - open: /dev/vfio/devices/vfio0
    as: dev
  - ioctl: VFIO_DEVICE_BIND_IOMMUFD
    fd: dev
    arg: { iommufd: $i }
  - ioctl: IOMMU_IOAS_ALLOC
    fd: i
    save: { ioas: out_ioas_id }
  - mmap: m
    size: 64K
  - ioctl: IOMMU_IOAS_MAP
    fd: i
    arg: { flags: [IOMMU_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_WRITEABLE], ioas_id: $ioas, user_va: $m, length: 16K, iova: 0x100000 }
${attach(n)}${attach()}`,
        ),
      );
      // point 1: copy_from_user of the attach struct
      expect(x.step(7).faults?.[0]?.site).toBe(site);
      expect(x.step(7)).toMatchObject({ errno: 'ENOMEM', site: { function: fn } });
      // the failed attach kept no object id: device 1, IOAS 2, then the HWPT 3
      expect(x.step(8)).toMatchObject({ errno: null, out: { pt_id: 3 } });
      expect(x.leaks).toEqual([]);
    },
  );
});

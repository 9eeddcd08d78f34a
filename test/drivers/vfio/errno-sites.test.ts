// The errno sites of the vfio container, group and device paths no other test pinned, each with
// the function the kernel decides it in (vfio.c up to 5.18, vfio_main.c / container.c in 6.1,
// group.c / container.c / device_cdev.c / vfio_iommu_type1.c / vfio_pci_core.c in 6.12).
import { describe, expect, test } from 'vitest';
import { iommufdNr } from '../../../src/uapi/iommufd.js';
import { encodeStruct } from '../../../src/uapi/struct.js';
import { vfio_iommu_type1_dma_map, vfioNr } from '../../../src/uapi/vfio.js';
import {
  attached,
  bindTo,
  errnoOf,
  fdOf,
  getDeviceFd,
  io,
  open,
  setContainer,
  site,
  type VF,
  vfioKernel,
} from './helpers.js';

function bindArg(f: VF, w: { argsz?: number; flags?: number; iommufd: number }): bigint {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, w.argsz ?? 16, true);
  v.setUint32(4, w.flags ?? 0, true);
  v.setInt32(8, w.iommufd, true);
  return f.k.stage(f.p, b);
}

const bindIommufd = (f: VF, fd: number, arg: bigint) =>
  site(f.k.ioctl(f.p, fd, iommufdNr('VFIO_DEVICE_BIND_IOMMUFD'), arg));

/** 03:00.0 opened the classic way: container, group 8, type1v2, GET_DEVICE_FD */
function groupDevice(version: string): VF & { c: number; g: number; dev: number } {
  const f = vfioKernel(version);
  const { c, g } = attached(f, '0000:03:00.0', 8);
  return { ...f, c, g, dev: fdOf(getDeviceFd(f, g, '0000:03:00.0')) };
}

describe('VFIO_DEVICE_BIND_IOMMUFD on a group-derived device fd', () => {
  test('vfio_df_ioctl_bind_iommufd @ 6.12: copy_from_user EFAULT, then the argsz / flags / iommufd checks, only then df->group EINVAL', () => {
    const f = groupDevice('6.12');
    const ictx = open(f, '/dev/iommu');
    const fn = 'vfio_df_ioctl_bind_iommufd';
    expect(bindIommufd(f, f.dev, 0n)).toEqual(['EFAULT', fn]);
    const r = f.k.ioctl(f.p, f.dev, iommufdNr('VFIO_DEVICE_BIND_IOMMUFD'), 0n);
    expect(r.ok === false && r.site.check).toBe('copy_from_user(&bind, arg, minsz)');
    for (const bad of [{ argsz: 15, iommufd: ictx }, { flags: 1, iommufd: ictx }, { iommufd: -1 }]) {
      const out = f.k.ioctl(f.p, f.dev, iommufdNr('VFIO_DEVICE_BIND_IOMMUFD'), bindArg(f, bad));
      expect(site(out)).toEqual(['EINVAL', fn]);
      expect(out.ok === false && out.site.check).toBe('bind.argsz < minsz || bind.flags || bind.iommufd < 0');
    }
    const grp = f.k.ioctl(f.p, f.dev, iommufdNr('VFIO_DEVICE_BIND_IOMMUFD'), bindArg(f, { iommufd: ictx }));
    expect(site(grp)).toEqual(['EINVAL', fn]);
    expect(grp.ok === false && grp.site.check).toMatch(/^df->group/);
    // the group fd is still the way in: the device works through it
    expect(errnoOf(io(f, f.dev, 'VFIO_DEVICE_RESET'))).toBe(0);
  });

  test('vfio_pci_core_ioctl @ 6.5: before the device cdev BIND_IOMMUFD is just an unknown ioctl, ENOTTY', () => {
    const f = groupDevice('6.5');
    expect(bindIommufd(f, f.dev, 0n)).toEqual(['ENOTTY', 'vfio_pci_core_ioctl']);
  });
});

describe('VFIO_GROUP_SET_CONTAINER / UNSET_CONTAINER: the function of each era', () => {
  for (const v of ['3.19', '4.0', '5.10', '5.18']) {
    test(`vfio_group_set_container @ ${v}: a file that is not a container EINVAL; get_user EFAULT in vfio_group_fops_unl_ioctl`, () => {
      const f = vfioKernel(v);
      expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
      const g = open(f, '/dev/vfio/8');
      const r = setContainer(f, g, g);
      expect(site(r)).toEqual(['EINVAL', 'vfio_group_set_container']);
      expect(r.ok === false && r.site.check).toBe('f.file->f_op != &vfio_fops');
      expect(site(setContainer(f, g, 999))).toEqual(['EBADF', 'vfio_group_set_container']);
      expect(site(io(f, g, 'VFIO_GROUP_SET_CONTAINER', 0n))).toEqual(['EFAULT', 'vfio_group_fops_unl_ioctl']);
      expect(site(io(f, g, 'VFIO_GROUP_GET_STATUS', 0n))).toEqual(['EFAULT', 'vfio_group_fops_unl_ioctl']);
    });
  }

  test('vfio_group_ioctl_set_container @ 6.1: not a container EINVAL (vfio_main.c splits the ioctls out)', () => {
    const f = vfioKernel('6.1');
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const g = open(f, '/dev/vfio/8');
    expect(site(setContainer(f, g, g))).toEqual(['EINVAL', 'vfio_group_ioctl_set_container']);
    expect(site(io(f, g, 'VFIO_GROUP_SET_CONTAINER', 0n))).toEqual([
      'EFAULT',
      'vfio_group_ioctl_set_container',
    ]);
    expect(site(io(f, g, 'VFIO_GROUP_GET_STATUS', 0n))).toEqual(['EFAULT', 'vfio_group_ioctl_get_status']);
  });

  test('vfio_group_unset_container @ 5.18: no container EINVAL, a device fd open EBUSY, then 0', () => {
    const f = vfioKernel('5.18');
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const c = open(f, '/dev/vfio/vfio');
    const g = open(f, '/dev/vfio/8');
    expect(site(io(f, g, 'VFIO_GROUP_UNSET_CONTAINER'))).toEqual(['EINVAL', 'vfio_group_unset_container']);
    expect(errnoOf(setContainer(f, g, c))).toBe(0);
    expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', 3n))).toBe(0);
    const dev = fdOf(getDeviceFd(f, g, '0000:03:00.0'));
    expect(site(io(f, g, 'VFIO_GROUP_UNSET_CONTAINER'))).toEqual(['EBUSY', 'vfio_group_unset_container']);
    f.k.close(f.p, dev);
    expect(errnoOf(io(f, g, 'VFIO_GROUP_UNSET_CONTAINER'))).toBe(0);
    expect(site(io(f, g, 'VFIO_GROUP_UNSET_CONTAINER'))).toEqual(['EINVAL', 'vfio_group_unset_container']);
  });

  test('vfio_group_ioctl_unset_container @ 6.1: no container EINVAL, a device fd open EBUSY', () => {
    const f = groupDevice('6.1');
    expect(site(io(f, f.g, 'VFIO_GROUP_UNSET_CONTAINER'))).toEqual([
      'EBUSY',
      'vfio_group_ioctl_unset_container',
    ]);
    f.k.close(f.p, f.dev);
    expect(errnoOf(io(f, f.g, 'VFIO_GROUP_UNSET_CONTAINER'))).toBe(0);
    expect(site(io(f, f.g, 'VFIO_GROUP_UNSET_CONTAINER'))).toEqual([
      'EINVAL',
      'vfio_group_ioctl_unset_container',
    ]);
  });
});

describe('the container fd: unknown ioctls before and after SET_IOMMU', () => {
  for (const v of ['3.19', '6.1', '6.12']) {
    test(`vfio_fops_unl_ioctl @ ${v}: no iommu driver yet EINVAL; vfio_iommu_type1_ioctl afterwards ENOTTY`, () => {
      const f = vfioKernel(v);
      expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
      const c = open(f, '/dev/vfio/vfio');
      const g = open(f, '/dev/vfio/8');
      expect(site(io(f, c, 'VFIO_IOMMU_MAP_DMA'))).toEqual(['EINVAL', 'vfio_fops_unl_ioctl']);
      expect(site(f.k.ioctl(f.p, c, 0x3b99, 0n))).toEqual(['EINVAL', 'vfio_fops_unl_ioctl']);
      expect(errnoOf(setContainer(f, g, c))).toBe(0);
      // attached but no SET_IOMMU: still the container's default
      expect(site(io(f, c, 'VFIO_IOMMU_GET_INFO'))).toEqual(['EINVAL', 'vfio_fops_unl_ioctl']);
      expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', 3n))).toBe(0);
      expect(site(f.k.ioctl(f.p, c, 0x3b99, 0n))).toEqual(['ENOTTY', 'vfio_iommu_type1_ioctl']);
      expect(site(io(f, c, 'VFIO_GROUP_GET_STATUS'))).toEqual(['ENOTTY', 'vfio_iommu_type1_ioctl']);
    });
  }

  test('vfio_iommu_type1_map_dma @ 6.12: copy_from_user EFAULT, argsz below 32 or an unknown flag EINVAL', () => {
    const f = vfioKernel('6.12');
    const { c } = attached(f, '0000:03:00.0', 8);
    const fn = 'vfio_iommu_type1_map_dma';
    expect(site(io(f, c, 'VFIO_IOMMU_MAP_DMA', 0n))).toEqual(['EFAULT', fn]);
    const m = (argsz: bigint, flags: bigint) =>
      f.k.stage(
        f.p,
        encodeStruct(vfio_iommu_type1_dma_map, { argsz, flags, vaddr: 0n, iova: 0n, size: 0x1000n }),
      );
    expect(site(io(f, c, 'VFIO_IOMMU_MAP_DMA', m(31n, 3n)))).toEqual(['EINVAL', fn]);
    expect(site(io(f, c, 'VFIO_IOMMU_MAP_DMA', m(32n, 3n | 0x100n)))).toEqual(['EINVAL', fn]);
    // vfio_pin_pages_remote: the vaddr is not mapped (vaddr 0 of the struct above)
    expect(site(io(f, c, 'VFIO_IOMMU_MAP_DMA', m(32n, 3n)))).toEqual(['EFAULT', 'vaddr_get_pfns']);
  });
});

describe('GET_DEVICE_FD and the device fd', () => {
  test('strndup_user @ 6.12: an unreadable name EFAULT; vfio_device_get_from_name: no such device ENODEV', () => {
    const f = vfioKernel('6.12');
    const { g } = attached(f, '0000:03:00.0', 8);
    expect(site(io(f, g, 'VFIO_GROUP_GET_DEVICE_FD', 0n))).toEqual(['EFAULT', 'strndup_user']);
    expect(site(getDeviceFd(f, g, '0000:01:00.0'))).toEqual(['ENODEV', 'vfio_device_get_from_name']);
    expect(site(getDeviceFd(f, g, '0000:03:00.0 vf_token=x'))).toEqual(['EINVAL', 'vfio_pci_core_match']);
    // a well-formed token for a device that is neither PF nor VF
    expect(site(getDeviceFd(f, g, '0000:03:00.0 vf_token=12345678-1234-1234-1234-123456789abc'))).toEqual([
      'EINVAL',
      'vfio_pci_validate_vf_token',
    ]);
  });

  test('vfio_device_assign_container @ 6.1: a group in a container without SET_IOMMU EINVAL, after the name lookup', () => {
    const f = vfioKernel('6.1');
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const c = open(f, '/dev/vfio/vfio');
    const g = open(f, '/dev/vfio/8');
    expect(errnoOf(setContainer(f, g, c))).toBe(0);
    // 5.19+: the name is looked up first, so a wrong name is ENODEV even without an IOMMU
    expect(site(getDeviceFd(f, g, '0000:01:00.0'))).toEqual(['ENODEV', 'vfio_device_get_from_name']);
    expect(site(getDeviceFd(f, g, '0000:03:00.0'))).toEqual(['EINVAL', 'vfio_device_assign_container']);
  });

  test('vfio_group_get_device_fd @ 5.18: the group is checked before the name (EINVAL for any name)', () => {
    const f = vfioKernel('5.18');
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const c = open(f, '/dev/vfio/vfio');
    const g = open(f, '/dev/vfio/8');
    expect(errnoOf(setContainer(f, g, c))).toBe(0);
    expect(site(getDeviceFd(f, g, '0000:01:00.0'))).toEqual(['EINVAL', 'vfio_group_get_device_fd']);
    expect(errnoOf(io(f, c, 'VFIO_SET_IOMMU', 3n))).toBe(0);
    expect(site(getDeviceFd(f, g, '0000:01:00.0'))).toEqual(['ENODEV', 'vfio_device_get_from_name']);
  });

  for (const [v, reset, info, core] of [
    ['3.19', 'vfio_pci_ioctl', 'vfio_pci_ioctl', 'vfio_pci_ioctl'],
    ['5.10', 'vfio_pci_ioctl', 'vfio_pci_ioctl', 'vfio_pci_ioctl'],
    ['5.15', 'vfio_pci_core_ioctl', 'vfio_pci_core_ioctl', 'vfio_pci_core_ioctl'],
    ['6.1', 'vfio_pci_ioctl_reset', 'vfio_pci_ioctl_get_info', 'vfio_pci_core_ioctl'],
    ['6.12', 'vfio_pci_ioctl_reset', 'vfio_pci_ioctl_get_info', 'vfio_pci_core_ioctl'],
  ] as const) {
    test(`${reset} @ ${v}: RESET without a reset method EINVAL (!reset_works); GET_INFO argsz EINVAL in ${info}; unknown ioctl ENOTTY in ${core}`, () => {
      const f = vfioKernel(v);
      const { g } = attached(f, '0000:00:06.0', 4);
      const dev = fdOf(getDeviceFd(f, g, '0000:00:06.0'));
      const r = io(f, dev, 'VFIO_DEVICE_RESET');
      expect(site(r)).toEqual(['EINVAL', reset]);
      expect(r.ok === false && r.site.check).toBe('!vdev->reset_works');
      const small = new Uint8Array(16);
      new DataView(small.buffer).setUint32(0, 15, true);
      expect(site(io(f, dev, 'VFIO_DEVICE_GET_INFO', f.k.stage(f.p, small)))).toEqual(['EINVAL', info]);
      expect(site(f.k.ioctl(f.p, dev, 0x3b99, 0n))).toEqual(['ENOTTY', core]);
      // no slot or bus reset for a root-bus device: INFO ENODEV in the era's function
      const hdr = new Uint8Array(12);
      new DataView(hdr.buffer).setUint32(0, 12, true);
      expect(site(io(f, dev, 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', f.k.stage(f.p, hdr)))).toEqual([
        'ENODEV',
        info === 'vfio_pci_ioctl_get_info' ? 'vfio_pci_ioctl_get_pci_hot_reset_info' : info,
      ]);
    });
  }
});

describe('the device cdev: BIND_IOMMUFD after its own checks', () => {
  test('vfio_df_ioctl_bind_iommufd @ 6.12: vfio_device_block_group EBUSY, iommufd_ctx_from_fd EBADF, iommufd_ctx_from_file EBADFD, vfio_df_open EINVAL for a second cdev file', () => {
    const f = vfioKernel('6.12');
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const ictx = open(f, '/dev/iommu');
    const a = open(f, '/dev/vfio/devices/vfio0');
    const b = open(f, '/dev/vfio/devices/vfio0');
    const g = open(f, '/dev/vfio/8');
    expect(bindIommufd(f, a, bindArg(f, { iommufd: ictx }))).toEqual(['EBUSY', 'vfio_device_block_group']);
    f.k.close(f.p, g);
    expect(bindIommufd(f, a, bindArg(f, { iommufd: 999 }))).toEqual(['EBADF', 'iommufd_ctx_from_fd']);
    expect(bindIommufd(f, a, bindArg(f, { iommufd: b }))).toEqual(['EBADFD', 'iommufd_ctx_from_file']);
    expect(bindIommufd(f, a, bindArg(f, { iommufd: ictx }))).toEqual([0, null]);
    // only the group path opens a device twice
    expect(bindIommufd(f, b, bindArg(f, { iommufd: ictx }))).toEqual(['EINVAL', 'vfio_df_open']);
    expect(site(f.k.ioctl(f.p, b, vfioNr('VFIO_DEVICE_GET_INFO'), 0n))).toEqual([
      'EINVAL',
      'vfio_device_fops_unl_ioctl',
    ]);
    f.k.close(f.p, a);
    expect(bindIommufd(f, b, bindArg(f, { iommufd: ictx }))).toEqual([0, null]);
  });
});

describe('the group node in the unbind window', () => {
  test('vfio_group_fops_open @ 6.1: after the device left the list group->drivers still counts it, so the open works; GET_DEVICE_FD then finds no device (ENODEV); after the unbind no node (ENOENT)', () => {
    const f = vfioKernel('6.1');
    expect(bindTo(f, '0000:03:00.0', 'vfio-pci').ok).toBe(true);
    const r = f.k.sysfsWrite(
      f.p,
      '/sys/bus/pci/drivers/vfio-pci/unbind',
      '0000:03:00.0',
      'unbind:device-removed',
    );
    expect(r.ok).toBe('paused');
    const g = open(f, '/dev/vfio/8');
    expect(site(getDeviceFd(f, g, '0000:03:00.0'))).toEqual(['ENODEV', 'vfio_device_get_from_name']);
    if (r.ok === 'paused') expect(errnoOf(r.resume())).toBe(12);
    f.k.close(f.p, g);
    expect(site(f.k.open(f.p, '/dev/vfio/8', 2))).toEqual(['ENOENT', 'do_sys_open']);
  });
});

// vfio_device_remove_group (6.1+) tears a group down when the last of its devices finishes
// vfio_unregister_group_dev: refcount_dec_and_mutex_lock(&group->drivers). From 6.6 a device whose
// unbind waits for its fds is already off the group's device_list, yet it still counts in
// group->drivers, so a sibling's unbind that completes meanwhile must not detach the container or
// clear group->iommu_group. Found by the model fuzzer (test/props/vfio-model.ts): the early
// teardown zeroed container_users while the waiting device's fd still held one, and closing that fd
// took it to -1.
import { describe, expect, test } from 'vitest';
import { vfio } from '../../../src/drivers/vfio/state.js';
import { attached, bindTo, errnoOf, fdOf, getDeviceFd, groupFlags, vfioKernel } from './helpers.js';

const A = '0000:01:00.0';
const B = '0000:01:00.1';
const UNBIND = '/sys/bus/pci/drivers/vfio-pci/unbind';

describe('vfio_device_remove_group: group->drivers, not the device list, decides the teardown', () => {
  test.each(['6.1', '6.12'])(
    '%s: a sibling unbind while one device waits keeps the group and its container',
    (v) => {
      const f = vfioKernel(v);
      expect(bindTo(f, B, 'vfio-pci').ok).toBe(true);
      const { g } = attached(f, A, 6);
      const dev = fdOf(getDeviceFd(f, g, A));
      const group = vfio(f.k).groups.get(6)!;
      expect(group.containerUsers).toBe(2); // SET_CONTAINER's 1 and the open device fd's 1
      const waiting = f.k.sysfsWrite(f.p, UNBIND, A);
      expect(waiting.ok).toBe('blocked');
      expect(errnoOf(f.k.sysfsWrite(f.p, UNBIND, B))).toBe(B.length);
      // A still counts in group->drivers: the container stays attached, the group keeps its iommu_group
      expect(groupFlags(f, g)).toBe(3); // VIABLE | CONTAINER_SET
      expect(group.container).not.toBeNull();
      expect(group.containerUsers).toBe(2);
      expect(f.k.close(f.p, dev).ok).toBe(true);
      expect(group.containerUsers).toBe(1);
      if (waiting.ok !== 'blocked') return;
      expect(waiting.retry().ok).toBe(true);
      // now the last driver is gone: vfio_group_detach_container, group->iommu_group = NULL
      expect(group.container).toBeNull();
      expect(group.containerUsers).toBe(0);
      expect(groupFlags(f, g)).toBe('ENODEV');
    },
  );
});

// `as:` on an ioctl that returns its fd inside the struct (scenario.md, "Arguments and outputs": an
// fd the kernel returns inside a struct is named by as:): the struct's fd-role out field, here
// IOMMU_FAULT_QUEUE_ALLOC's out_fault_fd (iommufd_fault_alloc, fault.c @ Debian 6.12) and
// KVM_CREATE_DEVICE's fd (kvm_ioctl_create_device, virt/kvm/kvm_main.c); a failed call binds −1.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runFiles } from '../helpers/run.js';

function run(yaml: string) {
  const f = join(mkdtempSync(join(tmpdir(), 'vioctl-outfd-')), 's.yaml');
  writeFileSync(f, yaml);
  return runFiles([f])[0]!;
}

const PREFIX = `kernel: "6.12"
steps:
  - bind: { device: "0000:03:00.0", driver: vfio-pci }
  - open: /dev/iommu
    as: iommufd
  - open: /dev/vfio/devices/vfio0
    as: dev
  - ioctl: VFIO_DEVICE_BIND_IOMMUFD
    fd: dev
    arg: { iommufd: $iommufd }
`;

test('iommufd_fault_alloc @ 6.12: as: names out_fault_fd, and read:/close: by that name reach the fault fd', () => {
  const r = run(`name: out-fd
${PREFIX}  - ioctl: IOMMU_FAULT_QUEUE_ALLOC
    fd: iommufd
    as: faults
  - read: faults
    len: 40
  - read: faults
    len: 39
  - ioctl: IOMMU_DESTROY
    fd: iommufd
    arg: { id: 2 }
  - close: faults
  - ioctl: IOMMU_DESTROY
    fd: iommufd
    arg: { id: 2 }
`);
  expect(r.error).toBeUndefined();
  // the ioctl returns 0; the fd (5: 3 and 4 are taken) is only in the struct
  expect(r.steps[4]).toMatchObject({ call: 'IOMMU_FAULT_QUEUE_ALLOC', ret: 0, errno: null });
  expect(r.steps[4]!.out).toMatchObject({ out_fault_id: 2, out_fault_fd: 5 });
  // iommufd_fault_fops_read: whole iommu_hwpt_pgfault records give 0 (nothing pending), else ESPIPE
  expect(r.steps[5]).toMatchObject({ ret: 0, errno: null });
  expect(r.steps[6]).toMatchObject({ errno: 'ESPIPE', site: { function: 'iommufd_fault_fops_read' } });
  expect(r.steps[7]).toMatchObject({ errno: 'EBUSY', site: { function: 'iommufd_object_remove' } });
  expect(r.steps[8]).toMatchObject({ ret: 0, errno: null });
  expect(r.steps[9]).toMatchObject({ ret: 0, errno: null });
});

test('iommufd_fault_alloc @ 6.12: a failed IOMMU_FAULT_QUEUE_ALLOC (flags EOPNOTSUPP) binds −1: a read by the name is EBADF', () => {
  const r = run(`name: out-fd fails
${PREFIX}  - ioctl: IOMMU_FAULT_QUEUE_ALLOC
    fd: iommufd
    arg: { flags: 1 }
    as: faults
  - read: faults
    len: 40
`);
  expect(r.error).toBeUndefined();
  expect(r.steps[4]).toMatchObject({ errno: 'EOPNOTSUPP', site: { function: 'iommufd_fault_alloc' } });
  expect(r.steps[5]).toMatchObject({ ret: -1, errno: 'EBADF' });
});

test('kvm_ioctl_create_device @ 6.12: as: on KVM_CREATE_DEVICE names the fd in its struct, not the return value 0', () => {
  const r = run(`name: kvm out-fd
kernel: "6.12"
machine: { kvm: true }
steps:
  - open: /dev/kvm
    as: kvm
  - ioctl: KVM_CREATE_VM
    fd: kvm
    as: vm
  - ioctl: KVM_CREATE_DEVICE
    fd: vm
    arg: { type: 4 }
    as: kvfio
  - close: kvfio
  - close: kvfio
`);
  expect(r.error).toBeUndefined();
  expect(r.steps[2]).toMatchObject({ ret: 0, errno: null });
  expect(r.steps[2]!.out).toMatchObject({ fd: 5 });
  expect(r.steps[3]).toMatchObject({ ret: 0, errno: null });
  expect(r.steps[4]).toMatchObject({ errno: 'EBADF' });
});

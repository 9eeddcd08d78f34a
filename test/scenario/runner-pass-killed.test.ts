// unix_stream_sendmsg: a pass: to a process a kernel BUG killed (or one it never started) fails
// EPIPE and installs nothing. do_exit (make_task_dead from the oops) closed the killed task's files:
// the classic eras' BUG_ON in vfio_iommu_group_notifier is hit under device_lock and the notifier
// rwsems for read, none of which the release of a vfio, kvm or kvm-vfio file takes, so its exit
// ends; its socket went with it, and unix_release_sock shut the sender's end down. Found by the
// vfio fuzz (sysfs family alone, seed 12345, on 4.0 and 5.18): the fd landed in the dead process's table, which nothing
// closed again (exit-leaves-fds, leak).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runFiles } from '../helpers/run.js';

const scenario = (kernel: string) => `name: pass to a process a BUG killed
kernel: "${kernel}"
machine: { kvm: true }
steps:
  - bind: { device: "0000:01:00.0", driver: "vfio-pci" }
  - open: /dev/vfio/vfio
  - open: /dev/vfio/6
  - ioctl: VFIO_GROUP_SET_CONTAINER
    fd: 4
    arg: 3
  - ioctl: VFIO_SET_IOMMU
    fd: 3
    arg: 3
  - open: /dev/kvm
  - ioctl: KVM_CREATE_VM
    fd: 5
  - ioctl: KVM_CREATE_DEVICE
    fd: 6
    arg: { type: 4 }
  - fork: p1
  - bind: { device: "0000:01:00.1", driver: "uio_pci_generic" }
    process: p1
  - fork: p2
    process: p1
  - pass: 7
    to: p1
    as: x0
  - pass: 7
    to: p2
    as: x1
  - pass: 99
    to: p1
    as: x2
  - exit: p1
`;

describe('unix_stream_sendmsg: pass: to a dead receiver', () => {
  for (const kernel of ['3.19', '4.0', '5.18']) {
    test(`${kernel}: to a process a kernel BUG killed, or never started, is EPIPE (a bad fd EBADF first); no fd stays`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'vioctl-pass-'));
      const file = join(dir, 'pass.yaml');
      writeFileSync(file, scenario(kernel));
      const [r] = runFiles([file]);
      expect(r!.error).toBeUndefined();
      expect(r!.steps[9]!.bug?.site.function).toBe('vfio_iommu_group_notifier');
      expect(r!.steps[10]!).toMatchObject({ ret: null, skipped: true }); // p1's fork: p2 never starts
      for (const i of [11, 12])
        expect(r!.steps[i]!).toMatchObject({
          errno: 'EPIPE',
          site: { function: 'unix_stream_sendmsg', errno: 'EPIPE' },
        });
      // scm_send copies the fds first: a bad fd is EBADF whoever the receiver is
      expect(r!.steps[13]!).toMatchObject({ errno: 'EBADF', site: { function: 'scm_fp_copy' } });
      // only main's fds stay open: 3 (container), 4 (group), 5 (kvm), 6 (vm), 7 (kvm-vfio)
      expect(r!.state.fds.map((f) => `${f.process} ${f.fd}`)).toEqual([
        'main 3',
        'main 4',
        'main 5',
        'main 6',
        'main 7',
      ]);
    });
  }
});

// /dev/kvm, the VM fd and KVM_CREATE_DEVICE (virt/kvm/kvm_main.c), enough for the kvm-vfio
// device (vfio.ts). /dev/kvm exists only with `machine: {kvm: true}` (machine.md).
import type { CallCtx, FileOps, OpenFile } from '../../kernel/file.js';
import { type Kernel, O_CLOEXEC, O_RDWR } from '../../kernel/kernel.js';
import type { DriverModule, Opened } from '../../kernel/registry.js';
import { fail, ok, type SysOutcome } from '../../kernel/result.js';
import { copyStructFromUser, copyStructToUser } from '../../kernel/uaccess.js';
import {
  KVM_API_VERSION,
  KVM_CREATE_DEVICE_TEST,
  KVM_DEV_TYPE_VFIO,
  kvm_create_device,
  kvmNr,
} from '../../uapi/kvm.js';
import { type KvmVfio, kvmVfioDestroy, newKvmVfio, VFIO_DEV_OPS } from './vfio.js';

/** struct kvm: alive while the VM fd, device fds and vcpu fds hold it (kvm_get_kvm / kvm_put_kvm). */
export interface KvmVm {
  readonly id: number;
  /** references: the VM file, each device file (kvm_device_fops hold one), each vcpu */
  users: number;
  /** the kvm-vfio device, one per VM */
  vfio: KvmVfio | null;
  readonly process: string;
}

/** VM numbers count per kernel, so runs are deterministic */
function nextVm(k: Kernel): number {
  const n = ((k.globals.get('kvm-vms') as number | undefined) ?? 0) + 1;
  k.globals.set('kvm-vms', n);
  return n;
}

/** kvm_put_kvm: the last reference destroys the VM, and with it (before 6.2) its devices. */
export function kvmPut(k: Kernel, vm: KvmVm): void {
  if (--vm.users > 0) return;
  if (vm.vfio && !vm.vfio.destroyed) kvmVfioDestroy(k, vm.vfio);
}

function createDevice(ctx: CallCtx, vm: KvmVm, arg: bigint): SysOutcome {
  const fn = 'kvm_ioctl_create_device';
  const cd = copyStructFromUser(ctx, arg, kvm_create_device);
  if (!cd) return fail('EFAULT', 'kvm_vm_ioctl', 'copy_from_user(&cd, argp, sizeof(cd))');
  if (cd.type !== BigInt(KVM_DEV_TYPE_VFIO))
    return fail('ENODEV', fn, 'type >= ARRAY_SIZE(kvm_device_ops_table) || !ops');
  const test = (cd.flags! & BigInt(KVM_CREATE_DEVICE_TEST)) !== 0n;
  if (test) return ok(0);
  if (ctx.k.allocFails(ctx.proc, 'kvm_ioctl_create_device: kzalloc dev'))
    return fail('ENOMEM', fn, '!dev (kzalloc)');
  // kvm_vfio_create: one kvm-vfio device per VM
  if (vm.vfio && !vm.vfio.destroyed)
    return fail('EBUSY', 'kvm_vfio_create', 'a kvm-vfio device already exists');
  // ops->create < 0: kvm_ioctl_create_device kfrees the dev, nothing else was done
  if (ctx.k.allocFails(ctx.proc, 'kvm_vfio_create: kzalloc kv'))
    return fail('ENOMEM', 'kvm_vfio_create', '!kv (kzalloc)');
  const dev = newKvmVfio(vm, ctx.proc.name);
  vm.vfio = dev;
  vm.users++;
  const f = ctx.k.newFile('anon_inode:kvm-vfio', O_RDWR | O_CLOEXEC, VFIO_DEV_OPS, dev);
  const fd = ctx.k.installFd(ctx.proc, f as OpenFile);
  dev.fileId = f.id;
  if (!copyStructToUser(ctx, arg, kvm_create_device, { ...cd, fd: BigInt(fd) }))
    return fail('EFAULT', fn, 'copy_to_user(argp, &cd, sizeof(cd))');
  return ok(0);
}

const VM_OPS: FileOps<KvmVm> = {
  kind: 'kvm-vm',
  ioctl(ctx, f, cmd, arg) {
    if (cmd === kvmNr('KVM_CREATE_DEVICE')) return createDevice(ctx, f.priv, arg);
    if (cmd === kvmNr('KVM_CHECK_EXTENSION')) return ok(0);
    return fail('ENOTTY', 'kvm_vm_ioctl', 'not modelled: default -ENOTTY');
  },
  release(k, f) {
    kvmPut(k, f.priv);
  },
};

const KVM_OPS: FileOps<null> = {
  kind: 'kvm',
  ioctl(ctx, _f, cmd) {
    if (cmd === kvmNr('KVM_GET_API_VERSION')) return ok(KVM_API_VERSION);
    if (cmd === kvmNr('KVM_CHECK_EXTENSION')) return ok(0);
    if (cmd === kvmNr('KVM_CREATE_VM')) {
      // kvm_create_vm: x86's kvm_arch_alloc_vm is a __vmalloc, whose first allocation (the vm_struct
      // kzalloc) is a fault point; NULL is ERR_PTR(-ENOMEM) and the reserved fd is put back
      if (ctx.k.allocFails(ctx.proc, 'kvm_arch_alloc_vm: __vmalloc kvm'))
        return fail('ENOMEM', 'kvm_create_vm', '!kvm (kvm_arch_alloc_vm)');
      const vm: KvmVm = { id: nextVm(ctx.k), users: 1, vfio: null, process: ctx.proc.name };
      const f = ctx.k.newFile('anon_inode:kvm-vm', O_RDWR | O_CLOEXEC, VM_OPS, vm);
      return ok(ctx.k.installFd(ctx.proc, f as OpenFile));
    }
    return fail('EINVAL', 'kvm_dev_ioctl', 'default: -EINVAL');
  },
};

export const kvmDriver: DriverModule = {
  name: 'kvm',
  family: 'kvm',
  claims: (path) => path === '/dev/kvm',
  exists: (k) => k.machine.kvm,
  open: () => ({ ops: KVM_OPS, priv: null }) as Opened,
};

export function vmOf(f: OpenFile | undefined): KvmVm | undefined {
  return f && f.ops === VM_OPS ? (f.priv as KvmVm) : undefined;
}

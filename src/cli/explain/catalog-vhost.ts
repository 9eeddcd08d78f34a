// Checks of the vhost core (vhost_dev_ioctl, vhost_vring_ioctl), vhost-net and vhost-vsock, each
// ioctl's probes in the order its kernel function makes the checks (drivers/vhost/vhost.c, net.c,
// vsock.c). Core ioctls are probed on vhost-net unless the title names another device.
import type { Probe } from './probe.js';
import { guestRings, NET, NET_RUNNING, OWN, TAP, VSOCK } from './steps.js';

const probe = (target: string, title: string, fn: Probe['fn'], steps: readonly string[]): Probe => ({
  target,
  title,
  fn,
  steps,
});

const call = (name: string, arg?: string, key: 'arg' | 'argp' = 'arg') =>
  `{ioctl: ${name}, fd: d${arg === undefined ? '' : `, ${key}: ${arg}`}}`;

/** the vring ioctls all start in vhost_vring_ioctl: owner, then the index */
function vringPrefix(name: string, arg: string): Probe[] {
  return [
    probe(name, 'caller is not the owner', 'vhost_dev_check_owner', [NET, call(name, arg)]),
    probe(name, 'the index cannot be read', 'vhost_vring_ioctl', [NET, OWN, call(name, '0', 'argp')]),
    probe(name, 'index >= nvqs', 'vhost_vring_ioctl', [NET, OWN, call(name, '{index: 2}')]),
  ];
}

const SET_OWNER = 'VHOST_SET_OWNER';
const SET_FEATURES = 'VHOST_SET_FEATURES';
const MEM = 'VHOST_SET_MEM_TABLE';
const NUM = 'VHOST_SET_VRING_NUM';
const ADDR = 'VHOST_SET_VRING_ADDR';
const BASE = 'VHOST_SET_VRING_BASE';
const KICK = 'VHOST_SET_VRING_KICK';
const CALL = 'VHOST_SET_VRING_CALL';
const BACKEND = 'VHOST_NET_SET_BACKEND';
const CID = 'VHOST_VSOCK_SET_GUEST_CID';
const RUNNING = 'VHOST_VSOCK_SET_RUNNING';
const BACKEND_FEATURES = 'VHOST_SET_BACKEND_FEATURES';

const region = (r: string) => `{regions: [${r}]}`;

function eventfdChecks(name: string): Probe[] {
  return [
    ...vringPrefix(name, '{index: 0, fd: -1}'),
    probe(name, 'the fd is not open', 'vhost_vring_ioctl', [NET, OWN, call(name, '{index: 0, fd: 999}')]),
    probe(name, 'the fd is not an eventfd', 'vhost_vring_ioctl', [
      NET,
      OWN,
      call(name, '{index: 0, fd: $d}'),
    ]),
  ];
}

export const VHOST_PROBES: readonly Probe[] = [
  probe(SET_OWNER, 'vhost-net already has an owner', 'vhost_net_set_owner', [NET, OWN, OWN]),
  probe(SET_OWNER, 'vhost-vsock already has an owner', 'vhost_dev_set_owner', [VSOCK, OWN, OWN]),

  probe('VHOST_GET_FEATURES', 'the features cannot be copied out', 'vhost_net_ioctl', [
    NET,
    call('VHOST_GET_FEATURES', '0', 'argp'),
  ]),

  probe(SET_FEATURES, 'the features cannot be read', 'vhost_net_ioctl', [
    NET,
    call(SET_FEATURES, '0', 'argp'),
  ]),
  probe(SET_FEATURES, 'a bit vhost-net does not offer', 'vhost_net_ioctl', [
    NET,
    call(SET_FEATURES, 'BIT(50)'),
  ]),
  // vhost_log_access_ok checks only running vqs: the log base must be bad before the vq starts
  probe(SET_FEATURES, "LOG_ALL and a running vq's log is outside user space", 'vhost_net_set_features', [
    ...TAP,
    NET,
    OWN,
    ...guestRings(1),
    call('VHOST_SET_LOG_BASE', '0xffff800000000000'),
    '{ioctl: VHOST_NET_SET_BACKEND, fd: d, arg: {index: 1, fd: $tap}}',
    call(SET_FEATURES, 'VHOST_F_LOG_ALL'),
  ]),
  probe(SET_FEATURES, 'vhost-vsock: a bit it does not offer', 'vhost_vsock_set_features', [
    VSOCK,
    call(SET_FEATURES, 'BIT(50)'),
  ]),

  probe(MEM, 'caller is not the owner', 'vhost_dev_check_owner', [NET, call(MEM, region(''))]),
  probe(MEM, 'the header cannot be read', 'vhost_set_memory', [NET, OWN, call(MEM, '0', 'argp')]),
  probe(MEM, 'padding is not 0', 'vhost_set_memory', [NET, OWN, call(MEM, '{regions: [], padding: 1}')]),
  probe(MEM, 'nregions > max_mem_regions (64)', 'vhost_set_memory', [
    NET,
    OWN,
    call(MEM, '{regions: [], nregions: 65}'),
  ]),
  probe(MEM, 'a region of size 0 (last < start)', 'vhost_set_memory', [
    NET,
    OWN,
    call(MEM, region('{guest_phys_addr: 0x1000, memory_size: 0, userspace_addr: 0x10000}')),
  ]),
  // memory_access_ok checks the regions against running vqs only
  probe(MEM, 'a running vq and a region outside user space', 'vhost_set_memory', [
    ...NET_RUNNING,
    call(MEM, region('{guest_phys_addr: 0, memory_size: 4K, userspace_addr: 0xffff800000000000}')),
  ]),

  ...vringPrefix(NUM, '{index: 0, num: 256}'),
  probe(NUM, 'the vq has a backend', 'vhost_vring_set_num', [
    ...NET_RUNNING,
    call(NUM, '{index: 1, num: 256}'),
  ]),
  probe(NUM, 'num is not a power of 2', 'vhost_vring_set_num', [NET, OWN, call(NUM, '{index: 0, num: 100}')]),

  ...vringPrefix(ADDR, '{index: 0}'),
  probe(ADDR, 'flags other than VHOST_VRING_F_LOG', 'vhost_vring_set_addr', [
    NET,
    OWN,
    call(ADDR, '{index: 0, flags: 2}'),
  ]),
  probe(ADDR, 'a misaligned used ring', 'vhost_vring_set_addr', [
    NET,
    OWN,
    call(ADDR, '{index: 0, used_user_addr: 2}'),
  ]),
  probe(ADDR, 'the vq runs and the new rings are outside user space', 'vhost_vring_set_addr', [
    ...NET_RUNNING,
    call(ADDR, '{index: 1, desc_user_addr: 0xffff800000000000}'),
  ]),

  ...vringPrefix(BASE, '{index: 0, num: 0}'),
  probe(BASE, 'the vq has a backend', 'vhost_vring_ioctl', [
    ...NET_RUNNING,
    call(BASE, '{index: 1, num: 0}'),
  ]),
  probe(BASE, 'num > 0xffff (split ring)', 'vhost_vring_ioctl', [
    NET,
    OWN,
    call(BASE, '{index: 0, num: 0x10000}'),
  ]),

  ...eventfdChecks(KICK),
  ...eventfdChecks(CALL),

  probe(BACKEND, 'the argument cannot be read', 'vhost_net_ioctl', [NET, call(BACKEND, '0', 'argp')]),
  probe(BACKEND, 'caller is not the owner', 'vhost_dev_check_owner', [
    NET,
    call(BACKEND, '{index: 0, fd: -1}'),
  ]),
  probe(BACKEND, 'index >= VHOST_NET_VQ_MAX', 'vhost_net_set_backend', [
    NET,
    OWN,
    call(BACKEND, '{index: 2, fd: -1}'),
  ]),
  probe(BACKEND, 'no memory table', 'vq_memory_access_ok', [NET, OWN, call(BACKEND, '{index: 0, fd: -1}')]),
  probe(BACKEND, 'the rings are outside user space', 'vq_access_ok', [
    NET,
    OWN,
    ...guestRings(1).slice(0, 2),
    call(ADDR, '{index: 0, desc_user_addr: 0xffff800000000000}'),
    call(BACKEND, '{index: 0, fd: -1}'),
  ]),
  probe(BACKEND, 'the fd is not a socket', 'get_socket', [
    ...TAP,
    NET,
    OWN,
    ...guestRings(1),
    call(BACKEND, '{index: 1, fd: $d}'),
  ]),

  probe(CID, 'the CID cannot be read', 'vhost_vsock_dev_ioctl', [VSOCK, call(CID, '0', 'argp')]),
  probe(CID, 'a reserved CID (<= VMADDR_CID_HOST)', 'vhost_vsock_set_cid', [VSOCK, call(CID, '2')]),
  probe(CID, 'a CID above U32_MAX', 'vhost_vsock_set_cid', [VSOCK, call(CID, '0x100000000')]),
  probe(CID, 'another vhost-vsock has the CID', 'vhost_vsock_set_cid', [
    '{open: /dev/vhost-vsock, as: other}',
    '{ioctl: VHOST_VSOCK_SET_GUEST_CID, fd: other, arg: 3}',
    VSOCK,
    call(CID, '3'),
  ]),

  probe(RUNNING, 'the flag cannot be read', 'vhost_vsock_dev_ioctl', [VSOCK, call(RUNNING, '0', 'argp')]),
  probe(RUNNING, 'start: caller is not the owner', 'vhost_dev_check_owner', [VSOCK, call(RUNNING, '1')]),
  probe(RUNNING, 'start: no memory table', 'vq_memory_access_ok', [VSOCK, OWN, call(RUNNING, '1')]),

  probe(BACKEND_FEATURES, 'vhost-net: a bit it does not offer', 'vhost_net_ioctl', [
    NET,
    call(BACKEND_FEATURES, 'BIT(40)'),
  ]),
  probe(BACKEND_FEATURES, 'vhost-vsock: a bit it does not offer', 'vhost_vsock_dev_ioctl', [
    VSOCK,
    OWN,
    call(BACKEND_FEATURES, 'BIT(40)'),
  ]),
];

// Checks of vhost-vdpa's ioctls (drivers/vhost/vdpa.c: vhost_vdpa_unlocked_ioctl, its helpers and
// vhost_vdpa_vring_ioctl), probed on /dev/vhost-vdpa-0, vdpa_sim net, in the order the kernel makes them.
import { type Probe, probe } from './probe.js';
import { OWN, VDPA, VDPA_OWNED } from './steps.js';

const call = (name: string, arg?: string, key: 'arg' | 'argp' = 'arg') =>
  `{ioctl: ${name}, fd: d${arg === undefined ? '' : `, ${key}: ${arg}`}}`;

/** the default machine's vdpa0 with one parent op taken away */
const vdpa0Without = (op: 'suspend' | 'resume') =>
  `{vdpa: [{name: vdpa0, type: net, mac: "52:54:00:12:34:56", mtu: 1500, ${op}: false}]}`;

const STATUS = 'VHOST_VDPA_SET_STATUS';
const ASID = 'VHOST_VDPA_SET_GROUP_ASID';
const SUSPEND = 'VHOST_VDPA_SUSPEND';
const RESUME = 'VHOST_VDPA_RESUME';
const BF = 'VHOST_SET_BACKEND_FEATURES';
const DRIVER_OK = call(
  STATUS,
  '[VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER, VIRTIO_CONFIG_S_DRIVER_OK]',
);

function configChecks(name: string): Probe[] {
  const fn = name === 'VHOST_VDPA_GET_CONFIG' ? 'vhost_vdpa_get_config' : 'vhost_vdpa_set_config';
  return [
    probe(name, 'the header cannot be read', fn, [VDPA, call(name, '0', 'argp')]),
    probe(name, 'len == 0', fn, [VDPA, call(name, '{off: 0, len: 0}')]),
    probe(name, 'off + len beyond the config space', fn, [VDPA, call(name, '{off: 8, len: 100}')]),
  ];
}

export const VDPA_PROBES: readonly Probe[] = [
  probe(STATUS, 'the status cannot be read', 'vhost_vdpa_set_status', [VDPA, call(STATUS, '0', 'argp')]),
  probe(STATUS, 'a status bit cleared without a reset to 0', 'vhost_vdpa_set_status', [
    VDPA,
    call(STATUS, '[VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER]'),
    call(STATUS, 'VIRTIO_CONFIG_S_ACKNOWLEDGE'),
  ]),

  probe('VHOST_SET_FEATURES', 'vhost-vdpa: FEATURES_OK already set', 'vhost_vdpa_set_features', [
    VDPA,
    call(STATUS, '[VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER, VIRTIO_CONFIG_S_FEATURES_OK]'),
    call('VHOST_SET_FEATURES', 'VIRTIO_F_VERSION_1'),
  ]),
  probe('VHOST_SET_FEATURES', 'vhost-vdpa: the features cannot be read', 'vhost_vdpa_set_features', [
    VDPA,
    call('VHOST_SET_FEATURES', '0', 'argp'),
  ]),
  probe('VHOST_SET_FEATURES', 'vhost-vdpa: the parent refuses the features', 'vhost_vdpa_set_features', [
    VDPA,
    call('VHOST_SET_FEATURES', 'BIT(50)'),
  ]),

  probe(ASID, 'caller is not the owner', 'vhost_dev_check_owner', [VDPA, call(ASID, '{index: 0, num: 0}')]),
  probe(ASID, 'the group cannot be read', 'vhost_vdpa_vring_ioctl', [VDPA, OWN, call(ASID, '0', 'argp')]),
  probe(ASID, 'group index >= nvqs', 'vhost_vdpa_vring_ioctl', [VDPA, OWN, call(ASID, '{index: 3, num: 0}')]),
  // 6.6–6.10 lack the bound check: vdpa_sim's own (group > ngroups) is off by one, so the call works
  probe(ASID, 'group >= ngroups', 'vhost_vdpa_vring_ioctl', [VDPA, OWN, call(ASID, '{index: 2, num: 0}')]),
  probe(ASID, 'asid >= nas', 'vhost_vdpa_vring_ioctl', [VDPA, OWN, call(ASID, '{index: 1, num: 2}')]),

  // owned, and argp at readable memory: on a release without the ioctl the call then reaches the
  // unknown-ioctl branch instead of stopping at the owner check or the vring index read
  probe(
    SUSPEND,
    'the parent has no suspend op',
    'vhost_vdpa_suspend',
    [...VDPA_OWNED, DRIVER_OK, call(SUSPEND, '$m', 'argp')],
    vdpa0Without('suspend'),
  ),
  probe(
    RESUME,
    'the parent has no resume op',
    'vhost_vdpa_resume',
    [...VDPA_OWNED, DRIVER_OK, call(RESUME, '$m', 'argp')],
    vdpa0Without('resume'),
  ),

  probe('VHOST_VDPA_GET_IOVA_RANGE', 'the range cannot be copied out', 'vhost_vdpa_get_iova_range', [
    VDPA,
    call('VHOST_VDPA_GET_IOVA_RANGE', '0', 'argp'),
  ]),
  ...configChecks('VHOST_VDPA_GET_CONFIG'),
  ...configChecks('VHOST_VDPA_SET_CONFIG'),

  probe('VHOST_SET_VRING_NUM', "vhost-vdpa: num above the parent's maximum", 'vhost_vdpa_vring_ioctl', [
    VDPA,
    OWN,
    call('VHOST_SET_VRING_NUM', '{index: 0, num: 0x8000}'),
  ]),
  probe('VHOST_SET_VRING_ADDR', 'vhost-vdpa: DRIVER_OK and not suspended', 'vhost_vdpa_vring_ioctl', [
    VDPA,
    OWN,
    DRIVER_OK,
    call('VHOST_SET_VRING_ADDR', '{index: 0}'),
  ]),

  probe(BF, 'vhost-vdpa: the features cannot be read', 'vhost_vdpa_unlocked_ioctl', [
    VDPA,
    call(BF, '0', 'argp'),
  ]),
  probe(BF, 'vhost-vdpa: a bit it does not know', 'vhost_vdpa_unlocked_ioctl', [VDPA, call(BF, 'BIT(20)')]),
  probe(
    BF,
    'vhost-vdpa: SUSPEND and the parent cannot suspend',
    'vhost_vdpa_unlocked_ioctl',
    [VDPA, call(BF, 'VHOST_BACKEND_F_SUSPEND')],
    vdpa0Without('suspend'),
  ),
  probe(
    BF,
    'vhost-vdpa: RESUME and the parent cannot resume',
    'vhost_vdpa_unlocked_ioctl',
    [VDPA, call(BF, 'VHOST_BACKEND_F_RESUME')],
    vdpa0Without('resume'),
  ),
  probe(BF, 'vhost-vdpa: DESC_ASID without IOTLB_ASID', 'vhost_vdpa_unlocked_ioctl', [
    VDPA,
    call(BF, 'VHOST_BACKEND_F_DESC_ASID'),
  ]),
];

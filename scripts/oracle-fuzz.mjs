// Random oracle scripts for vhost-vsock, vhost-net and vhost-vdpa: the same calls go to the real kernel (the
// oracle in ../shared/oracle, which boots Debian's kernels) and to vioctl (test/oracle/replay.ts),
// and every line where the two answer differently is a fidelity bug. Only calls whose answer does
// not depend on timing: no kicks or blocking reads (the kernel's vhost worker runs on its own).
//   node scripts/oracle-fuzz.mjs SEED OPS OUT.txt [novdpa | iotlb]
// then, as root: ORACLE_BUILD=... ../shared/oracle/oracle.sh -o DIR OUT.txt, copy OUT.txt to
// test/oracle/data/scripts/ and DIR/OUT.jsonl to results/ (6.1) or results-6.12/, and add a case to
// test/oracle/vsock.test.ts, which replays it line by line (fuzz_11/13/15 are such recordings).
import { writeFileSync } from 'node:fs';

const [seedArg, opsArg, out, family] = process.argv.slice(2);
const withVdpa = family !== 'novdpa';
// 'iotlb': mostly IOTLB messages over a window of 16 pages (overlaps, splits, whole-entry
// INVALIDATE), on devices that negotiated ACCESS_PLATFORM first
const iotlbHeavy = family === 'iotlb';
if (!out) {
  process.stderr.write('usage: node scripts/oracle-fuzz.mjs SEED OPS OUT.txt\n');
  process.exit(2);
}

// mulberry32: the same seed gives the same script
let state = Number(seedArg) >>> 0;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];
const chance = (p) => rand() < p;

const FEATURE_BITS = [
  'VIRTIO_F_VERSION_1',
  'VIRTIO_F_ACCESS_PLATFORM',
  'VIRTIO_F_RING_PACKED',
  'VHOST_F_LOG_ALL',
  'VIRTIO_RING_F_EVENT_IDX',
  'VIRTIO_RING_F_INDIRECT_DESC',
  'VIRTIO_F_NOTIFY_ON_EMPTY',
  'VIRTIO_F_ANY_LAYOUT',
  'VIRTIO_F_IN_ORDER',
  'VHOST_NET_F_VIRTIO_NET_HDR',
  '0',
  '5',
  '40',
  '63',
];
const BACKEND_BITS = [
  'VHOST_BACKEND_F_IOTLB_MSG_V2',
  'VHOST_BACKEND_F_IOTLB_BATCH',
  'VHOST_BACKEND_F_IOTLB_ASID',
  'VHOST_BACKEND_F_SUSPEND',
  '10',
];
const ADDRS = [
  '@mem',
  '@mem+0x1000',
  '@mem+0x2000',
  '@mem+0x4000',
  '@mem+0x1',
  '@mem+0x1002',
  '0',
  '0xffffffffffff0000',
];
const FDS = ['%k0', '%k1', '%c0', '%c1', '-1', '12345'];

function features(bits, base) {
  const parts = [];
  if (base && chance(0.5)) parts.push(base);
  const n = Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const b = pick(bits);
    parts.push(`BIT(${b})`);
  }
  return parts.length > 0 ? parts.join('|') : '0';
}

function vringOp(fd) {
  const index = pick(['0', '0', '1', '1', '2', '255']);
  switch (pick(['num', 'addr', 'base', 'getbase', 'kick', 'call', 'err'])) {
    case 'num':
      return `ioctl ${fd} VHOST_SET_VRING_NUM index=${index} num=${pick(['0', '1', '3', '128', '256', '32768', '65536'])}`;
    case 'addr': {
      const flags = chance(0.2) ? ` flags=${pick(['1', '2', 'BIT(5)'])}` : '';
      return `ioctl ${fd} VHOST_SET_VRING_ADDR index=${index} desc=${pick(ADDRS)} avail=${pick(ADDRS)} used=${pick(ADDRS)}${flags}`;
    }
    case 'base':
      return `ioctl ${fd} VHOST_SET_VRING_BASE index=${index} num=${pick(['0', '1', '0xffff', '0x10000', '0x8000'])}`;
    case 'getbase':
      return `ioctl ${fd} VHOST_GET_VRING_BASE index=${index}`;
    case 'kick':
      return `ioctl ${fd} VHOST_SET_VRING_KICK index=${index} fd=${pick(FDS)}`;
    case 'call':
      return `ioctl ${fd} VHOST_SET_VRING_CALL index=${index} fd=${pick(FDS)}`;
    default:
      return `ioctl ${fd} VHOST_SET_VRING_ERR index=${index} fd=${pick(FDS)}`;
  }
}

function memTable(fd) {
  const r = () =>
    `region=${pick(['0', '0x80000', '0x100000', '0xfffffffffffff000'])}:${pick(['0x1000', '0x100000', '0x80000', '0', '0x2000'])}:${pick(['@mem', '@mem+0x80000', '0xffffffffffff0000'])}`;
  const n = pick([0, 1, 1, 1, 2]);
  const regions = Array.from({ length: n }, r).join(' ');
  const extra = chance(0.1) ? ` nregions=${pick(['65', '100000', '0'])}` : chance(0.1) ? ' padding=1' : '';
  return `ioctl ${fd} VHOST_SET_MEM_TABLE ${regions || 'nregions=0'}${extra}`.replace(/ +/g, ' ');
}

function iotlb(fd) {
  const v = pick(['v1', 'v2', 'v2']);
  const asid = v === 'v2' && chance(0.15) ? ` asid=${pick(['1', '5'])}` : '';
  const page = () => `0x${(Math.floor(rand() * 16) * 0x1000).toString(16)}`;
  const iova = iotlbHeavy ? page() : pick(['0', '0x1000', '0x2000', '0x100000', '0xfffffffffffff000']);
  const size = iotlbHeavy
    ? pick(['0x1000', '0x2000', '0x3000', '0x800', '0x1800', '0x4000'])
    : pick(['0x1000', '0x2000', '0', '0x10000', '0xffffffffffffffff']);
  const len = chance(0.08) ? ` len=${pick(['2', '20', '47', '100'])}` : '';
  switch (
    pick([
      'UPDATE',
      'UPDATE',
      'UPDATE',
      'INVALIDATE',
      'INVALIDATE',
      'BATCH_BEGIN',
      'BATCH_END',
      'MISS',
      'ACCESS_FAIL',
    ])
  ) {
    case 'UPDATE':
      return `iotlb ${fd} ${v} UPDATE${asid} iova=${iova} size=${size} uaddr=${pick(['@mem', '@mem+0x1000', '@mem+0xff000', '0', '0x800000000000'])} perm=${pick(['RO', 'WO', 'RW', 'RW', '0', '7'])}${len}`;
    case 'INVALIDATE':
      return `iotlb ${fd} ${v} INVALIDATE${asid} iova=${iova} size=${size}${len}`;
    case 'MISS':
      return `iotlb ${fd} ${v} MISS iova=${iova} size=${size}`;
    case 'ACCESS_FAIL':
      return `iotlb ${fd} ${v} ACCESS_FAIL iova=${iova} size=${size}`;
    default:
      return `iotlb ${fd} ${v} ${pick(['BATCH_BEGIN', 'BATCH_END'])}${asid}`;
  }
}

const STATUS_BITS = [
  'VIRTIO_CONFIG_S_ACKNOWLEDGE',
  'VIRTIO_CONFIG_S_DRIVER',
  'VIRTIO_CONFIG_S_FEATURES_OK',
  'VIRTIO_CONFIG_S_DRIVER_OK',
];

/** vhost-vdpa's own calls (vdpa_sim_net behind /dev/vhost-vdpa-0) */
function vdpaOp(fd) {
  const index = pick(['0', '1', '2', '3', '255']);
  switch (pick(['status', 'status', 'getstatus', 'query', 'config', 'enable', 'group', 'asid', 'suspend'])) {
    case 'status': {
      const ordered = chance(0.6);
      const n = Math.floor(rand() * 5);
      const bits = ordered ? STATUS_BITS.slice(0, n) : Array.from({ length: n }, () => pick(STATUS_BITS));
      return `ioctl ${fd} VHOST_VDPA_SET_STATUS status=${bits.length ? bits.join('|') : pick(['0', '0x40', '0x80'])}`;
    }
    case 'getstatus':
      return `ioctl ${fd} VHOST_VDPA_GET_STATUS`;
    case 'query':
      return `ioctl ${fd} ${pick([
        'VHOST_VDPA_GET_DEVICE_ID',
        'VHOST_VDPA_GET_VRING_NUM',
        'VHOST_VDPA_GET_VQS_COUNT',
        'VHOST_VDPA_GET_AS_NUM',
        'VHOST_VDPA_GET_GROUP_NUM',
        'VHOST_VDPA_GET_IOVA_RANGE',
        'VHOST_VDPA_GET_CONFIG_SIZE',
      ])}`;
    case 'config':
      return `ioctl ${fd} VHOST_VDPA_GET_CONFIG off=${pick(['0', '1', '6', '8', '100'])} len=${pick(['0', '1', '6', '8', '12', '200'])}`;
    case 'enable':
      return `ioctl ${fd} VHOST_VDPA_SET_VRING_ENABLE index=${index} num=${pick(['0', '1'])}`;
    case 'group':
      return `ioctl ${fd} VHOST_VDPA_GET_VRING_GROUP index=${index}`;
    case 'asid':
      return `ioctl ${fd} VHOST_VDPA_SET_GROUP_ASID index=${pick(['0', '1', '2'])} num=${pick(['0', '1', '2'])}`;
    default:
      return `ioctl ${fd} ${pick(['VHOST_VDPA_SUSPEND', 'VHOST_VDPA_RESUME'])}`;
  }
}

function deviceOp(fd, kind) {
  if (iotlbHeavy) return chance(0.85) ? iotlb(fd) : chance(0.5) ? `read ${fd} timeout=0` : vringOp(fd);
  const r = rand();
  if (kind === 'vdpa' && chance(0.35)) return vdpaOp(fd);
  if (r < 0.06) return `ioctl ${fd} VHOST_SET_OWNER`;
  if (r < 0.09) return `ioctl ${fd} VHOST_RESET_OWNER`;
  if (r < 0.12) return `ioctl ${fd} VHOST_GET_FEATURES`;
  if (r < 0.2) return `ioctl ${fd} VHOST_SET_FEATURES features=${features(FEATURE_BITS, '$F')}`;
  if (r < 0.23) return `ioctl ${fd} VHOST_GET_BACKEND_FEATURES`;
  if (r < 0.28) return `ioctl ${fd} VHOST_SET_BACKEND_FEATURES features=${features(BACKEND_BITS)}`;
  if (r < 0.34) return memTable(fd);
  if (r < 0.58) return vringOp(fd);
  if (r < 0.76) return iotlb(fd);
  if (r < 0.8) return `read ${fd} timeout=0`;
  if (kind === 'vdpa') return iotlb(fd);
  if (kind === 'vsock') {
    if (r < 0.9)
      return `ioctl ${fd} VHOST_VSOCK_SET_GUEST_CID cid=${pick(['0', '1', '2', '3', '4', '7', '0xffffffff', '0x100000000', '0xfffffffe'])}`;
    return `ioctl ${fd} VHOST_VSOCK_SET_RUNNING running=${pick(['0', '1', '1', '7'])}`;
  }
  if (r < 0.9)
    return `ioctl ${fd} VHOST_NET_SET_BACKEND index=${pick(['0', '1', '2'])} fd=${pick(['%tun', '%tun', '-1', '%k0', '12345'])}`;
  if (r < 0.95)
    return `ioctl ${fd} VHOST_SET_VRING_BUSYLOOP_TIMEOUT index=${pick(['0', '1', '2'])} num=${pick(['0', '50'])}`;
  return `ioctl ${fd} VHOST_GET_VRING_BUSYLOOP_TIMEOUT index=${pick(['0', '1', '2'])}`;
}

const lines = [
  `# oracle-fuzz seed ${seedArg}, ${opsArg} operations (scripts/oracle-fuzz.mjs)`,
  'mmap mem 0x100000',
  'eventfd k0',
  'eventfd k1',
  'eventfd c0',
  'eventfd c1',
  'open tun /dev/net/tun',
  'ioctl tun TUNSETIFF name=tap0 flags=IFF_TAP|IFF_NO_PI|IFF_VNET_HDR',
  'open vs /dev/vhost-vsock',
  'ioctl vs VHOST_GET_FEATURES save=F',
  'open n /dev/vhost-net',
  ...(iotlbHeavy
    ? [
        'ioctl vs VHOST_SET_OWNER',
        'ioctl vs VHOST_SET_FEATURES features=BIT(VIRTIO_F_ACCESS_PLATFORM)|BIT(VIRTIO_F_VERSION_1)',
        'ioctl vs VHOST_SET_BACKEND_FEATURES features=BIT(VHOST_BACKEND_F_IOTLB_MSG_V2)|BIT(VHOST_BACKEND_F_IOTLB_BATCH)',
        'ioctl n VHOST_SET_OWNER',
        'ioctl n VHOST_SET_FEATURES features=BIT(VIRTIO_F_ACCESS_PLATFORM)|BIT(VIRTIO_F_VERSION_1)',
      ]
    : []),
  'open vs2 /dev/vhost-vsock',
  ...(withVdpa ? ['open va /dev/vhost-vdpa-0'] : []),
  ...(withVdpa && iotlbHeavy
    ? [
        'ioctl va VHOST_SET_OWNER',
        'ioctl va VHOST_SET_BACKEND_FEATURES features=BIT(VHOST_BACKEND_F_IOTLB_MSG_V2)|BIT(VHOST_BACKEND_F_IOTLB_BATCH)|BIT(VHOST_BACKEND_F_IOTLB_ASID)',
      ]
    : []),
];
const devices = [
  ['vs', 'vsock'],
  ['vs', 'vsock'],
  ['vs2', 'vsock'],
  ['n', 'net'],
  ['n', 'net'],
  ...(withVdpa
    ? [
        ['va', 'vdpa'],
        ['va', 'vdpa'],
        ['va', 'vdpa'],
      ]
    : []),
];
for (let i = 0; i < Number(opsArg); i++) {
  const [fd, kind] = pick(devices);
  const r = rand();
  if (r < 0.015) {
    // a fresh device of the same kind
    const dev = { vsock: '/dev/vhost-vsock', net: '/dev/vhost-net', vdpa: '/dev/vhost-vdpa-0' }[kind];
    lines.push(`close ${fd}`, `open ${fd} ${dev}`);
  } else if (r < 0.03) {
    // another process: ownership checks
    lines.push('fork', deviceOp(fd, kind), deviceOp(fd, kind), 'endfork');
  } else {
    lines.push(deviceOp(fd, kind));
  }
}
writeFileSync(out, `${lines.join('\n')}\n`);

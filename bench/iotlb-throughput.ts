// The vhost-vdpa IOTLB write path under load (issue 3's benchmark): UPDATE +
// INVALIDATE messages through write() per second with N live entries. A
// dma_map parent in VA mode, so each message costs the vhost side and one
// parent call, not a whole-table set_map (which the kernel also pays per
// message outside a batch), with max_iotlb_entries raised as a module parameter would. Prints one
// JSON line per N.
import { registerDrivers } from '../src/drivers/index.js';
import { Kernel } from '../src/kernel/kernel.js';
import { DEFAULT_MACHINE } from '../src/kernel/machine.js';
import { type KernelProfile, makeProfile } from '../src/kernel/profile.js';
import { vhostIoctl } from '../src/uapi/vhost.js';

const PAGE = 0x1000n;

function message(type: number, iova: bigint, size: bigint, uaddr: bigint): Uint8Array {
  const b = new Uint8Array(72);
  const v = new DataView(b.buffer);
  v.setUint32(0, 2, true); // VHOST_IOTLB_MSG_V2
  v.setBigUint64(8, iova, true);
  v.setBigUint64(16, size, true);
  v.setBigUint64(24, uaddr, true);
  b[32] = 3; // RW
  b[33] = type;
  return b;
}

function setup(live: number) {
  const machine = {
    ...DEFAULT_MACHINE,
    vdpa: [{ name: 'vdpa0', type: 'net' as const, mapping: 'dma_map' as const }],
    // 6.12 enforces vhost_vdpa's and vdpa_sim's max_iotlb_entries (2048 by default): the modules loaded
    // with room for 10^6 live entries
    limits: { ...DEFAULT_MACHINE.limits, max_iotlb_entries: 1 << 21 },
  };
  const k = new Kernel(makeProfile('6.12', []) as KernelProfile, machine);
  registerDrivers(k);
  const p = k.spawn('main');
  const open = k.open(p, '/dev/vhost-vdpa-0', 2);
  if (open.ok !== true) throw new Error(`open: ${JSON.stringify(open)}`);
  const fd = open.ret as number;
  k.ioctl(p, fd, vhostIoctl('VHOST_SET_OWNER').number, 0n);
  const span = BigInt(live + 16) * PAGE;
  const m = k.mmap(p, { size: span, prot: 3, kind: 'memfd' });
  if (m.ok !== true) throw new Error('mmap');
  const base = m.ret as bigint;
  for (let i = 0; i < live; i++) {
    const r = k.write(p, fd, k.stage(p, message(2, BigInt(i) * PAGE, PAGE, base + BigInt(i) * PAGE)), 72);
    if (r.ok !== true) throw new Error(`populate ${i}: ${JSON.stringify(r)}`);
  }
  return { k, p, fd, base, live };
}

function run(live: number, pairs: number): void {
  const s = setup(live);
  const iova = BigInt(live + 4) * PAGE;
  const uaddr = s.base + iova;
  const upd = s.k.stage(s.p, message(2, iova, PAGE, uaddr), 0n);
  const inv = s.k.stage(s.p, message(3, iova, PAGE, 0n), 0x100n);
  for (let i = 0; i < 2000; i++) {
    s.k.write(s.p, s.fd, upd, 72);
    s.k.write(s.p, s.fd, inv, 72);
  }
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < pairs; i++) {
    const a = s.k.write(s.p, s.fd, upd, 72);
    const b = s.k.write(s.p, s.fd, inv, 72);
    if (a.ok !== true || b.ok !== true) throw new Error('write failed');
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  // CPU time (user + system, µs) as well as wall time: on a shared machine the wall clock also counts other
  // processes' turns, so comparisons of two builds use cpuPerSecond
  const cpuUs = cpu.user + cpu.system;
  const messages = pairs * 2;
  console.log(
    JSON.stringify({
      live,
      messages,
      perSecond: Math.round((messages * 1e9) / ns),
      cpuPerSecond: Math.round((messages * 1e6) / cpuUs),
    }),
  );
}

const live = Number(process.argv[2] ?? 1000);
run(live, Number(process.argv[3] ?? 100000));

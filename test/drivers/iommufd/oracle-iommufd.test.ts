// The real kernel's answers to the iommufd commands past ALLOC / MAP / UNMAP, replayed: Debian's
// 6.12.117 source built with CONFIG_IOMMUFD=m and the vfio cdev (shared/oracle, ORACLE_IOMMUFD=1,
// QEMU 7.2 q35 with intel-iommu under TCG), script test/oracle/data/scripts/iommufd.txt. Each
// ioctl's errno and the bytes the kernel left in the struct must be the model's: iommufd_get_hw_info
// (and the VT-d cap / ecap registers), iommufd_hwpt_alloc's flag checks, iommufd_ioas_iova_ranges,
// iommufd_option, iommufd_vfio_ioas, iommufd_fops_ioctl's dispatch, iommufd_fault_alloc,
// iommufd_hwpt_set_dirty_tracking and iommufd_hwpt_invalidate @ 6.12.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { iommufdNr } from '../../../src/uapi/iommufd.js';
import { bindTo, errnoOf, open, vfioKernel } from '../vfio/helpers.js';

const DIR = 'test/oracle/data';
const script = readFileSync(`${DIR}/scripts/iommufd.txt`, 'utf8').split('\n');
const recorded = readFileSync(`${DIR}/results-6.12-iommufd/iommufd.jsonl`, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Record<string, unknown>);

const bytes = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => Number.parseInt(x, 16));
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const le = (x: number, n: number) => hex(Uint8Array.from({ length: n }, (_, i) => (x >>> (8 * i)) & 0xff));

describe('iommufd @ 6.12 against the recorded kernel (results-6.12-iommufd/iommufd.jsonl)', () => {
  const f = vfioKernel('6.12');
  const fds = new Map<string, number>();
  // one answer per recorded line, in order, from the same script
  const answers: Record<string, unknown>[] = [];
  const ioctl = (fd: number, cmd: number, h: string) => {
    const a = f.k.stage(f.p, bytes(h));
    const r = f.k.ioctl(f.p, fd, cmd, a);
    return { errno: r.ok === true ? 0 : errnoOf(r), buf: hex(f.p.mm.copyFromUser(a, h.length / 2)!) };
  };
  for (const line of script) {
    const t = line.split(' ');
    if (!line || line.startsWith('#')) continue;
    if (t[0] === 'open') {
      const path = t[2]!.replace(/\$\{N\}/, '0'); // cdev_of N: the recording's vfio0
      fds.set(t[1]!, open(f, path));
      answers.push({ op: 'open', errno: 0 });
    } else if (t[0] === 'sysfs_write') {
      answers.push({ op: 'sysfs_write' });
      if (t[1]!.endsWith('drivers_probe')) bindTo(f, t[2]!, 'vfio-pci');
    } else if (t[0] === 'cdev_of') answers.push({ op: 'cdev_of', cdev: 0 });
    else if (t[0] === 'mmap') {
      const m = f.k.mmap(f.p, { size: 0x1000n, prot: 3, kind: 'anon', at: 0x10000000n });
      answers.push({ op: 'mmap', errno: m.ok === true ? 0 : errnoOf(m) });
    } else if (t[0] === 'peek') {
      const off = BigInt(t[2]!);
      const w = Number(t[3]!.slice('width='.length));
      const b = f.p.mm.copyFromUser(0x10000000n + off, w)!;
      answers.push({ op: 'peek', value: `0x${BigInt(`0x${hex(b.reverse())}`).toString(16)}` });
    } else if (t[0] === 'ioctl') {
      const fd = fds.get(t[1]!)!;
      const name = t[2]!;
      const h =
        name === 'VFIO_DEVICE_BIND_IOMMUFD'
          ? le(16, 4) + le(0, 4) + le(fds.get('i')!, 4) + le(0, 4)
          : name === 'IOMMU_IOAS_ALLOC'
            ? le(12, 4) + le(0, 8)
            : name === 'VFIO_DEVICE_ATTACH_IOMMUFD_PT'
              ? le(12, 4) + le(0, 4) + le(3, 4)
              : // IOMMU_IOAS_IOVA_RANGES ioas=2 num=4, its ranges at 0x10000800
                le(32, 4) + le(2, 4) + le(4, 4) + le(0, 4) + le(0x10000800, 4) + le(0, 4) + le(0, 8);
      const r = ioctl(fd, iommufdNr(name), h);
      const b = bytes(r.buf);
      const v = new DataView(b.buffer);
      const a: Record<string, unknown> = { op: 'ioctl', errno: r.errno };
      if (name === 'VFIO_DEVICE_BIND_IOMMUFD') a.devid = v.getUint32(12, true);
      if (name === 'IOMMU_IOAS_ALLOC') a.ioas_id = v.getUint32(8, true);
      if (name === 'VFIO_DEVICE_ATTACH_IOMMUFD_PT') a.pt_id = v.getUint32(8, true);
      if (name === 'IOMMU_IOAS_IOVA_RANGES') {
        const num = v.getUint32(8, true);
        a.num_iovas = num;
        a.out_iova_alignment = `0x${v.getBigUint64(24, true).toString(16)}`;
        const rs = new DataView(f.p.mm.copyFromUser(0x10000800n, 16 * num)!.buffer);
        a.ranges = Array.from({ length: num }, (_, i) => [
          `0x${rs.getBigUint64(16 * i, true).toString(16)}`,
          `0x${rs.getBigUint64(16 * i + 8, true).toString(16)}`,
        ]);
      }
      answers.push(a);
    } else if (t[0] === 'ioctl_raw') {
      const fd = fds.get(t[1]!)!;
      const cmd = Number(t[2]);
      if (t[3]!.startsWith('arg=')) {
        const r = f.k.ioctl(f.p, fd, cmd, 0n);
        answers.push({ op: 'ioctl_raw', errno: r.ok === true ? 0 : errnoOf(r) });
      } else answers.push({ op: 'ioctl_raw', ...ioctl(fd, cmd, t[3]!.slice('buf='.length)) });
    } else throw new Error(`unhandled script line: ${line}`);
  }

  test('the replay covers every recorded line', () => {
    expect(answers.length).toBe(recorded.length);
  });
  test.each(recorded.map((r, i) => [r.src as string, i] as const))('%s', (_src, i) => {
    const want: Record<string, unknown> = { ...recorded[i]!, errno: recorded[i]!.err ?? 0 };
    const got = answers[i]!;
    expect(got.op).toBe(want.op);
    const keys = [
      'errno',
      'buf',
      'devid',
      'ioas_id',
      'pt_id',
      'num_iovas',
      'out_iova_alignment',
      'ranges',
      'value',
      'cdev',
    ];
    const pick = (o: Record<string, unknown>) =>
      Object.fromEntries(keys.filter((k) => k in got && k in want).map((k) => [k, o[k]]));
    expect(pick(got)).toEqual(pick(want));
  });
});

// vhost-vdpa's IOTLB fault sites (drivers/vhost/vdpa.c, drivers/vdpa/vdpa_sim/vdpa_sim.c at 6.1 and
// 6.12): every handler error is -EFAULT from write() (vhost_chr_write_iter), the inner errno is the
// site's. Test names give the kernel function followed.
import { describe, expect, test } from 'vitest';
import { run, yaml } from './helpers.js';

const OWNED = `  - open: /dev/vhost-vdpa-0
    as: v
  - ioctl: VHOST_SET_OWNER
    fd: v
  - mmap: ram
    size: 64K
    memfd: true
`;
const update = (iova: string, size: string, off: string, fail?: number) =>
  `  - write: v
    iotlb: { type: UPDATE, iova: ${iova}, size: ${size}, uaddr: "$ram + ${off}", perm: RW }
${fail ? `    fail_nth: ${fail}\n` : ''}`;
/** the iotlb rows of ASID 0 in one view: [iova, size, passthrough] */
const rows = (x: ReturnType<typeof run>, view: string) =>
  x.r.state.iotlb
    .filter((r) => r.view === view && r.asid === 0)
    .map((r) => [r.iova, r.size, r.passthrough ?? null]);
const HALF = 2n ** 63n;

describe('vhost-vdpa IOTLB', () => {
  test('vhost_vdpa_alloc_as: its kmalloc failing is "can\'t find and alloc asid" -EINVAL, nothing kept', () => {
    // points: copy_from_iter of the type (1), of the message (2), then the as kmalloc (3)
    const x = run(yaml('6.12', `${OWNED}${update('0x1000', '4K', '0', 3)}${update('0x1000', '4K', '0')}`));
    expect(x.step(3).faults?.[0]?.site).toBe('vhost_vdpa_alloc_as: kmalloc as');
    expect(x.step(3)).toMatchObject({
      errno: 'EFAULT',
      site: { function: 'vhost_vdpa_process_iotlb_msg', errno: 'EINVAL' },
    });
    expect(x.step(4)).toMatchObject({ errno: null, ret: 72 });
    expect(x.leaks).toEqual([]);
  });

  test('vhost_vdpa_va_map (6.12): kzalloc of the vdpa_map_file -ENOMEM; vhost_vdpa_unmap of 0 bytes still set_maps, ending passthrough', () => {
    const before = run(yaml('6.12', OWNED));
    // vdpasim's passthrough [0, ULONG_MAX], split in two by vhost_iotlb_add_range_ctx
    expect(rows(before, 'device')).toEqual([
      [0n, HALF, true],
      [HALF, HALF, true],
    ]);
    const x = run(yaml('6.12', `${OWNED}${update('0x1000', '4K', '0', 4)}`));
    expect(x.step(3).faults?.[0]?.site).toBe('vhost_vdpa_va_map: kzalloc map_file');
    expect(x.step(3)).toMatchObject({
      errno: 'EFAULT',
      site: { function: 'vhost_vdpa_va_map', errno: 'ENOMEM' },
    });
    expect(rows(x, 'vhost')).toEqual([]);
    // vdpasim_set_map from vhost_vdpa_unmap: the table is rebuilt from an empty IOTLB, iommu_pt false
    expect(rows(x, 'device')).toEqual([]);
    expect(x.leaks).toEqual([]);
  });

  test('vhost_vdpa_map (6.12, VA): vhost_iotlb_add_range_ctx -ENOMEM returns before the parent is told; the file reference is dropped', () => {
    const x = run(yaml('6.12', `${OWNED}${update('0x1000', '4K', '0', 5)}${update('0x1000', '4K', '0')}`));
    expect(x.step(3).faults?.[0]?.site).toBe('vhost_vdpa_map: vhost_iotlb_add_range_ctx kmalloc map');
    expect(x.step(3)).toMatchObject({
      errno: 'EFAULT',
      site: { function: 'vhost_vdpa_map', errno: 'ENOMEM' },
    });
    expect(x.step(4)).toMatchObject({ errno: null, ret: 72 });
    expect(rows(x, 'vhost')).toEqual([[0x1000n, 0x1000n, null]]);
    expect(x.leaks).toEqual([]);
  });

  test('vhost_vdpa_pa_map (6.1): vhost_vdpa_map failing unpins the outstanding run (nothing pinned, pinned_vm 0)', () => {
    const x = run(yaml('6.1', `${OWNED}${update('0x1000', '16K', '0', 4)}`));
    expect(x.step(3).faults?.[0]?.site).toBe('vhost_vdpa_map: vhost_iotlb_add_range_ctx kmalloc map');
    expect(x.step(3)).toMatchObject({
      errno: 'EFAULT',
      site: { function: 'vhost_vdpa_map', errno: 'ENOMEM' },
    });
    expect(x.k.objects.map((o) => o.pinned)).toEqual(x.k.objects.map(() => 0));
    expect(rows(x, 'vhost')).toEqual([]);
    expect(x.leaks).toEqual([]);
  });

  test("vdpasim_set_map (6.1): an add failing in an UPDATE's set_map resets the table; vhost_vdpa_pa_map's unwind (vhost_vdpa_unmap) set_maps it again", () => {
    // points of the second UPDATE: type (1), message (2), vhost map (3), set_map re-adds the first
    // entry (4), which fails
    const x = run(
      yaml('6.1', `${OWNED}${update('0x1000', '4K', '0')}${update('0x2000', '4K', '4K')}`).replace(
        /(uaddr: "\$ram \+ 4K", perm: RW }\n)/,
        '$1    fail_nth: 4\n',
      ),
    );
    expect(x.step(4).faults?.[0]?.site).toBe('vdpasim_set_map: vhost_iotlb_add_range kmalloc map');
    expect(x.step(4)).toMatchObject({
      errno: 'EFAULT',
      site: { function: 'vdpasim_set_map', errno: 'ENOMEM' },
    });
    // vhost_vdpa_map deleted the new entry; out: vhost_vdpa_unmap's set_map rebuilt the parent's
    // table from what is left
    expect(rows(x, 'vhost')).toEqual([[0x1000n, 0x1000n, null]]);
    expect(rows(x, 'device')).toEqual([[0x1000n, 0x1000n, false]]);
    expect(x.leaks).toEqual([]);
  });

  test('vdpasim_set_map (6.1): from vhost_vdpa_unmap its failure is ignored: INVALIDATE succeeds and the device table is empty', () => {
    const x = run(
      yaml(
        '6.1',
        `${OWNED}${update('0x1000', '4K', '0')}${update('0x2000', '4K', '4K')}  - write: v
    iotlb: { type: INVALIDATE, iova: 0x2000, size: 4K }
    fail_nth: 3
`,
      ),
    );
    // points: type, message, then set_map's add of the one entry left
    expect(x.step(5).faults?.[0]?.site).toBe('vdpasim_set_map: vhost_iotlb_add_range kmalloc map');
    expect(x.step(5)).toMatchObject({ errno: null, ret: 72 });
    expect(rows(x, 'vhost')).toEqual([[0x1000n, 0x1000n, null]]);
    expect(rows(x, 'device')).toEqual([]);
    expect(x.leaks).toEqual([]);
  });

  test('vdpasim_dma_map (6.12, dma_map parent): vhost_iotlb_add_range_ctx -ENOMEM after passthrough was dropped; vhost_vdpa_map deletes its entry', () => {
    const text = yaml(
      '6.12',
      `${OWNED}${update('0x1000', '4K', '0', 6)}${update('0x1000', '4K', '0')}`,
    ).replace('steps:', 'machine: { vdpa: [{ name: vdpa0, type: net, mapping: dma_map }] }\nsteps:');
    const x = run(text);
    expect(x.step(3).faults?.[0]?.site).toBe('vdpasim_dma_map: vhost_iotlb_add_range_ctx kmalloc map');
    expect(x.step(3)).toMatchObject({
      errno: 'EFAULT',
      site: { function: 'vdpasim_dma_map', errno: 'ENOMEM' },
    });
    expect(x.step(4)).toMatchObject({ errno: null, ret: 72 });
    expect(rows(x, 'device')).toEqual([[0x1000n, 0x1000n, false]]);
    expect(x.leaks).toEqual([]);
  });
});

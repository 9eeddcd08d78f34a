// Behaviour the fail_nth sweep found wrong, pinned one by one (each fixed following the kernel),
// and the one site whose failure is visible only against the fault-free run.
import { describe, expect, test } from 'vitest';
import { run, yaml } from './helpers.js';
import { type FaultedRun, loadAll, runFaulted } from './sweep.js';

describe('found by the sweep', () => {
  test('copy_struct_from_user: check_zeroed_user (no fault point) precedes copy_from_user, so E2BIG wins', () => {
    const x = run(
      yaml(
        '6.12',
        `  - open: /dev/iommu
    as: i
  - ioctl: IOMMU_IOAS_ALLOC
    fd: i
    argp: $tail
    fail_nth: 1
`,
      ).replace(
        'steps:',
        'steps:\n  - mmap: tail\n    size: 4K\n  - poke: tail\n    value: 64\n  - poke: tail\n    offset: 40\n    value: 1',
      ),
    );
    expect(x.step(4)).toMatchObject({ errno: 'E2BIG', site: { function: 'copy_struct_from_user' } });
    expect(x.step(4).faults).toBeUndefined();
  });

  test('iommufd_ucmd_respond: copy_to_user follows the object kzalloc directly (user_size is not read again) once ictx->objects has its xa_node', () => {
    const x = run(
      yaml(
        '6.12',
        `  - open: /dev/iommu
    as: i
  - ioctl: IOMMU_IOAS_ALLOC
    fd: i
  - ioctl: IOMMU_IOAS_ALLOC
    fd: i
    fail_nth: 3
`,
      ),
    );
    // points: copy_struct_from_user (1), _iommufd_object_alloc's kzalloc (2), copy_to_user (3)
    expect(x.step(2)).toMatchObject({ errno: 'EFAULT', site: { function: 'iommufd_ucmd_respond' } });
    expect(x.step(2).faults?.[0]?.site).toBe('copy_to_user');
  });

  test('_iommufd_object_alloc @ 6.12: the first object of a context stores into an empty xarray, whose xa_node is a GFP_NOWAIT point that __xas_nomem retries', () => {
    const first = (n: number) =>
      run(
        yaml(
          '6.12',
          `  - open: /dev/iommu
    as: i
  - ioctl: IOMMU_IOAS_ALLOC
    fd: i
    fail_nth: ${n}
`,
        ),
      );
    // points: the copy (1), the kzalloc (2), xa_alloc's first xa_node (3), copy_to_user (4)
    const a = first(3);
    expect(a.step(1).faults?.[0]?.site).toBe('xas_alloc: ictx->objects xa_node (GFP_NOWAIT)');
    expect(a.step(1)).toMatchObject({ errno: null, ret: 0, out: { out_ioas_id: 1 } });
    const b = first(4);
    expect(b.step(1)).toMatchObject({ errno: 'EFAULT', site: { function: 'iommufd_ucmd_respond' } });
    expect(b.step(1).faults?.[0]?.site).toBe('copy_to_user');
    expect([a.leaks, b.leaks]).toEqual([[], []]);
  });

  test('__vringh_iov: a vq made ready without a num masks with num - 1 and fails every head (-EINVAL), no division by 0', () => {
    // vdpa-live-update, its second scenario (the RFC's QEMU): the 34th fault point is SET_VRING_NUM's
    // copy_from_user; the vq is enabled and kicked with num 0, which used to throw in the vdpa_sim model
    const s = loadAll(['fixtures/stories/vdpa-live-update.yaml'])[1]!;
    expect(s.name).toBe("vdpa live update as the RFC's QEMU does it (reset, vrings re-created)");
    const r = runFaulted(s, 34);
    const f = r.result.faults!.injected[0]!;
    expect(r.result.steps[f.step!]).toMatchObject({ call: 'VHOST_SET_VRING_NUM', errno: 'EFAULT' });
    expect(r.leaks).toEqual([]);
  });
});

describe('a swallowed failure', () => {
  test('vhost_iotlb_miss: vhost_new_msg failing is ignored by its callers: SET_RUNNING is still EFAULT, no MISS queued', () => {
    // the crosvm story on 6.1: SET_RUNNING's vhost_vq_init_access misses on the used ring
    const s = loadAll(['fixtures/stories/crosvm-vsock-access-platform.yaml']).find(
      (x) => x.kernel === '6.1',
    )!;
    const clean = runFaulted(s, 0);
    const running = clean.result.steps.findIndex((x) => x.call === 'VHOST_VSOCK_SET_RUNNING');
    expect(clean.result.steps[running]!.errno).toBe('EFAULT');
    expect(clean.result.state.pending.length).toBeGreaterThan(0);
    let hit: FaultedRun | undefined;
    for (let n = 1; n <= clean.points && !hit; n++) {
      const r = runFaulted(s, n);
      if (r.result.faults?.injected[0]?.site === 'vhost_iotlb_miss: vhost_new_msg kmalloc') hit = r;
    }
    expect(hit).toBeDefined();
    const at = hit!.result.faults!.injected[0]!.step!;
    expect(at).toBe(running);
    expect(hit!.result.steps[at]).toMatchObject({ errno: 'EFAULT', site: clean.result.steps[at]!.site });
    expect(hit!.result.state.pending).toEqual([]);
    expect(hit!.leaks).toEqual([]);
  });
});

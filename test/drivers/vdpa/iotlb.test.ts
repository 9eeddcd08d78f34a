// drivers/vhost/vdpa.c vhost_vdpa_process_iotlb_msg and the mapping paths; the proposed REMAP / NEW_OWNER.
import { describe, expect, test } from 'vitest';
import { vhostVdpaDriver } from '../../../src/drivers/vhost/vdpa.js';
import { PROT_READ } from '../../../src/kernel/memory.js';
import type { StateTables } from '../../../src/kernel/registry.js';
import { expectErrno, expectOk, ioctlU64 } from '../../helpers/kernel.js';
import {
  BATCH_BEGIN,
  BATCH_END,
  bf,
  INVALIDATE,
  io,
  iotlb,
  mem,
  owned,
  REMAP,
  RW,
  status,
  UPDATE,
  vdpa,
} from './fixture.js';

const ASID = 1n << 3n;
const rows = (f: ReturnType<typeof vdpa>, view: string, asid = 0) => {
  const t: StateTables = {};
  f.k.driverState(t);
  return (t.iotlb ?? []).filter((r) => r.view === view && r.asid === asid);
};

describe('vhost_vdpa_process_iotlb_msg @ 6.1', () => {
  test('vhost_vdpa_process_iotlb_msg @ 6.1: a non-owner write is EFAULT with inner EPERM', () => {
    const f = vdpa('6.1');
    const r = iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr: mem(f, 0x1000n), perm: RW });
    expectErrno(r, 'EFAULT', 'EPERM');
  });

  test('vhost_vdpa_process_iotlb_update @ 6.1: overlap is EFAULT with inner EEXIST', () => {
    const f = owned('6.1');
    const gm = mem(f, 0x10000n);
    expectOk(iotlb(f, { type: UPDATE, iova: 0x100000n, size: 0x2000n, uaddr: gm, perm: RW }), 72);
    expectErrno(
      iotlb(f, { type: UPDATE, iova: 0x101000n, size: 0x2000n, uaddr: gm, perm: RW }),
      'EFAULT',
      'EEXIST',
    );
  });

  test('vhost_vdpa_process_iotlb_update @ 6.1: iova + size overflow is EFAULT with inner EINVAL', () => {
    const f = owned('6.1');
    const gm = mem(f, 0x2000n);
    const r = iotlb(f, { type: UPDATE, iova: 0xfffffffffffff000n, size: 0x2000n, uaddr: gm, perm: RW });
    expectErrno(r, 'EFAULT', 'EINVAL');
    expectOk(iotlb(f, { type: UPDATE, iova: 0xfffffffffffff000n, size: 0x1000n, uaddr: gm, perm: RW }));
  });

  test('vhost_chr_write_iter @ 6.1: size-0 UPDATE is EINVAL before the handler', () => {
    const f = owned('6.1');
    expectErrno(
      iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0n, uaddr: mem(f, 0x1000n), perm: RW }),
      'EINVAL',
    );
  });

  test('vhost_vdpa_pa_map @ 6.1: an unmapped uaddr is EFAULT with inner EFAULT (pin_user_pages)', () => {
    const f = owned('6.1');
    expectErrno(
      iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr: 0x1000n, perm: RW }),
      'EFAULT',
      'vhost_vdpa_pa_map',
    );
  });

  test('vhost_vdpa_pa_map @ 6.1: a write mapping of read-only memory cannot be pinned (EFAULT)', () => {
    const f = owned('6.1');
    const ro = f.k.mmap(f.p, { size: 0x1000n, prot: PROT_READ, kind: 'anon' });
    const uaddr = BigInt((ro as { ret: number }).ret);
    expectErrno(iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr, perm: RW }), 'EFAULT');
    expectOk(iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr, perm: 1 }));
  });

  test('vhost_vdpa_pa_map @ 6.1: a fault inside a pin chunk is ENOMEM (partial pin)', () => {
    const f = owned('6.1');
    expectOk(f.k.mmap(f.p, { size: 0x1000n, prot: PROT_READ, kind: 'anon' }));
    const gm = mem(f, 0x2000n); // right below the read-only page
    // the 3rd page is read-only: pin_user_pages(FOLL_WRITE) pins 2 of 3 pages
    const r = iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x3000n, uaddr: gm, perm: RW });
    expectErrno(r, 'EFAULT', 'ENOMEM');
  });

  // The oracle (scripts/oracle-fuzz.mjs seeds 11, 13, 15 on Debian 6.1.192): an UPDATE from the last
  // page of a process's first mmap runs into what lies above it, [vvar] in a real process, which
  // pin_user_pages refuses; vioctl keeps an unpinnable guard page there.
  test('vhost_vdpa_pa_map @ 6.1: an UPDATE past the end of the first mmap is EFAULT with inner ENOMEM', () => {
    const f = owned('6.1');
    const gm = mem(f, 0x100000n);
    const r = iotlb(f, { type: UPDATE, iova: 0x100000n, size: 0x2000n, uaddr: gm + 0xff000n, perm: RW });
    expectErrno(r, 'EFAULT', 'ENOMEM');
    expectOk(iotlb(f, { type: UPDATE, iova: 0x100000n, size: 0x1000n, uaddr: gm + 0xff000n, perm: RW }), 72);
  });

  test('vhost_vdpa_va_map @ 6.12: the same UPDATE maps its first page and skips the guard (72)', () => {
    const f = owned('6.12');
    const gm = mem(f, 0x100000n);
    expectOk(iotlb(f, { type: UPDATE, iova: 0x100000n, size: 0x2000n, uaddr: gm + 0xff000n, perm: RW }), 72);
  });

  test('vhost_vdpa_pa_map @ 6.1: more than RLIMIT_MEMLOCK pinned is EFAULT with inner ENOMEM; 4 MiB fits', () => {
    const f = owned('6.1');
    const big = mem(f, 0x1000000n);
    expectErrno(
      iotlb(f, { type: UPDATE, iova: 0x10000000n, size: 0x1000000n, uaddr: big, perm: RW }),
      'EFAULT',
      'ENOMEM',
    );
    expectOk(iotlb(f, { type: UPDATE, iova: 0x10000000n, size: 0x400000n, uaddr: big, perm: RW }));
    expect(rows(f, 'vhost')).toHaveLength(1);
  });

  test('vhost_vdpa_pa_map @ 6.1: an unaligned iova maps whole pages from the page-aligned iova', () => {
    const f = owned('6.1');
    const gm = mem(f, 0x10000n);
    expectOk(iotlb(f, { type: UPDATE, iova: 0x153001n, size: 0x1000n, uaddr: gm, perm: RW }));
    expect(rows(f, 'vhost')).toMatchObject([{ iova: 0x153000n, size: 0x2000n }]);
  });

  test('vhost_vdpa_unmap @ 6.1: a sub-range INVALIDATE drops the whole entry; unpinned pages are released', () => {
    const f = owned('6.1');
    const gm = mem(f, 0x4000n);
    expectOk(iotlb(f, { type: UPDATE, iova: 0x200000n, size: 0x4000n, uaddr: gm, perm: RW }));
    expect(f.p.mm.findVma(gm)!.obj.pinned).toBe(4);
    expectOk(iotlb(f, { type: INVALIDATE, iova: 0x201000n, size: 0x1000n }));
    expect(rows(f, 'vhost')).toHaveLength(0);
    expect(f.p.mm.findVma(gm)!.obj.pinned).toBe(0);
    expectOk(iotlb(f, { type: INVALIDATE, iova: 0x900000n, size: 0x1000n }));
  });

  test('vhost_vdpa_process_iotlb_msg @ 6.1: an unknown type (REMAP without the patch) is EFAULT with inner EINVAL', () => {
    const f = owned('6.1');
    expectErrno(iotlb(f, { type: REMAP, iova: 0x1000n, size: 0x1000n }), 'EFAULT', 'EINVAL');
    expectErrno(iotlb(f, { type: 1, iova: 0x1000n, size: 0x1000n }), 'EFAULT', 'EINVAL');
  });
});

describe('batches and address spaces @ 6.1', () => {
  test('vhost_vdpa_map @ 6.1: inside a batch the device table is pushed only at BATCH_END', () => {
    const f = owned('6.1');
    const gm = mem(f, 0x10000n);
    expectOk(iotlb(f, { type: BATCH_BEGIN }));
    expectOk(iotlb(f, { type: UPDATE, iova: 0x100000n, size: 0x1000n, uaddr: gm, perm: RW }));
    expect(rows(f, 'device')).toHaveLength(0);
    expectOk(iotlb(f, { type: BATCH_END }));
    expect(rows(f, 'device')).toHaveLength(1);
  });

  test('vhost_vdpa_process_iotlb_msg @ 6.1: INVALIDATE of a never-used ASID is EFAULT (no iotlb)', () => {
    const f = owned('6.1');
    expectOk(bf(f, 0x1en));
    expectErrno(iotlb(f, { type: INVALIDATE, asid: 1, iova: 0n, size: 0x1000n }), 'EFAULT', 'EINVAL');
    expectErrno(
      iotlb(f, { type: UPDATE, asid: 2, iova: 0n, size: 0x1000n, uaddr: mem(f, 0x1000n), perm: RW }),
      'EFAULT',
    );
  });

  test('vhost_vdpa_process_iotlb_msg @ 6.1: a message for another ASID inside a batch is EFAULT', () => {
    const f = owned('6.1');
    expectOk(bf(f, 0x1en));
    expectOk(iotlb(f, { type: BATCH_BEGIN, asid: 0 }));
    expectErrno(iotlb(f, { type: BATCH_END, asid: 1 }), 'EFAULT', 'EINVAL');
    expectErrno(iotlb(f, { type: BATCH_BEGIN, asid: 3 }), 'EFAULT', 'EINVAL');
    expectOk(iotlb(f, { type: BATCH_END, asid: 0 }));
  });

  test('vhost_chr_write_iter @ 6.1: without IOTLB_ASID acked the v2 asid lands in AS 0', () => {
    const f = owned('6.1');
    const gm = mem(f, 0x1000n);
    expectOk(iotlb(f, { type: UPDATE, asid: 1, iova: 0x1000n, size: 0x1000n, uaddr: gm, perm: RW }));
    expect(rows(f, 'vhost')).toHaveLength(1);
    expect(rows(f, 'vhost', 1)).toHaveLength(0);
    expect(ASID).toBe(8n);
  });

  test('vhost_vdpa_set_status @ 6.1: a reset keeps the vhost-side IOTLB (re-UPDATE is EEXIST), the device forgets', () => {
    const f = owned('6.1');
    const gm = mem(f, 0x1000n);
    expectOk(iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr: gm, perm: RW }));
    expectOk(status(f, 0));
    expect(rows(f, 'device')).toHaveLength(0);
    expectErrno(
      iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr: gm, perm: RW }),
      'EFAULT',
      'EEXIST',
    );
  });
});

describe('VA mode and persistence @ 6.12', () => {
  test('vhost_vdpa_va_map @ 6.12: private anonymous memory maps nothing and succeeds; memfd is mapped', () => {
    const f = owned('6.12');
    expectOk(iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr: mem(f, 0x1000n), perm: RW }));
    expect(rows(f, 'vhost')).toHaveLength(0);
    expectOk(
      iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x2000n, uaddr: mem(f, 0x2000n, 'memfd'), perm: RW }),
    );
    expect(rows(f, 'vhost')).toHaveLength(1);
  });

  test('vhost_vdpa_va_map @ 6.12: an address above every VMA is EFAULT with inner EINVAL (find_vma)', () => {
    const f = owned('6.12');
    const r = iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr: 0x7fff00000000n, perm: RW });
    expectErrno(r, 'EFAULT', 'vhost_vdpa_va_map');
  });

  test('_compat_vdpa_reset @ 6.12: without IOTLB_PERSIST the device table returns to passthrough; with it, kept', () => {
    const f = owned('6.12');
    const m = mem(f, 0x1000n, 'memfd');
    expectOk(iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr: m, perm: RW }));
    expect(rows(f, 'device')).toMatchObject([{ iova: 0x1000n, passthrough: false }]);
    expectOk(status(f, 0));
    expect(rows(f, 'device').every((r) => r.passthrough)).toBe(true);
    const g = owned('6.12');
    expectOk(bf(g, 1n << 8n));
    expectOk(
      iotlb(g, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr: mem(g, 0x1000n, 'memfd'), perm: RW }),
    );
    expectOk(status(g, 0));
    expect(rows(g, 'device')).toMatchObject([{ iova: 0x1000n, passthrough: false }]);
  });
});

describe('VHOST_IOTLB_REMAP and VHOST_NEW_OWNER (Sistare V2, patches) @ 6.12', () => {
  const P = ['vhost-iotlb-remap', 'vhost-new-owner'];

  test('VHOST_GET_BACKEND_FEATURES @ 6.12 + patches: NEW_OWNER and IOTLB_REMAP bits (0x77e)', () => {
    expect(ioctlU64(vdpa('6.12', 0, P), 3, 'VHOST_GET_BACKEND_FEATURES').out).toBe(0x77en);
    expect(ioctlU64(vdpa('6.12', 0, ['vhost-new-owner']), 3, 'VHOST_GET_BACKEND_FEATURES').out).toBe(0x77en);
  });

  test('VHOST_SET_BACKEND_FEATURES @ 6.12 + vhost-iotlb-remap alone: NEW_OWNER (0x200) is EOPNOTSUPP', () => {
    const f = vdpa('6.12', 0, ['vhost-iotlb-remap']);
    expectErrno(bf(f, 0x200n), 'EOPNOTSUPP');
    expectOk(bf(f, 0x400n));
  });

  test('vhost_vdpa_process_iotlb_remap @ 6.12: perm, ENOENT and a partial range are refused', () => {
    const f = owned('6.12', 0, P);
    const m = mem(f, 0x2000n, 'memfd');
    expectOk(iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x2000n, uaddr: m, perm: RW }));
    expectErrno(
      iotlb(f, { type: REMAP, iova: 0x1000n, size: 0x2000n, uaddr: m, perm: RW }),
      'EFAULT',
      'EINVAL',
    );
    expectErrno(iotlb(f, { type: REMAP, iova: 0x9000n, size: 0x1000n, uaddr: m }), 'EFAULT', 'ENOENT');
    expectErrno(iotlb(f, { type: REMAP, iova: 0x1000n, size: 0x1000n, uaddr: m }), 'EFAULT', 'EINVAL');
    expectOk(iotlb(f, { type: REMAP, iova: 0x1000n, size: 0x2000n, uaddr: m }));
  });

  test('vhost_vdpa_process_iotlb_remap @ 6.12: a PA (use_va off) device lacks the capability: EOPNOTSUPP', () => {
    const f = owned('6.12', 0, P, { vdpa: [{ name: 'v', type: 'net', use_va: false }] });
    const m = mem(f, 0x1000n);
    expectOk(iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr: m, perm: RW }));
    expectErrno(iotlb(f, { type: REMAP, iova: 0x1000n, size: 0x1000n, uaddr: m }), 'EFAULT', 'EOPNOTSUPP');
  });

  test('vhost_vdpa_new_owner @ 6.12: no owner EINVAL, the owner itself EBUSY, unpatched the unknown path', () => {
    const f = vdpa('6.12', 0, P);
    expectErrno(io(f, 'VHOST_NEW_OWNER'), 'EINVAL', 'vhost_vdpa_new_owner');
    expectOk(io(f, 'VHOST_SET_OWNER'));
    expectErrno(io(f, 'VHOST_NEW_OWNER'), 'EBUSY');
    const g = owned('6.12');
    expectErrno(io(g, 'VHOST_NEW_OWNER', 0n), 'EFAULT');
  });

  test('live update @ 6.12 + patches: the flow done right is silent, a wrong object and a running device are said', () => {
    const f = owned('6.12', 0, P);
    const m = mem(f, 0x2000n, 'memfd');
    expectOk(iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x2000n, uaddr: m, perm: RW }));
    expectOk(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 0x308830028n).r);
    expectOk(status(f, 0xf));
    expectOk(io(f, 'VHOST_VDPA_SUSPEND'));
    const child = f.k.fork(f.p, 'new');
    const obj = f.p.mm.findVma(m)!.obj;
    const r = f.k.mmap(child, { size: 0x2000n, prot: 3, kind: 'memfd', object: obj });
    const nm = BigInt((r as { ret: number }).ret);
    f.k.diagnostics = [];
    expectOk(io(f, 'VHOST_NEW_OWNER', 0n, child));
    expectOk(iotlb(f, { type: REMAP, iova: 0x1000n, size: 0x2000n, uaddr: nm }, child));
    expectOk(io(f, 'VHOST_VDPA_RESUME', 0n, child));
    expect(f.k.diagnostics).toEqual([]);
    // a different object, while running
    const other = BigInt((f.k.mmap(child, { size: 0x2000n, prot: 3, kind: 'memfd' }) as { ret: number }).ret);
    expectOk(iotlb(f, { type: REMAP, iova: 0x1000n, size: 0x2000n, uaddr: other }, child));
    expect(f.k.diagnostics.map((d) => d.code)).toEqual(['vdpa-remap-different-memory', 'vdpa-remap-running']);
  });

  test('live update @ 6.12 + patches: resuming with a mapping not remapped is said (vdpa-stale-owner-mapping)', () => {
    const f = owned('6.12', 0, P);
    const m = mem(f, 0x1000n, 'memfd');
    expectOk(iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr: m, perm: RW }));
    expectOk(ioctlU64(f, f.fd, 'VHOST_SET_FEATURES', 0x308830028n).r);
    expectOk(status(f, 0xf));
    expectOk(io(f, 'VHOST_VDPA_SUSPEND'));
    const child = f.k.fork(f.p, 'new');
    expectOk(io(f, 'VHOST_NEW_OWNER', 0n, child));
    f.k.diagnostics = [];
    expectOk(io(f, 'VHOST_VDPA_RESUME', 0n, child));
    expect(f.k.diagnostics.map((d) => d.code)).toEqual(['vdpa-stale-owner-mapping']);
    // the old owner lost the owner-checked paths
    expectErrno(iotlb(f, { type: INVALIDATE, iova: 0x1000n, size: 0x1000n }), 'EFAULT', 'EPERM');
  });

  test("end of run @ 6.12 + patches: entries naming an exited owner's addresses are said (vdpa-mapping-exited-owner)", () => {
    const endDiagnostics = (f: ReturnType<typeof vdpa>) =>
      (vhostVdpaDriver.stateDiagnostics?.(f.k) ?? []).map((d) => d.code);
    const f = owned('6.12', 0, P);
    const m = mem(f, 0x2000n, 'memfd');
    expectOk(iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr: m, perm: RW }));
    expectOk(iotlb(f, { type: UPDATE, iova: 0x2000n, size: 0x1000n, uaddr: m + 0x1000n, perm: RW }));
    const child = f.k.fork(f.p, 'new');
    expect(endDiagnostics(f)).toEqual([]);
    // the old owner exits with the file still open in the child: the kernel keeps both entries
    f.k.exit(f.p);
    expect(rows(f, 'vhost')).toHaveLength(2);
    expect(endDiagnostics(f)).toEqual(['vdpa-mapping-exited-owner']);
    const msg = vhostVdpaDriver.stateDiagnostics?.(f.k)[0]?.message ?? '';
    expect(msg).toContain('2 entries of address space 0 (first: iova 0x1000');
    // the child takes over and REMAPs one entry to its own (forked) mapping: one stays stale
    expectOk(io(f, 'VHOST_NEW_OWNER', 0n, child));
    expectOk(iotlb(f, { type: REMAP, iova: 0x1000n, size: 0x1000n, uaddr: m }, child));
    expect(vhostVdpaDriver.stateDiagnostics?.(f.k)[0]?.message).toContain('1 entry of address space 0');
    expectOk(iotlb(f, { type: REMAP, iova: 0x2000n, size: 0x1000n, uaddr: m + 0x1000n }, child));
    expect(endDiagnostics(f)).toEqual([]);
  });

  test('end of run @ 6.12: a PA (use_va off) device pinned its pages, so an exited owner leaves nothing to say', () => {
    const f = owned('6.12', 0, P, { vdpa: [{ name: 'v', type: 'net', use_va: false }] });
    const m = mem(f, 0x1000n);
    expectOk(iotlb(f, { type: UPDATE, iova: 0x1000n, size: 0x1000n, uaddr: m, perm: RW }));
    f.k.fork(f.p, 'new');
    f.k.exit(f.p);
    expect(rows(f, 'vhost')).toHaveLength(1);
    expect(vhostVdpaDriver.stateDiagnostics?.(f.k)).toEqual([]);
  });
});

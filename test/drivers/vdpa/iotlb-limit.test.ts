// drivers/vhost/iotlb.c vhost_iotlb_add_range_ctx as Debian's 6.1.192 and 6.12.117 have it (profile feature
// 'iotlb-limit-enospc'): the limit of an IOTLB made without VHOST_IOTLB_FLAG_RETIRE (a vhost-vdpa address
// space: vhost_iotlb_init(&as->iotlb, max_iotlb_entries, 0); vdpa_sim's iommu[]) holds, so a full table
// refuses the map with ENOSPC, which write() reports as EFAULT. Mainline 6.6 still treats that limit as
// advisory.
import { describe, expect, test } from 'vitest';
import { VhostIotlb } from '../../../src/drivers/vhost/iotlb.js';
import { buildMachine, DEFAULT_MACHINE, isMachineError } from '../../../src/kernel/machine.js';
import { expectErrno, expectOk } from '../../helpers/kernel.js';
import { iotlb, mem, owned, RW, UPDATE } from './fixture.js';

const U64_MAX = (1n << 64n) - 1n;
const PAGE = 0x1000n;

/** the default machine's vdpa devices, with the module parameter set as `modprobe ... max_iotlb_entries=N` */
const machine = (n: number, mapping?: 'dma_map') => ({
  ...(mapping ? { vdpa: [{ name: 'vdpa0', type: 'net', mapping }] } : {}),
  limits: { max_iotlb_entries: BigInt(n) }, // as the YAML loader gives integers
});

function fill(f: ReturnType<typeof owned>, n: number, base: bigint): void {
  for (let i = 0; i < n; i++) {
    const at = BigInt(i) * PAGE;
    expectOk(iotlb(f, { type: UPDATE, iova: at, size: PAGE, uaddr: base + at, perm: RW }), 72);
  }
}

describe('vhost_iotlb_add_range_ctx: the entry limit (iotlb-limit-enospc)', () => {
  test('vhost_vdpa_map @ 6.12: the default 2048 maps fit, the 2049th is EFAULT with inner ENOSPC', () => {
    const f = owned('6.12');
    const m = mem(f, 2049n * PAGE, 'memfd');
    fill(f, 2048, m);
    const r = iotlb(f, { type: UPDATE, iova: 2048n * PAGE, size: PAGE, uaddr: m, perm: RW });
    expectErrno(r, 'EFAULT', 'ENOSPC');
    expect(r.ok === false && r.site?.function).toBe('vhost_vdpa_map');
  });

  test('vhost_vdpa_map @ 6.1 (Debian 6.1.192 has the change too): max_iotlb_entries=4, the 5th map ENOSPC', () => {
    const f = owned('6.1', 0, [], machine(4));
    const m = mem(f, 8n * PAGE);
    fill(f, 4, m);
    expectErrno(
      iotlb(f, { type: UPDATE, iova: 4n * PAGE, size: PAGE, uaddr: m, perm: RW }),
      'EFAULT',
      'ENOSPC',
    );
  });

  test('vhost_iotlb_add_range_ctx @ 6.6 (mainline): no RETIRE, no limit: the 5th map of 4 is stored', () => {
    const f = owned('6.6', 0, [], machine(4));
    const m = mem(f, 8n * PAGE, 'memfd');
    fill(f, 5, m);
  });

  test('vdpasim_dma_map @ 6.12: a dma_map parent refuses at the same count (vhost-vdpa checks first)', () => {
    const f = owned('6.12', 0, [], machine(3, 'dma_map'));
    const m = mem(f, 8n * PAGE, 'memfd');
    fill(f, 3, m);
    const r = iotlb(f, { type: UPDATE, iova: 3n * PAGE, size: PAGE, uaddr: m, perm: RW });
    expectErrno(r, 'EFAULT', 'ENOSPC');
    expect(r.ok === false && r.site?.function).toBe('vhost_vdpa_map');
  });

  test('vhost_iotlb_add_range_ctx: limit 0 EINVAL; [0, U64_MAX] needs two free entries (ENOSPC)', () => {
    const opts = { retire: false, splitFullRange: true, enforceLimit: true };
    expect(new VhostIotlb({ ...opts, limit: 0 }).addRange(0n, 0xfffn, 0n, RW)).toBe('EINVAL');
    expect(new VhostIotlb({ ...opts, limit: 1 }).addRange(0n, U64_MAX, 0n, RW)).toBe('ENOSPC');
    const t = new VhostIotlb({ ...opts, limit: 4 });
    for (let i = 0n; i < 3n; i++) expect(t.addRange(i * PAGE, i * PAGE + 0xfffn, 0n, RW)).toBe('ok');
    expect(t.addRange(0n, U64_MAX, 0n, RW)).toBe('ENOSPC'); // nmaps 3 > limit - 2
    expect(t.nmaps).toBe(3); // nothing half-added
    const u = new VhostIotlb({ ...opts, limit: 4 });
    expect(u.addRange(0n, U64_MAX, 0n, RW)).toBe('ok');
    expect(u.nmaps).toBe(2);
  });

  test('vhost_iotlb_add_range_ctx: with RETIRE a full table reuses its oldest map, without allocating', () => {
    const t = new VhostIotlb({ limit: 2, retire: true, splitFullRange: true, enforceLimit: true });
    let allocs = 0;
    const alloc = () => {
      allocs++;
      return false;
    };
    for (let i = 0n; i < 3n; i++)
      expect(t.addRange(i * PAGE, i * PAGE + 0xfffn, 0n, RW, undefined, alloc)).toBe('ok');
    expect(allocs).toBe(2);
    expect(t.maps().map((m) => m.start)).toEqual([PAGE, 2n * PAGE]);
  });

  test('machine limits.max_iotlb_entries: the default is 2048, and below 2 is refused as the modules do', () => {
    expect(DEFAULT_MACHINE.limits.max_iotlb_entries).toBe(2048);
    const bad = buildMachine({ limits: { max_iotlb_entries: 1n } });
    expect(isMachineError(bad) && bad.message).toBe('max_iotlb_entries: expected at least 2');
  });
});

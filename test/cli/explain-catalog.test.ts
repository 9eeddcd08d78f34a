// The check catalog against the model: every probe must make its call fail somewhere, consecutive
// probes of a target must stop at different checks, and the kernel function a probe claims must be
// where the model's call failed, so a driver change that reorders or moves a check breaks here.
import { describe, expect, test } from 'vitest';
import { CATALOG, catalogTargets, probesOf } from '../../src/cli/explain/catalog.js';
import { probeFunctions } from '../../src/cli/explain/probe.js';
import { type Answer, type ProfileAnswer, runProbe } from '../../src/cli/explain/run-probe.js';
import { profileVersions } from '../../src/kernel/profile.js';

const answers = new Map(CATALOG.map((p) => [p, runProbe(p)]));

type Failed = Extract<Answer, { kind: 'call' }> & { errno: string };
/** profiles where the call failed at a check that exists there (not the unknown-request branch) */
function failures(a: readonly ProfileAnswer[]): Map<string, Failed> {
  const m = new Map<string, Failed>();
  for (const { kernel, answer } of a) {
    if (answer.kind === 'call' && answer.errno !== null && !answer.unknown) m.set(kernel, answer as Failed);
  }
  return m;
}

const label = (p: (typeof CATALOG)[number]) => `${p.target}: ${p.title}`;

describe('the check catalog', () => {
  test('covers every ioctl and IOTLB message the four core stories use', () => {
    const wanted = [
      'VHOST_SET_OWNER',
      'VHOST_GET_FEATURES',
      'VHOST_SET_FEATURES',
      'VHOST_SET_MEM_TABLE',
      'VHOST_SET_VRING_NUM',
      'VHOST_SET_VRING_ADDR',
      'VHOST_SET_VRING_BASE',
      'VHOST_SET_VRING_KICK',
      'VHOST_SET_VRING_CALL',
      'VHOST_VSOCK_SET_GUEST_CID',
      'VHOST_VSOCK_SET_RUNNING',
      'VHOST_NET_SET_BACKEND',
      'VHOST_SET_BACKEND_FEATURES',
      'VHOST_VDPA_SET_STATUS',
      'VHOST_VDPA_SET_GROUP_ASID',
      'VHOST_VDPA_SUSPEND',
      'VHOST_VDPA_RESUME',
      'VHOST_VDPA_GET_IOVA_RANGE',
      'VHOST_VDPA_SET_CONFIG',
      'VHOST_VDPA_GET_CONFIG',
      'VHOST_IOTLB_UPDATE',
      'VHOST_IOTLB_INVALIDATE',
      'VHOST_IOTLB_BATCH_BEGIN',
      'VHOST_IOTLB_BATCH_END',
      'VHOST_IOTLB_REMAP',
      'VFIO_GROUP_SET_CONTAINER',
      'VFIO_SET_IOMMU',
      'VFIO_IOMMU_MAP_DMA',
      'VFIO_IOMMU_UNMAP_DMA',
      'VFIO_GROUP_GET_DEVICE_FD',
      'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
      'VFIO_DEVICE_PCI_HOT_RESET',
      'IOMMU_IOAS_ALLOC',
      'IOMMU_IOAS_MAP',
      'VFIO_DEVICE_BIND_IOMMUFD',
      'KVM_SET_DEVICE_ATTR',
    ];
    expect(wanted.filter((t) => probesOf(t).length === 0)).toEqual([]);
  });

  test("every probe's call fails at a real check on at least one profile (one that never fails is broken)", () => {
    const broken = CATALOG.filter((p) => failures(answers.get(p)!).size === 0).map(label);
    expect(broken).toEqual([]);
  });

  test("where a probe's call fails, the model's site is in the kernel function the probe names", () => {
    const wrong: string[] = [];
    for (const p of CATALOG) {
      for (const [kernel, a] of failures(answers.get(p)!)) {
        if (!probeFunctions(p).includes(a.site!.function))
          wrong.push(`${label(p)} on ${kernel}: ${a.site!.function}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test('consecutive probes of one target stop at different checks', () => {
    const same: string[] = [];
    for (const t of catalogTargets()) {
      const ps = probesOf(t);
      for (let i = 1; i < ps.length; i++) {
        const a = failures(answers.get(ps[i - 1]!)!);
        const b = failures(answers.get(ps[i]!)!);
        const both = [...a.keys()].filter((k) => b.has(k));
        const site = (f: Failed) => `${f.site!.function}: ${f.site!.check}`;
        if (both.length && both.every((k) => site(a.get(k)!) === site(b.get(k)!))) {
          same.push(`${label(ps[i - 1]!)} / ${ps[i]!.title}`);
        }
      }
    }
    expect(same).toEqual([]);
  });

  test('every profile vioctl knows is probed (new profiles are picked up without a catalog change)', () => {
    const p = CATALOG[0]!;
    expect(answers.get(p)!.map((a) => a.kernel)).toEqual(profileVersions());
  });

  test('a profile that lacks the request shows the unknown branch, not a made-up answer', () => {
    const resume = probesOf('VHOST_VDPA_RESUME')[0]!;
    const on = new Map(answers.get(resume)!.map((a) => [a.kernel, a.answer]));
    expect(on.get('6.1')).toMatchObject({ kind: 'call', errno: 'ENOTTY', unknown: true });
    expect(on.get('6.12')).toMatchObject({ kind: 'call', errno: 'EOPNOTSUPP', unknown: false });
    expect(on.get('3.19')).toMatchObject({ kind: 'absent', family: true });
  });
});

// The fail_nth sweep (issue 7, item 2): a scenario runs once without faults, then with fail_nth =
// 1, 2, ... until a run reaches fewer than N fault points (no fault fires). Each faulted run must
// end without a thrown error, the faulted step must answer as the kernel does at that site
// (expectedAt below), a failed step must leave the state as it found it, and once every process
// has exited nothing may be left held (kernelLeaks).
import { loadScenarios } from '../../src/cli/commands/run.js';
import { registerDrivers } from '../../src/drivers/index.js';
import type { FaultRecord } from '../../src/kernel/fault.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { exitAll, kernelLeaks } from '../../src/kernel/leaks.js';
import { stateJson } from '../../src/report/json.js';
import type { Scenario } from '../../src/scenario/model.js';
import type { ScenarioResult, StepRecord } from '../../src/scenario/run-result.js';
import { runScenario } from '../../src/scenario/runner.js';

export interface FaultedRun {
  result: ScenarioResult;
  kernel: Kernel;
  /** fault points the run reached */
  points: number;
  /** what kernelLeaks found after every process exited */
  leaks: string[];
}

/** Runs `s` (its steps cut to the first `steps`, if given) with the run's fail_nth `n` (0: none). */
export function runFaulted(s: Scenario, n: number, steps?: number): FaultedRun {
  let kernel: Kernel | undefined;
  const sc: Scenario = {
    ...s,
    steps: steps === undefined ? s.steps : s.steps.slice(0, steps),
    ...(n > 0 ? { failNth: n } : { failNth: 0 }),
  };
  const result = runScenario(sc, {
    register: (k) => {
      registerDrivers(k);
      kernel = k;
    },
  });
  const k = kernel!;
  const points = k.fault.points;
  exitAll(k);
  return { result, kernel: k, points, leaks: kernelLeaks(k) };
}

export function loadAll(paths: string[]): Scenario[] {
  return loadScenarios(paths, {});
}

/**
 * What the faulted step must show, by site, from the kernel source. `errno`: the errno userspace
 * sees (the site's own ENOMEM or EFAULT unless a caller replaces it); `same`: the call answers as
 * it would without the fault (the failure is swallowed); `partial`: the kernel's unwind leaves
 * a visible change behind, so the state-unchanged check does not apply.
 */
export interface SiteExpectation {
  errno?: string;
  /** the step's record matches the fault-free run's */
  same?: boolean;
  /** the failed call may change state (why, from the kernel) */
  partial?: string;
  /** the call may return a value instead of failing */
  ret?: number;
  /** the kernel's own error path leaks: leak lines matching this are the kernel's, not the model's */
  kernelLeak?: { match: RegExp; why: string };
}

export function expectedAt(f: FaultRecord, rec: StepRecord): SiteExpectation {
  if (f.kind === 'alloc') {
    // an xarray store's GFP_NOWAIT xa_node: __xas_nomem retries with GFP_KERNEL, and the call goes on
    if (f.site.startsWith('xas_alloc: ') && f.site.endsWith(' xa_node (GFP_NOWAIT)')) return { same: true };
    switch (f.site) {
      // iotlb_access_ok and translate_desc ignore vhost_iotlb_miss's -ENOMEM: no MISS is queued
      case 'vhost_iotlb_miss: vhost_new_msg kmalloc':
        return { same: true };
      // vhost_set_memory's goto err is -EFAULT; vhost_chr_write_iter turns the handler's -ENOMEM
      // into -EFAULT. A split full range keeps its first half when the second kmalloc fails.
      case 'vhost_iotlb_add_range_ctx: kmalloc map':
        return {
          errno: 'EFAULT',
          partial: 'vhost_iotlb_add_range_ctx keeps the first half of a split [0, U64_MAX]',
        };
      // vhost_{net,vsock}_set_features: goto err / out_unlock, -EFAULT
      case 'vhost_init_device_iotlb: iotlb_alloc (vhost_iotlb_alloc kzalloc)':
        return { errno: 'EFAULT' };
      // vhost-vdpa's IOTLB handler: vhost_chr_write_iter turns every handler error into -EFAULT.
      // alloc_as's NULL is the handler's -EINVAL; the map paths unwind with vhost_vdpa_unmap.
      case 'vhost_vdpa_alloc_as: kmalloc as':
        return { errno: 'EFAULT' };
      case 'vhost_vdpa_va_map: kzalloc map_file':
      case 'vhost_vdpa_map: vhost_iotlb_add_range_ctx kmalloc map':
      case 'vdpasim_dma_map: vhost_iotlb_add_range_ctx kmalloc map':
        return {
          errno: 'EFAULT',
          partial:
            "vhost_vdpa_unmap's set_map / dma_unmap ends a 6.7+ parent's passthrough, even for 0 bytes",
        };
      // vdpasim_set_map from vhost_vdpa_map fails the UPDATE (its table reset, then set_map again
      // by the map's unwind, vhost_vdpa_unmap); from vhost_vdpa_unmap and BATCH_END its result is
      // ignored, and the device's table stays empty
      case 'vdpasim_set_map: vhost_iotlb_add_range kmalloc map':
        return rec.site?.function === 'vdpasim_set_map'
          ? { errno: 'EFAULT', partial: "vhost_vdpa_unmap's set_map ends a 6.7+ parent's passthrough" }
          : { same: true };
      // vfio_iommu_type1_attach_group before 6.11: ret = -EIO for iommu_domain_alloc's NULL
      case 'iommu_domain_alloc: intel alloc_domain kzalloc':
        return { errno: 'EIO' };
      // vhost_vdpa_open: vhost_vdpa_reset ran before the vqs kmalloc_array
      case 'vhost_vdpa_open: kmalloc_array vqs':
        return { errno: 'ENOMEM', partial: 'vhost_vdpa_reset ran before the allocation' };
      default:
        return { errno: 'ENOMEM' };
    }
  }
  // user copies: EFAULT, except where the caller says otherwise
  const fn = rec.site?.function;
  if (rec.call === 'KVM_CREATE_DEVICE' && f.site === 'copy_to_user') {
    // kvm_vm_ioctl: kvm_ioctl_create_device has made the device and installed its fd before the
    // copy of cd back; -EFAULT leaves both (userspace just never learns the fd's number)
    return { errno: 'EFAULT', partial: 'the device fd is installed before copy_to_user' };
  }
  if (rec.call === 'IOMMU_FAULT_QUEUE_ALLOC' && f.site === 'copy_to_user') {
    // iommufd_fault_alloc @ Debian 6.12: a failed iommufd_ucmd_respond goes to out_put_fdno, which
    // never fput()s the anon file it made, so its iommufd_ctx_get on /dev/iommu is never dropped
    return {
      errno: 'EFAULT',
      partial: 'the fault file, never installed, keeps its iommufd_ctx_get',
      kernelLeak: {
        match: /\(\/dev\/iommu\) still open/,
        why: 'iommufd_fault_alloc out_put_fdno leaks filep',
      },
    };
  }
  if (rec.call === 'VHOST_GET_VRING_BASE' && f.site === 'copy_to_user') {
    // vhost_vdpa_vring_ioctl syncs vq->last_avail_idx from ops->get_vq_state before
    // vhost_vring_ioctl copies the state out
    return { errno: 'EFAULT', partial: 'vhost-vdpa syncs last_avail_idx before the copy' };
  }
  if (rec.op === 'write' && fn === 'vhost_chr_write_iter' && rec.errno === 'EINVAL') {
    // copy_from_iter short: "ret != sizeof(type)" and the like are -EINVAL
    return { errno: 'EINVAL' };
  }
  if (rec.op === 'read' && rec.ret === 0) {
    // vhost_chr_read_iter: copy_to_iter copied nothing, the message is freed and read() returns 0
    return { ret: 0, partial: 'vhost_chr_read_iter frees the message it could not copy' };
  }
  return { errno: 'EFAULT' };
}

/** The state of a run as JSON text, for before/after comparison. */
export function stateText(r: ScenarioResult): string {
  return JSON.stringify(stateJson(r.state));
}

export interface SweepFinding {
  scenario: string;
  n: number;
  message: string;
}

export interface SweepStats {
  scenarios: number;
  runs: number;
  faults: number;
  /** the most fault points one fault-free run reached */
  maxPoints: number;
  ms: number;
  findings: SweepFinding[];
}

/** Sweeps one scenario, at most `cap` values of N (0: no cap); returns its findings. */
export function sweepScenario(s: Scenario, cap: number, stats: SweepStats): void {
  const started = Date.now();
  const base = runFaulted(s, 0);
  const note = (n: number, message: string) =>
    stats.findings.push({ scenario: `${s.file}: ${s.name}`, n, message });
  if (base.leaks.length > 0) note(0, `leaks without any fault: ${base.leaks.join('; ')}`);
  stats.scenarios++;
  stats.runs++;
  stats.maxPoints = Math.max(stats.maxPoints, base.points);
  const last = cap > 0 ? Math.min(cap, base.points) : base.points;
  for (let n = 1; n <= last + 1; n++) {
    let run: FaultedRun;
    try {
      run = runFaulted(s, n);
    } catch (e) {
      note(n, `threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      stats.runs++;
      continue;
    }
    stats.runs++;
    const injected = run.result.faults?.injected ?? [];
    if (n > base.points) {
      // the first N-1 points are the fault-free run's: past its count nothing may fire
      if (injected.length > 0) note(n, `a fault fired past the fault-free run's ${base.points} points`);
      break;
    }
    if (injected.length !== 1) {
      note(n, `expected one injected fault, got ${injected.length}`);
      continue;
    }
    stats.faults++;
    const leaks = run.leaks.filter((l) => !faultedExpectation(run)?.kernelLeak?.match.test(l));
    if (leaks.length > 0) note(n, `leaks: ${leaks.join('; ')}`);
    checkFaultedStep(s, n, run, base, note);
  }
  stats.ms += Date.now() - started;
}

/** What the faulted step's site leads to, where the fault hit a step. */
function faultedExpectation(run: FaultedRun): SiteExpectation | undefined {
  const f = run.result.faults?.injected[0];
  const rec = f?.step === null || f?.step === undefined ? undefined : run.result.steps[f.step];
  return f && rec ? expectedAt(f, rec) : undefined;
}

function checkFaultedStep(
  s: Scenario,
  n: number,
  run: FaultedRun,
  base: FaultedRun,
  note: (n: number, message: string) => void,
): void {
  const f = run.result.faults!.injected[0]!;
  const at = f.step;
  if (at === null) {
    note(n, `fault at ${f.site} outside any step`);
    return;
  }
  const rec = run.result.steps[at];
  const was = base.result.steps[at];
  if (!rec || !was) {
    note(n, `fault at ${f.site} in step ${at}, which has no record`);
    return;
  }
  const want = expectedAt(f, rec);
  const where = `step ${at} (${rec.call}), fault at ${f.site}`;
  if (want.same) {
    if (rec.errno !== was.errno || rec.ret !== was.ret)
      note(
        n,
        `${where}: expected the fault-free answer ${was.errno ?? was.ret}, got ${rec.errno ?? rec.ret}`,
      );
    return;
  }
  // a call that was already waiting, or failing, before the fault: only the errno is checked
  if (rec.blocks || rec.paused !== undefined) return;
  if (want.ret !== undefined && rec.errno === null) {
    if (rec.ret !== want.ret) note(n, `${where}: expected ret ${want.ret}, got ${rec.ret}`);
  } else if (rec.errno !== want.errno) {
    note(n, `${where}: expected ${want.errno}, got ${rec.errno ?? `ret ${rec.ret}`}`);
    return;
  }
  if (want.partial || rec.errno === null) return;
  // A failed call unwinds: the state after the faulted step is the state before it. Steps that
  // complete other processes' waiting calls are left out (those calls change state on their own).
  if (run.result.steps.some((x, i) => i < at && (x.blocks || x.paused !== undefined))) return;
  const before = stateText(runFaulted(s, 0, at).result);
  const after = stateText(runFaulted(s, n, at + 1).result);
  if (before !== after) note(n, `${where}: the failed call changed the state`);
}

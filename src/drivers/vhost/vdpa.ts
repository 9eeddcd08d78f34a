// drivers/vhost/vdpa.c: /dev/vhost-vdpa-N on the simulated vDPA devices (vhost.md §12). The vhost layer is
// thin: status, features, config and vq state live in the parent (src/drivers/vdpa/sim.ts).
import { asEventFd, eventfdSignal } from '../../kernel/eventfd.js';
import type { CallCtx, FileMmap, FileOps, OpenFile } from '../../kernel/file.js';
import type { Kernel } from '../../kernel/kernel.js';
import { PAGE_SIZE, PROT_READ } from '../../kernel/memory.js';
import type { DriverModule, Opened, StateTables } from '../../kernel/registry.js';
import { type Fail, fail, ok, type SysOutcome, type SysResult } from '../../kernel/result.js';
import {
  copyScalarFromUser,
  copyScalarToUser,
  copyStructFromUser,
  copyStructToUser,
  getUser,
} from '../../kernel/uaccess.js';
import { vhost_vdpa_config, vhost_vdpa_iova_range, vhost_vring_state, vhostIoctl } from '../../uapi/vhost.js';
import {
  VDPA_RESET_F_CLEAN_MAP,
  VDPASIM_QUEUE_MAX,
  VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK,
  VHOST_BACKEND_F_IOTLB_REMAP,
  VHOST_BACKEND_F_NEW_OWNER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
} from '../vdpa/sim.js';
import {
  bit,
  VHOST_BACKEND_F_IOTLB_ASID,
  VHOST_BACKEND_F_IOTLB_BATCH,
  VHOST_BACKEND_F_IOTLB_MSG_V2,
} from './bits.js';
import { devCleanup, devIoctl, NR, vringIoctl } from './core.js';
import { hasBackendFeature, newVhostDev, type VhostDev } from './dev.js';
import { chrWrite, type MsgHandler } from './iotlb-msg.js';
import { vhostPollStop } from './ring.js';
import { mmPinned, newDomain, type VdpaMapCtx, type VhostVdpa, vdpaDevices } from './vdpa-dev.js';
import { findAllocAs, removeAs, vdpaProcessIotlbMsg } from './vdpa-iotlb.js';
import { vdpaDiagnostics, vdpaState } from './vdpa-state.js';

const io = (name: string): number => vhostIoctl(name).number;
const V = {
  GET_DEVICE_ID: io('VHOST_VDPA_GET_DEVICE_ID'),
  GET_STATUS: io('VHOST_VDPA_GET_STATUS'),
  SET_STATUS: io('VHOST_VDPA_SET_STATUS'),
  GET_CONFIG: io('VHOST_VDPA_GET_CONFIG'),
  SET_CONFIG: io('VHOST_VDPA_SET_CONFIG'),
  SET_VRING_ENABLE: io('VHOST_VDPA_SET_VRING_ENABLE'),
  GET_VRING_NUM: io('VHOST_VDPA_GET_VRING_NUM'),
  SET_CONFIG_CALL: io('VHOST_VDPA_SET_CONFIG_CALL'),
  GET_IOVA_RANGE: io('VHOST_VDPA_GET_IOVA_RANGE'),
  GET_CONFIG_SIZE: io('VHOST_VDPA_GET_CONFIG_SIZE'),
  GET_AS_NUM: io('VHOST_VDPA_GET_AS_NUM'),
  GET_VRING_GROUP: io('VHOST_VDPA_GET_VRING_GROUP'),
  SET_GROUP_ASID: io('VHOST_VDPA_SET_GROUP_ASID'),
  SUSPEND: io('VHOST_VDPA_SUSPEND'),
  RESUME: io('VHOST_VDPA_RESUME'),
  GET_VRING_DESC_GROUP: io('VHOST_VDPA_GET_VRING_DESC_GROUP'),
  GET_VQS_COUNT: io('VHOST_VDPA_GET_VQS_COUNT'),
  GET_GROUP_NUM: io('VHOST_VDPA_GET_GROUP_NUM'),
  GET_VRING_SIZE: io('VHOST_VDPA_GET_VRING_SIZE'),
  NEW_OWNER: io('VHOST_NEW_OWNER'),
} as const;

const VHOST_BACKEND_F_SUSPEND = 4;
const VHOST_BACKEND_F_RESUME = 5;
const VHOST_BACKEND_F_DESC_ASID = 7;
const VHOST_BACKEND_F_IOTLB_PERSIST = 8;
const UIOCTL = 'vhost_vdpa_unlocked_ioctl';

const vdpaOf = (f: OpenFile<VhostVdpa>): VhostVdpa => f.priv;
const devOf = (v: VhostVdpa): VhostDev => v.dev!;
const has = (k: Kernel, f: Parameters<Kernel['profile']['has']>[0]): boolean => k.profile.has(f);

// ---- backend features (§8.5)

/** VHOST_VDPA_BACKEND_FEATURES of the release: MSG_V2 | BATCH (+ ASID 5.19) */
function baseBackend(k: Kernel): bigint {
  let f = bit(VHOST_BACKEND_F_IOTLB_MSG_V2) | bit(VHOST_BACKEND_F_IOTLB_BATCH);
  if (has(k, 'vdpa-asid')) f |= bit(VHOST_BACKEND_F_IOTLB_ASID);
  return f;
}

/** vhost_vdpa_has_persistent_map */
function persistentMap(v: VhostVdpa): boolean {
  const o = v.sim.ops;
  return (
    (!o.setMap && !o.dmaMap) ||
    o.resetMap ||
    (v.sim.parentBackendFeatures & bit(VHOST_BACKEND_F_IOTLB_PERSIST)) !== 0n
  );
}

/** VHOST_GET_BACKEND_FEATURES */
function getBackendFeatures(k: Kernel, v: VhostVdpa): bigint {
  let f = baseBackend(k);
  if (has(k, 'vdpa-suspend') && v.sim.ops.suspend) f |= bit(VHOST_BACKEND_F_SUSPEND);
  if (has(k, 'vdpa-resume') && v.sim.ops.resume) f |= bit(VHOST_BACKEND_F_RESUME);
  if (has(k, 'vdpa-desc-asid-persist')) {
    if (v.sim.ops.getVqDescGroup) f |= bit(VHOST_BACKEND_F_DESC_ASID);
    if (persistentMap(v)) f |= bit(VHOST_BACKEND_F_IOTLB_PERSIST);
  }
  // vhost_vdpa_get_backend_features (6.6+): whatever the parent adds
  if (has(k, 'vdpa-enable-after-driver-ok')) f |= v.sim.parentBackendFeatures;
  else f |= v.sim.parentBackendFeatures & (bit(VHOST_BACKEND_F_NEW_OWNER) | bit(VHOST_BACKEND_F_IOTLB_REMAP));
  return f;
}

/** VHOST_SET_BACKEND_FEATURES, handled before the device mutex and without an owner check */
function setBackendFeatures(ctx: CallCtx, v: VhostVdpa, argp: bigint): SysResult {
  const k = ctx.k;
  const feat = copyScalarFromUser(ctx.proc.mm, argp, 'u64');
  if (feat === undefined)
    return fail('EFAULT', UIOCTL, 'copy_from_user(&features, featurep, sizeof(features))');
  let mask = baseBackend(k);
  if (has(k, 'vdpa-suspend')) mask |= bit(VHOST_BACKEND_F_SUSPEND);
  if (has(k, 'vdpa-resume')) mask |= bit(VHOST_BACKEND_F_RESUME);
  if (has(k, 'vdpa-enable-after-driver-ok')) mask |= bit(VHOST_BACKEND_F_ENABLE_AFTER_DRIVER_OK);
  if (has(k, 'vdpa-desc-asid-persist'))
    mask |= bit(VHOST_BACKEND_F_DESC_ASID) | bit(VHOST_BACKEND_F_IOTLB_PERSIST);
  if (k.profile.hasPatch('vhost-new-owner')) mask |= bit(VHOST_BACKEND_F_NEW_OWNER);
  if (k.profile.hasPatch('vhost-iotlb-remap')) mask |= bit(VHOST_BACKEND_F_IOTLB_REMAP);
  const want = (b: number): boolean => (feat & bit(b)) !== 0n;
  if (feat & ~mask)
    return fail('EOPNOTSUPP', UIOCTL, 'features & ~VHOST_VDPA_BACKEND_FEATURES (and the known bits)');
  if (want(VHOST_BACKEND_F_SUSPEND) && !v.sim.ops.suspend) {
    return fail('EOPNOTSUPP', UIOCTL, 'SUSPEND && !vhost_vdpa_can_suspend(v)');
  }
  if (want(VHOST_BACKEND_F_RESUME) && !v.sim.ops.resume) {
    return fail('EOPNOTSUPP', UIOCTL, 'RESUME && !vhost_vdpa_can_resume(v)');
  }
  if (want(VHOST_BACKEND_F_DESC_ASID) && !want(VHOST_BACKEND_F_IOTLB_ASID)) {
    return fail('EINVAL', UIOCTL, 'DESC_ASID && !(features & BIT_ULL(VHOST_BACKEND_F_IOTLB_ASID))');
  }
  if (want(VHOST_BACKEND_F_DESC_ASID) && !v.sim.ops.getVqDescGroup) {
    return fail('EOPNOTSUPP', UIOCTL, 'DESC_ASID && !vhost_vdpa_has_desc_group(v)');
  }
  if (want(VHOST_BACKEND_F_IOTLB_PERSIST) && !persistentMap(v)) {
    return fail('EOPNOTSUPP', UIOCTL, 'IOTLB_PERSIST && !vhost_vdpa_has_persistent_map(v)');
  }
  for (const vq of devOf(v).vqs) vq.ackedBackendFeatures = feat;
  return ok(0);
}

// ---- reset, status, features, config

/** _compat_vdpa_reset (6.7+) / vdpa_reset: CLEAN_MAP unless IOTLB_PERSIST was acked on vq 0 */
function compatReset(k: Kernel, v: VhostVdpa, atOpen: boolean): void {
  v.suspended = false;
  let flags = 0;
  if (!atOpen && v.dev && !hasBackendFeature(v.dev.vqs[0]!, VHOST_BACKEND_F_IOTLB_PERSIST)) {
    flags = VDPA_RESET_F_CLEAN_MAP;
  }
  v.sim.featuresValid = false;
  v.sim.reset(has(k, 'vdpa-desc-asid-persist') ? flags : VDPA_RESET_F_CLEAN_MAP);
  v.vqNumMax = VDPASIM_QUEUE_MAX;
}

/** vhost_vdpa_reset (open and release): the batch is dropped too */
function vdpaReset(k: Kernel, v: VhostVdpa, atOpen: boolean): void {
  v.inBatch = false;
  compatReset(k, v, atOpen);
}

/** vhost_vdpa_set_status */
function setStatus(ctx: CallCtx, v: VhostVdpa, argp: bigint): SysResult {
  const fn = 'vhost_vdpa_set_status';
  const s = copyScalarFromUser(ctx.proc.mm, argp, 'u8');
  if (s === undefined) return fail('EFAULT', fn, 'copy_from_user(&status, statusp, sizeof(status))');
  const status = Number(s);
  const old = v.sim.status;
  if (status !== 0 && (old & ~status) !== 0)
    return fail('EINVAL', fn, 'status != 0 && (status_old & ~status) != 0');
  if (status === 0) compatReset(ctx.k, v, false);
  else v.sim.setStatus(status);
  if (status & VIRTIO_CONFIG_S_DRIVER_OK && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
    diagnoseStaleOwner(ctx.k, v, 'VHOST_VDPA_SET_STATUS with DRIVER_OK');
  }
  return ok(0);
}

/** A use_va device started while entries still name a previous owner's addresses (NEW_OWNER without REMAP). */
function diagnoseStaleOwner(k: Kernel, v: VhostVdpa, what: string): void {
  const owner = v.dev?.owner;
  if (!v.sim.useVa || !owner || !v.ownerChanged) return;
  for (const [asid, t] of v.as) {
    const stale = t.maps().filter((m) => {
      const c = m.opaque as VdpaMapCtx | undefined;
      return c && c.mm !== owner;
    });
    if (!stale.length) continue;
    const first = stale[0]!;
    k.diagnose(
      'vdpa-stale-owner-mapping',
      `${what}: ${stale.length} entr${stale.length === 1 ? 'y' : 'ies'} of address space ${asid} (first: iova ` +
        `0x${first.start.toString(16)}, uaddr 0x${first.addr.toString(16)}) still hold an address of the previous ` +
        "owner's memory: after VHOST_NEW_OWNER every mapping needs a VHOST_IOTLB_REMAP to the new process's address.",
    );
  }
}

/** vhost_vdpa_set_features */
function setFeatures(ctx: CallCtx, v: VhostVdpa, argp: bigint): SysResult {
  const fn = 'vhost_vdpa_set_features';
  if (v.sim.status & VIRTIO_CONFIG_S_FEATURES_OK)
    return fail('EBUSY', fn, 'status & VIRTIO_CONFIG_S_FEATURES_OK');
  const f = copyScalarFromUser(ctx.proc.mm, argp, 'u64');
  if (f === undefined) return fail('EFAULT', fn, 'copy_from_user(&features, featurep, sizeof(features))');
  v.sim.featuresValid = true;
  const e = v.sim.setDriverFeatures(f);
  if (e) return fail('EINVAL', fn, `vdpa_set_features() (${e.site.function}: ${e.site.check})`);
  // the read-back of the negotiated features into the vqs (present in Debian 6.1, absent @ v5.15.0)
  if (has(ctx.k, 'vdpa-asid')) for (const vq of devOf(v).vqs) vq.ackedFeatures = v.sim.features;
  return ok(0);
}

/** vhost_vdpa_config_validate: every failure is EINVAL to the caller */
function configHeader(
  ctx: CallCtx,
  v: VhostVdpa,
  argp: bigint,
  fn: string,
): { off: number; len: number } | Fail {
  const c = copyStructFromUser(ctx, argp, vhost_vdpa_config);
  if (!c) return fail('EFAULT', fn, 'copy_from_user(&config, c, size)');
  const size = BigInt(v.sim.config.length);
  const off = c.off!;
  const len = c.len!;
  if (len === 0n || off > size)
    return fail('EINVAL', fn, 'vhost_vdpa_config_validate: c->len == 0 || c->off > size');
  if (len > size - off)
    return fail('EINVAL', fn, 'vhost_vdpa_config_validate: c->len > size - c->off (E2BIG)');
  return { off: Number(off), len: Number(len) };
}

function getConfig(ctx: CallCtx, v: VhostVdpa, argp: bigint): SysResult {
  const fn = 'vhost_vdpa_get_config';
  const h = configHeader(ctx, v, argp, fn);
  if ('ok' in h) return h;
  // kvzalloc(config.len): at most the config size, so a kmalloc that has no vmalloc fallback
  if (ctx.k.allocFails(ctx.proc, 'vhost_vdpa_get_config: kvzalloc buf'))
    return fail('ENOMEM', fn, '!buf (kvzalloc)');
  // vdpa_get_config_unlocked: config before features means a legacy guest: set_driver_features(0)
  if (!v.sim.featuresValid) {
    v.sim.featuresValid = true;
    v.sim.setDriverFeatures(0n);
  }
  const buf = v.sim.getConfig(h.off, h.len);
  if (!ctx.proc.mm.copyToUser(argp + 8n, buf))
    return fail('EFAULT', fn, 'copy_to_user(c->buf, buf, config.len)');
  return ok(0);
}

function setConfig(ctx: CallCtx, v: VhostVdpa, argp: bigint): SysResult {
  const fn = 'vhost_vdpa_set_config';
  const h = configHeader(ctx, v, argp, fn);
  if ('ok' in h) return h;
  // vmemdup_user: kvmalloc (a kmalloc at these sizes) then copy_from_user
  if (ctx.k.allocFails(ctx.proc, 'vmemdup_user: kvmalloc'))
    return fail('ENOMEM', fn, 'vmemdup_user(c->buf, config.len) (kvmalloc)');
  const buf = ctx.proc.mm.copyFromUser(argp + 8n, h.len);
  if (!buf) return fail('EFAULT', fn, 'vmemdup_user(c->buf, config.len)');
  v.sim.setConfig(h.off, buf);
  return ok(0);
}

/** vhost_vdpa_set_config_call: a failed lookup returns before the swap, so the old eventfd stays */
function setConfigCall(ctx: CallCtx, v: VhostVdpa, argp: bigint): SysResult {
  const fn = 'vhost_vdpa_set_config_call';
  const fd = copyScalarFromUser(ctx.proc.mm, argp, 's32');
  if (fd === undefined) return fail('EFAULT', fn, 'copy_from_user(&fd, argp, sizeof(fd))');
  let file: OpenFile | null = null;
  if (fd !== -1n) {
    const f = ctx.k.fget(ctx.proc, Number(fd));
    if (!f) return fail('EBADF', fn, 'eventfd_ctx_fdget: !fd_file(f)');
    if (!asEventFd(f)) return fail('EINVAL', fn, 'eventfd_ctx_fileget: file->f_op != &eventfd_fops');
    f.refs++;
    file = f;
  }
  if (v.configCtx) ctx.k.fput(v.configCtx);
  v.configCtx = file;
  v.configFd = file ? Number(fd) : -1;
  return ok(0);
}

/** vhost_vdpa_suspend / vhost_vdpa_resume (6.9+: no-ops without DRIVER_OK; 6.8+: the suspended flag) */
function suspendResume(ctx: CallCtx, v: VhostVdpa, resume: boolean): SysResult {
  const k = ctx.k;
  const fn = resume ? 'vhost_vdpa_resume' : 'vhost_vdpa_suspend';
  if (has(k, 'vdpa-vring-size') && !(v.sim.status & VIRTIO_CONFIG_S_DRIVER_OK)) return ok(0);
  if (resume ? !v.sim.ops.resume : !v.sim.ops.suspend) {
    return fail('EOPNOTSUPP', fn, resume ? '!ops->resume' : '!ops->suspend');
  }
  if (resume) {
    diagnoseStaleOwner(k, v, 'VHOST_VDPA_RESUME');
    v.sim.resume();
  } else v.sim.suspend();
  if (has(k, 'vdpa-suspended-state')) v.suspended = !resume;
  return ok(0);
}

/**
 * Sistare V2 3/7 + 4/7 VHOST_NEW_OWNER: any holder of the fd may take the owned device over. The pinned
 * pages move to the caller's mm (its RLIMIT_MEMLOCK is checked first), the mm is re-bound to the parent.
 */
function newOwner(ctx: CallCtx, v: VhostVdpa): SysResult {
  const fn = 'vhost_vdpa_new_owner';
  const dev = devOf(v);
  if (!((v.sim.parentBackendFeatures >> BigInt(VHOST_BACKEND_F_NEW_OWNER)) & 1n)) {
    return fail(
      'EOPNOTSUPP',
      fn,
      '!(vhost_vdpa_get_backend_features(v) & BIT_ULL(VHOST_BACKEND_F_NEW_OWNER))',
    );
  }
  if (!dev.owner) return fail('EINVAL', fn, '!vhost_dev_has_owner(dev)');
  const mm = ctx.proc.mm;
  if (!v.sim.useVa) {
    const limit = ctx.k.machine.limits.memlock >> 12n;
    if (BigInt(mmPinned(mm).pages + v.pinnedVm) > limit) {
      return fail('ENOMEM', fn, 'new mm pinned_vm + v->pinned_vm > rlimit(RLIMIT_MEMLOCK)');
    }
  }
  if (dev.owner === mm) return fail('EBUSY', 'vhost_dev_new_owner', 'dev->mm == current->mm');
  if (!v.sim.useVa) {
    mmPinned(dev.owner).pages -= v.pinnedVm;
    mmPinned(mm).pages += v.pinnedVm;
  }
  dev.owner = mm;
  dev.ownerProc = ctx.proc;
  if (v.sim.useVa && v.sim.ops.bindMm) v.sim.bindMm(mm);
  v.ownerChanged = true;
  return ok(0);
}

// ---- vring ioctls (§12.10)

const vstate = (ctx: CallCtx, argp: bigint): Record<string, bigint> | undefined =>
  copyStructFromUser(ctx, argp, vhost_vring_state);

/** vhost_vdpa_vring_ioctl: reached after vhost_dev_ioctl's owner check */
function vringIoctlVdpa(ctx: CallCtx, v: VhostVdpa, cmd: number, argp: bigint): SysResult {
  const fn = 'vhost_vdpa_vring_ioctl';
  const k = ctx.k;
  const sim = v.sim;
  const dev = devOf(v);
  let idx: bigint | undefined;
  let s: Record<string, bigint> | undefined;
  const numMax = has(k, 'vdpa-vring-num-max') && cmd === NR.SET_VRING_NUM;
  if (numMax) {
    s = vstate(ctx, argp);
    if (!s) return fail('EFAULT', fn, 'copy_from_user(&s, argp, sizeof(s))');
    idx = s.index!;
  } else {
    idx = getUser(ctx.proc.mm, argp, 'u32');
    if (idx === undefined) return fail('EFAULT', fn, 'get_user(idx, (u32 __user *)argp)');
  }
  if (idx >= BigInt(sim.nvqs)) return fail('ENOBUFS', fn, 'idx >= v->nvqs');
  const i = Number(idx);
  const vq = dev.vqs[i]!;
  const driverOkRunning = (): boolean =>
    has(k, 'vdpa-suspended-state') && (sim.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && !v.suspended;
  const putState = (num: number): SysResult =>
    copyStructToUser(ctx, argp, vhost_vring_state, { index: idx!, num: BigInt(num) })
      ? ok(0)
      : fail('EFAULT', fn, 'copy_to_user(argp, &s, sizeof(s))');
  if (numMax) {
    const num = s!.num!;
    if (!num || num > 0xffffn || num > BigInt(v.vqNumMax) || (num & (num - 1n)) !== 0n) {
      return fail('EINVAL', fn, '!s.num || s.num > 0xffff || s.num > v->vq_num_max || (s.num & (s.num - 1))');
    }
    vq.num = Number(num);
    sim.setVqNum(i, vq.num);
    return ok(0);
  }
  switch (cmd) {
    case V.SET_VRING_ENABLE: {
      const st = vstate(ctx, argp);
      if (!st) return fail('EFAULT', fn, 'copy_from_user(&s, argp, sizeof(s))');
      sim.setVqReady(i, st.num !== 0n);
      return ok(0);
    }
    case V.GET_VRING_GROUP:
      if (!has(k, 'vdpa-asid')) break;
      if (!sim.ops.getVqGroup) return fail('EOPNOTSUPP', fn, '!ops->get_vq_group');
      if (sim.getVqGroup(i) >= sim.ngroups) return fail('EIO', fn, 's.num >= vdpa->ngroups');
      return putState(sim.getVqGroup(i));
    case V.GET_VRING_DESC_GROUP:
      if (!has(k, 'vdpa-desc-asid-persist')) break;
      return fail('EOPNOTSUPP', fn, '!vhost_vdpa_has_desc_group(v)');
    case V.SET_GROUP_ASID: {
      if (!has(k, 'vdpa-asid')) break;
      const st = vstate(ctx, argp);
      if (!st) return fail('EFAULT', fn, 'copy_from_user(&s, argp, sizeof(s))');
      if (has(k, 'vdpa-group-bound-check') && idx >= BigInt(sim.ngroups)) {
        return fail('EINVAL', fn, 'idx >= vdpa->ngroups');
      }
      if (st.num! >= BigInt(sim.nas)) return fail('EINVAL', fn, 's.num >= vdpa->nas');
      if (!sim.ops.setGroupAsid) return fail('EOPNOTSUPP', fn, '!ops->set_group_asid');
      return sim.setGroupAsid(i, Number(st.num)) ?? ok(0);
    }
    case V.GET_VRING_SIZE:
      if (!has(k, 'vdpa-vring-size')) break;
      if (!sim.ops.getVqSize) return fail('EOPNOTSUPP', fn, '!ops->get_vq_size');
      return putState(sim.getVqSize(i));
    case NR.GET_VRING_BASE:
      // the device's index first (split; vdpa_sim has no packed state, the union aliases it)
      vq.lastAvailIdx = sim.getVqState(i);
      break;
  }
  const r = vringIoctl(ctx, dev, cmd, argp);
  if (!r.ok) return r;
  switch (cmd) {
    case NR.SET_VRING_ADDR:
      if (driverOkRunning()) return fail('EINVAL', fn, 'DRIVER_OK && !v->suspended (VHOST_SET_VRING_ADDR)');
      sim.setVqAddress(i, vq.desc, vq.avail, vq.used);
      break;
    case NR.SET_VRING_BASE:
      if (driverOkRunning()) return fail('EINVAL', fn, 'DRIVER_OK && !v->suspended (VHOST_SET_VRING_BASE)');
      sim.setVqState(i, vq.lastAvailIdx);
      break;
    case NR.SET_VRING_CALL: {
      const call = vq.call ? asEventFd(vq.call) : undefined;
      sim.vqs[i]!.cb = call ? () => eventfdSignal(ctx, call) : null;
      break;
    }
    case NR.SET_VRING_NUM:
      sim.setVqNum(i, vq.num);
      break;
  }
  return r;
}

// ---- the ioctl entry

const putU = (
  ctx: CallCtx,
  argp: bigint,
  type: 'u8' | 'u16' | 'u32' | 'u64',
  v: bigint | number,
  fn: string,
) =>
  copyScalarToUser(ctx.proc.mm, argp, type, BigInt(v))
    ? ok(0)
    : fail('EFAULT', fn, 'copy_to_user(argp, ...)');

function ioctl(ctx: CallCtx, f: OpenFile<VhostVdpa>, cmd: number, argp: bigint): SysOutcome {
  const v = vdpaOf(f);
  const k = ctx.k;
  const sim = v.sim;
  if (cmd === NR.SET_BACKEND_FEATURES) return setBackendFeatures(ctx, v, argp);
  const asid = has(k, 'vdpa-asid');
  const sizes = has(k, 'vdpa-config-size-ioctls');
  switch (cmd) {
    case V.GET_DEVICE_ID:
      return putU(ctx, argp, 'u32', sim.cls.id, 'vhost_vdpa_get_device_id');
    case V.GET_STATUS:
      return putU(ctx, argp, 'u8', sim.status, 'vhost_vdpa_get_status');
    case V.SET_STATUS:
      return setStatus(ctx, v, argp);
    case V.GET_CONFIG:
      return getConfig(ctx, v, argp);
    case V.SET_CONFIG:
      return setConfig(ctx, v, argp);
    case NR.GET_FEATURES:
      return putU(ctx, argp, 'u64', sim.supported, 'vhost_vdpa_get_features');
    case NR.SET_FEATURES:
      return setFeatures(ctx, v, argp);
    case V.GET_VRING_NUM:
      return putU(ctx, argp, 'u16', VDPASIM_QUEUE_MAX, 'vhost_vdpa_get_vring_num');
    case NR.SET_LOG_BASE:
    case NR.SET_LOG_FD:
      return fail('ENOTTY', UIOCTL, 'VHOST_SET_LOG_BASE/FD: r = -ENOIOCTLCMD');
    case V.SET_CONFIG_CALL:
      return setConfigCall(ctx, v, argp);
    case NR.GET_BACKEND_FEATURES:
      return putU(ctx, argp, 'u64', getBackendFeatures(k, v), UIOCTL);
    case V.GET_IOVA_RANGE: {
      const r = { first: v.range.first, last: v.range.last };
      return copyStructToUser(ctx, argp, vhost_vdpa_iova_range, r)
        ? ok(0)
        : fail('EFAULT', 'vhost_vdpa_get_iova_range', 'copy_to_user(argp, &range, sizeof(range))');
    }
  }
  if (asid && cmd === V.GET_GROUP_NUM) return putU(ctx, argp, 'u32', sim.ngroups, UIOCTL);
  if (asid && cmd === V.GET_AS_NUM) return putU(ctx, argp, 'u32', sim.nas, UIOCTL);
  if (sizes && cmd === V.GET_CONFIG_SIZE) {
    return putU(ctx, argp, 'u32', sim.config.length, 'vhost_vdpa_get_config_size');
  }
  if (sizes && cmd === V.GET_VQS_COUNT) return putU(ctx, argp, 'u32', sim.nvqs, 'vhost_vdpa_get_vqs_count');
  if (has(k, 'vdpa-suspend') && cmd === V.SUSPEND) return suspendResume(ctx, v, false);
  if (has(k, 'vdpa-resume') && cmd === V.RESUME) return suspendResume(ctx, v, true);
  if (k.profile.hasPatch('vhost-new-owner') && cmd === V.NEW_OWNER) return newOwner(ctx, v);
  const dev = devOf(v);
  let r = devIoctl(ctx, dev, cmd, argp);
  if (!r.ok && r.errno === 'ENOIOCTLCMD') r = vringIoctlVdpa(ctx, v, cmd, argp);
  if (!r.ok && r.errno === 'ENOIOCTLCMD') return fail('ENOTTY', r.site.function, r.site.check);
  // SET_OWNER: a use_va parent is bound to the owner's mm (vhost_vdpa_bind_mm, 6.4+)
  if (r.ok && cmd === NR.SET_OWNER && sim.useVa && sim.ops.bindMm) sim.bindMm(dev.owner);
  if (r.ok && cmd === NR.SET_OWNER && v.ownerChanged) v.ownerChanged = false;
  return r;
}

// ---- file operations

/** vhost_vdpa_mmap: the doorbell page of a vq; vdpa_sim has none, so a valid request leaks ENOTSUPP */
function mmap(_ctx: CallCtx, f: OpenFile<VhostVdpa>, vma: FileMmap): SysResult {
  const fn = 'vhost_vdpa_mmap';
  const v = vdpaOf(f);
  if (vma.size !== PAGE_SIZE) return fail('EINVAL', fn, 'vma->vm_end - vma->vm_start != PAGE_SIZE');
  if (!vma.shared) return fail('EINVAL', fn, '(vma->vm_flags & VM_SHARED) == 0');
  if (vma.prot & PROT_READ) return fail('EINVAL', fn, 'vma->vm_flags & VM_READ');
  if (!v.sim.ops.getVqNotification) return fail('ENOTSUPP', fn, '!ops->get_vq_notification');
  return fail('EINVAL', 'vhost_vdpa_get_vq_notification', 'index > 65535 || index >= v->nvqs');
}

/** vhost_vdpa_release */
function release(k: Kernel, f: OpenFile<VhostVdpa>): void {
  const v = vdpaOf(f);
  vdpaReset(k, v, false);
  const dev = devOf(v);
  for (const vq of dev.vqs) vhostPollStop(vq);
  if (v.sim.useVa && v.sim.ops.bindMm) v.sim.bindMm(null);
  if (v.configCtx) k.fput(v.configCtx);
  v.configCtx = null;
  v.configFd = -1;
  for (const asid of [...v.as.keys()].sort((a, b) => a - b)) removeAs(v, asid);
  v.domain = null;
  devCleanup(k, dev);
  v.dev = null;
  v.file = null;
  v.opened = false;
}

/** dev->msg_handler as vhost_dev_init sets it: vhost_vdpa_process_iotlb_msg, handed its vhost_vdpa */
const msgHandler: MsgHandler<VhostVdpa> = (c, dev, asid, msg, v) => vdpaProcessIotlbMsg(c, v, dev, asid, msg);

const OPS: FileOps<VhostVdpa> = {
  kind: 'vhost-vdpa',
  ioctl,
  write: (ctx, f, buf, len) => chrWrite(ctx, devOf(vdpaOf(f)), buf, len, msgHandler, vdpaOf(f)),
  mmap,
  release,
  defaultMsgVersion: (f) =>
    (f.priv.dev?.vqs[0]?.ackedBackendFeatures ?? 0n) & bit(VHOST_BACKEND_F_IOTLB_MSG_V2) ? 2 : 1,
};

const NODE = /^\/dev\/vhost-vdpa-(\d+)$/;
const deviceAt = (k: Kernel, path: string): VhostVdpa | undefined => {
  const m = NODE.exec(path);
  return m ? vdpaDevices(k)[Number(m[1])] : undefined;
};

/** vhost_vdpa_open */
function open(ctx: CallCtx, path: string, _flags: number, fileId: number): Opened | Fail {
  const k = ctx.k;
  const v = deviceAt(k, path);
  if (!v) return fail('ENOENT', 'do_sys_open', 'no such device node');
  if (v.opened) return fail('EBUSY', 'vhost_vdpa_open', 'atomic_cmpxchg(&v->opened, 0, 1)');
  v.opened = true;
  vdpaReset(k, v, true);
  // the vqs array: -ENOMEM, and err: drops opened again (the reset above stays done)
  if (k.allocFails(ctx.proc, 'vhost_vdpa_open: kmalloc_array vqs')) {
    v.opened = false;
    return fail('ENOMEM', 'vhost_vdpa_open', '!vqs (kmalloc_array)');
  }
  const dev = newVhostDev('vhost-vdpa', v.sim.nvqs, fileId);
  for (const vq of dev.vqs) vq.handleKick = (_c, q) => v.sim.kickVq(q.index);
  v.dev = dev;
  v.as.clear();
  v.batchAsid = 0;
  v.pinnedVm = 0;
  v.ownerChanged = false;
  v.suspended = false;
  // vhost_vdpa_alloc_domain: the platform IOMMU maps for parents with neither set_map nor dma_map
  v.domain = !v.sim.ops.setMap && !v.sim.ops.dmaMap ? newDomain(k) : null;
  // vhost_vdpa_set_iova_range: vdpa_sim has get_iova_range, [0, U64_MAX]
  v.range = { first: 0n, last: (1n << 64n) - 1n };
  // before the ASID series there is one IOTLB, v->iotlb, from open on
  if (!has(k, 'vdpa-asid')) findAllocAs(k, v, 0);
  return { ops: OPS, priv: v };
}

export const vhostVdpaDriver: DriverModule = {
  name: 'vhost-vdpa',
  family: 'vhost-vdpa',
  claims: (path) => NODE.test(path),
  exists: (k, path) => deviceAt(k, path) !== undefined,
  open,
  leaks: (k: Kernel): string[] =>
    vdpaDevices(k).flatMap((v, i) => [
      ...(v.opened ? [`vhost-vdpa-${i} still opened`] : []),
      ...(v.pinnedVm !== 0 ? [`vhost-vdpa-${i}: pinned_vm = ${v.pinnedVm} page(s)`] : []),
    ]),
  state(k: Kernel, tables: StateTables): void {
    for (const f of k.files.values()) {
      if (f.ops.kind === 'vhost-vdpa') vdpaState(k, tables, f as OpenFile<VhostVdpa>);
    }
  },
  stateDiagnostics: (k) =>
    [...k.files.values()]
      .filter((f) => f.ops.kind === 'vhost-vdpa')
      .flatMap((f) => vdpaDiagnostics(k, f as OpenFile<VhostVdpa>)),
};

// The IOAS commands of iommufd_ioctl_ops[] beyond ALLOC / MAP / UNMAP (drivers/iommu/iommufd/
// ioas.c, main.c's iommufd_option, vfio_compat.c's iommufd_vfio_ioas; Debian 6.12.117, the same
// code in the 6.6 and 6.9 trees but for the READ/WRITE check of COPY): IOMMU_IOAS_ALLOW_IOVAS,
// IOMMU_IOAS_COPY, IOMMU_IOAS_IOVA_RANGES, IOMMU_OPTION and IOMMU_VFIO_IOAS.
import { fail, ok, type SysResult } from '../../kernel/result.js';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  IOMMU_VFIO_IOAS_CLEAR,
  IOMMU_VFIO_IOAS_GET,
  IOMMU_VFIO_IOAS_SET,
  iommu_iova_range,
} from '../../uapi/iommufd.js';
import { readScalar, writeScalar } from '../../uapi/struct.js';
import {
  disableLargePages,
  enableLargePages,
  getPages,
  iovaAlignment,
  iovaHoles,
  mapPages,
  setAllowIova,
  ULONG_MAX,
} from './io-pagetable.js';
import { getIoas, respond, type Ucmd } from './ucmd.js';
import { compatIoas } from './vfio-compat.js';

const RANGE = BigInt(iommu_iova_range.size);
/** &ranges[i] of a u64_to_user_ptr array, wrapping as pointer arithmetic does */
const elem = (base: bigint, i: bigint) => (base + RANGE * i) & ULONG_MAX;

/**
 * iommufd_ioas_allow_iovas: __reserved EOPNOTSUPP, the IOAS (ENOENT), then
 * iommufd_ioas_load_iovas builds a new tree one range at a time (copy_from_user EFAULT, start >=
 * last EINVAL, a range meeting one loaded before EINVAL, the kzalloc ENOMEM; the tree is freed on
 * any failure), then iopt_set_allow_iova swaps it in (EADDRINUSE over a reserved range). Zero
 * ranges clear the tree: every IOVA is allowed again.
 */
export function ioasAllowIovas(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  if (c.__reserved) return fail('EOPNOTSUPP', 'iommufd_ioas_allow_iovas', 'cmd->__reserved');
  const ioas = getIoas(ictx, c.ioas_id!);
  if ('ok' in ioas) return ioas;
  const fn = 'iommufd_ioas_load_iovas';
  const mm = ctx.proc.mm;
  const loaded: [bigint, bigint][] = [];
  for (let i = 0n; i < c.num_iovas!; i++) {
    const b = mm.copyFromUser(elem(c.allowed_iovas!, i), Number(RANGE));
    if (!b) return fail('EFAULT', fn, 'copy_from_user(&range, ranges + i, sizeof(range))');
    const start = readScalar(b, 0, 'u64');
    const last = readScalar(b, 8, 'u64');
    if (start >= last) return fail('EINVAL', fn, 'range.start >= range.last');
    if (loaded.some(([s, e]) => s <= last && start <= e))
      return fail('EINVAL', fn, 'interval_tree_iter_first(itree, range.start, range.last)');
    if (ctx.k.allocFails(ctx.proc, 'iommufd_ioas_load_iovas: kzalloc allowed'))
      return fail('ENOMEM', fn, '!allowed (kzalloc)');
    loaded.push([start, last]);
  }
  return setAllowIova(ictx, ioas, loaded) ?? ok(0);
}

/**
 * iommufd_ioas_copy: unknown flags EOPNOTSUPP, length / src_iova / dst_iova >= ULONG_MAX
 * EOVERFLOW, neither READABLE nor WRITEABLE EINVAL (iommufd-map-needs-prot), the source IOAS
 * (ENOENT), iopt_get_pages of its contiguous areas (EINVAL, EOVERFLOW, ENOMEM, ENOENT), the
 * destination IOAS (ENOENT), then iopt_map_pages: the new areas share the source's iopt_pages, so
 * pages pinned already for another domain are neither pinned nor charged again. dst_iova is written
 * back; a failed copy-out (EFAULT) leaves the mapping, as in the kernel.
 */
export function ioasCopy(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  const fn = 'iommufd_ioas_copy';
  const known = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;
  if (c.flags! & ~known) return fail('EOPNOTSUPP', fn, 'cmd->flags & ~(FIXED_IOVA | WRITEABLE | READABLE)');
  if (c.length! >= ULONG_MAX || c.src_iova! >= ULONG_MAX || c.dst_iova! >= ULONG_MAX)
    return fail('EOVERFLOW', fn, 'cmd->length, src_iova or dst_iova >= ULONG_MAX');
  if (
    ctx.k.profile.has('iommufd-map-needs-prot') &&
    !(c.flags! & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))
  )
    return fail('EINVAL', fn, '!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))');
  const src = getIoas(ictx, c.src_ioas_id!);
  if ('ok' in src) return src;
  const slices = getPages(ctx.k, src, c.src_iova!, c.length!, ctx.proc.mm);
  if ('ok' in slices) return slices;
  const dst = getIoas(ictx, c.dst_ioas_id!);
  if ('ok' in dst) return dst;
  const fixed = (c.flags! & IOMMU_IOAS_MAP_FIXED_IOVA) !== 0n;
  const writable = (c.flags! & IOMMU_IOAS_MAP_WRITEABLE) !== 0n;
  const areas = mapPages(
    ctx.k,
    ictx,
    dst,
    slices,
    c.length!,
    fixed ? c.dst_iova! : null,
    writable,
    ctx.proc.mm,
  );
  if ('ok' in areas) return areas;
  return respond(u, { ...c, dst_iova: areas[0]!.iova });
}

/**
 * iommufd_ioas_iova_ranges: __reserved EOPNOTSUPP, the IOAS (ENOENT); the holes of the reserved
 * tree in order ([0, ULONG_MAX] without a domain; with the VT-d domain the two ranges around the
 * MSI window, up to the aperture's end), each copied to allowed_iovas[n] while n < num_iovas
 * (EFAULT there, before any copy-back); then num_iovas = the count and out_iova_alignment go back
 * (iommufd_ucmd_respond), and EMSGSIZE when the count exceeded the caller's num_iovas.
 */
export function ioasIovaRanges(u: Ucmd): SysResult {
  const { ctx, ictx, cmd: c } = u;
  const fn = 'iommufd_ioas_iova_ranges';
  if (c.__reserved) return fail('EOPNOTSUPP', fn, 'cmd->__reserved');
  const ioas = getIoas(ictx, c.ioas_id!);
  if ('ok' in ioas) return ioas;
  const max = c.num_iovas!;
  let n = 0n;
  for (const [start, last] of iovaHoles(ictx, ioas)) {
    if (n < max) {
      const b = new Uint8Array(Number(RANGE));
      writeScalar(b, 0, 'u64', start);
      writeScalar(b, 8, 'u64', last);
      if (!ctx.proc.mm.copyToUser(elem(c.allowed_iovas!, n), b))
        return fail('EFAULT', fn, 'copy_to_user(&ranges[cmd->num_iovas], &elm, sizeof(elm))');
    }
    n++;
  }
  const r = respond(u, { ...c, num_iovas: n, out_iova_alignment: iovaAlignment(ictx, ioas) });
  if (!r.ok) return r;
  if (n > max) return fail('EMSGSIZE', fn, 'cmd->num_iovas > max_iovas');
  return ok(0);
}

/**
 * iommufd_option_rlimit_mode: object_id EOPNOTSUPP; GET reads whether the context accounts to the
 * mm; SET needs CAP_SYS_RESOURCE (EPERM), an empty object table (EBUSY) and a value of 0 (user) or
 * 1 (mm, VFIO's way) (EINVAL); any other op EOPNOTSUPP.
 */
function rlimitMode(u: Ucmd): bigint | ReturnType<typeof fail> {
  const { ctx, ictx, cmd: c } = u;
  const fn = 'iommufd_option_rlimit_mode';
  if (c.object_id) return fail('EOPNOTSUPP', fn, 'cmd->object_id');
  if (c.op === IOMMU_OPTION_OP_GET) return ictx.accountMode === 'mm' ? 1n : 0n;
  if (c.op !== IOMMU_OPTION_OP_SET) return fail('EOPNOTSUPP', fn, 'cmd->op is neither SET nor GET');
  if (!ctx.proc.capable('CAP_SYS_RESOURCE')) return fail('EPERM', fn, '!capable(CAP_SYS_RESOURCE)');
  if (ictx.objects.size) return fail('EBUSY', fn, '!xa_empty(&ictx->objects)');
  if (c.val64 === 0n) ictx.accountMode = 'user';
  else if (c.val64 === 1n) ictx.accountMode = 'mm';
  else return fail('EINVAL', fn, 'cmd->val64 is neither 0 nor 1');
  return c.val64!;
}

/**
 * iommufd_ioas_option: the IOAS of object_id (ENOENT), then iommufd_ioas_option_huge_pages: GET is
 * !disable_large_pages; SET 0 is iopt_disable_large_pages (EINVAL with a domain and areas,
 * EADDRINUSE for an area off PAGE_SIZE), SET 1 iopt_enable_large_pages; another value EINVAL,
 * another op EOPNOTSUPP.
 */
function hugePages(u: Ucmd): bigint | ReturnType<typeof fail> {
  const { ictx, cmd: c } = u;
  const ioas = getIoas(ictx, c.object_id!);
  if ('ok' in ioas) return ioas;
  const fn = 'iommufd_ioas_option_huge_pages';
  if (c.op === IOMMU_OPTION_OP_GET) return ioas.disableLargePages ? 0n : 1n;
  if (c.op !== IOMMU_OPTION_OP_SET) return fail('EOPNOTSUPP', fn, 'cmd->op is neither SET nor GET');
  if (c.val64 === 0n) return disableLargePages(ictx, ioas) ?? 0n;
  if (c.val64 === 1n) {
    enableLargePages(ioas);
    return 1n;
  }
  return fail('EINVAL', fn, 'cmd->val64 is neither 0 nor 1');
}

/**
 * iommufd_option: __reserved EOPNOTSUPP, an unknown option_id EOPNOTSUPP; after the option's own
 * checks only val64 is copied back (put at offset 16: EFAULT, for a SET too, whose change stays).
 */
export function option(u: Ucmd): SysResult {
  const { ctx, cmd: c } = u;
  const fn = 'iommufd_option';
  if (c.__reserved) return fail('EOPNOTSUPP', fn, 'cmd->__reserved');
  let v: bigint | ReturnType<typeof fail>;
  if (c.option_id === IOMMU_OPTION_RLIMIT_MODE) v = rlimitMode(u);
  else if (c.option_id === IOMMU_OPTION_HUGE_PAGES) v = hugePages(u);
  else return fail('EOPNOTSUPP', fn, 'unknown cmd->option_id');
  if (typeof v !== 'bigint') return v;
  const b = new Uint8Array(8);
  writeScalar(b, 0, 'u64', v);
  const at = u.def.fields.find((f) => f.name === 'val64')!.offset;
  if (!ctx.proc.mm.copyToUser(u.arg + BigInt(at), b))
    return fail('EFAULT', fn, 'copy_to_user(&ucmd->ubuffer->val64, &cmd->val64, sizeof(cmd->val64))');
  return ok(0);
}

/**
 * iommufd_vfio_ioas: __reserved EOPNOTSUPP; GET answers the compat IOAS's id (get_compat_ioas:
 * ENODEV without one, or once it was destroyed) through iommufd_ucmd_respond; SET makes the IOAS
 * of ioas_id (ENOENT) the one the VFIO compat ioctls use; CLEAR forgets it (nothing is destroyed);
 * any other op EOPNOTSUPP.
 */
export function vfioIoas(u: Ucmd): SysResult {
  const { ictx, cmd: c } = u;
  const fn = 'iommufd_vfio_ioas';
  if (c.__reserved) return fail('EOPNOTSUPP', fn, 'cmd->__reserved');
  if (c.op === IOMMU_VFIO_IOAS_GET) {
    const ioas = compatIoas(ictx, fn);
    if ('ok' in ioas) return ioas;
    return respond(u, { ...c, ioas_id: BigInt(ioas.id) });
  }
  if (c.op === IOMMU_VFIO_IOAS_SET) {
    const ioas = getIoas(ictx, c.ioas_id!);
    if ('ok' in ioas) return ioas;
    ictx.vfioIoas = ioas;
    return ok(0);
  }
  if (c.op === IOMMU_VFIO_IOAS_CLEAR) {
    ictx.vfioIoas = null;
    return ok(0);
  }
  return fail('EOPNOTSUPP', fn, 'cmd->op is not GET, SET or CLEAR');
}

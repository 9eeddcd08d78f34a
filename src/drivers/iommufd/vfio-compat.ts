// drivers/iommu/iommufd/vfio_compat.c at 6.12 (vfio.md §5.7, §12.6): the VFIO container ioctls on
// an iommufd file, run against the context's compat IOAS. Under CONFIG_IOMMUFD_VFIO_CONTAINER the
// file is /dev/vfio/vfio itself; /dev/iommu answers them too. Where this differs from type1:
// no "driver set" state (SET_IOMMU needs only the compat IOAS, may be repeated), no VADDR, no
// dirty bitmap, a flags-0 map is accepted, UNMAP writes the size back on failure, GET_INFO
// always rewrites argsz, and the IOVA alignment and ranges follow the io_pagetable.
import type { CallCtx } from '../../kernel/file.js';
import { PAGE_SIZE } from '../../kernel/memory.js';
import { type Fail, fail, ok, type SysResult } from '../../kernel/result.js';
import { copyStructFromUser } from '../../kernel/uaccess.js';
import { writeScalar } from '../../uapi/struct.js';
import {
  MINSZ,
  VFIO_DMA_CC_IOMMU,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_UNMAP_ALL,
  vfio_iommu_type1_dma_map,
  vfio_iommu_type1_dma_unmap,
  vfio_iommu_type1_info,
  vfioNr,
} from '../../uapi/vfio.js';
import { PGSIZE_BITMAP } from '../vfio/type1.js';
import {
  cutIova,
  disableLargePages,
  ioasHasDomain,
  iovaHoles,
  mapUserPages,
  ULONG_MAX,
  unmapAll,
  unmapIova,
} from './io-pagetable.js';
import type { Ioas, IommufdCtx } from './iommufd.js';

/** get_compat_ioas: no vfio_ioas yet (no group attached) is ENODEV. */
export function compatIoas(ictx: IommufdCtx, fn: string): Ioas | Fail {
  const ioas = ictx.vfioIoas;
  // a compat IOAS the user destroyed fails iommufd_lock_obj like a missing one
  if (!ioas || ictx.objects.get(ioas.id) !== ioas)
    return fail('ENODEV', fn, 'get_compat_ioas(): !ictx->vfio_ioas || !iommufd_lock_obj()');
  return ioas;
}
const isFail = (x: Ioas | Fail): x is Fail => 'ok' in x;

/**
 * iommufd_vfio_compat_ioas_create, run by VFIO_GROUP_SET_CONTAINER with an iommufd: the first
 * group makes the compat IOAS (a user-visible object id), later ones reuse it.
 */
export function compatIoasCreate(ictx: IommufdCtx, alloc: () => Ioas): void {
  if (ictx.vfioIoas && ictx.objects.get(ictx.vfioIoas.id) === ictx.vfioIoas) return;
  ictx.vfioIoas = alloc();
}

/** iommufd_vfio_compat_ioas_get_id, for the device's compat attach at its first open. */
export function compatIoasId(ictx: IommufdCtx): number | Fail {
  const ioas = compatIoas(ictx, 'iommufd_vfio_compat_ioas_get_id');
  return isFail(ioas) ? ioas : ioas.id;
}

/** iommufd_vfio_cc_iommu: 1 unless a HWPT of the compat IOAS does not enforce coherency. */
function ccIommu(ictx: IommufdCtx): SysResult {
  const ioas = compatIoas(ictx, 'iommufd_vfio_cc_iommu');
  if (isFail(ioas)) return ioas;
  // The emulated VT-d has no snoop control: every domain leaves enforce_cache_coherency false.
  return ok(ioasHasDomain(ictx, ioas) ? 0 : 1);
}

/** iommufd_vfio_check_extension (no noiommu mode: Debian builds no CONFIG_VFIO_NOIOMMU). */
function checkExtension(ictx: IommufdCtx, ext: bigint): SysResult {
  if (ext === VFIO_TYPE1_IOMMU || ext === VFIO_TYPE1v2_IOMMU || ext === VFIO_UNMAP_ALL) return ok(1);
  if (ext === VFIO_DMA_CC_IOMMU) return ccIommu(ictx);
  // TYPE1_NESTING: obsolete; UPDATE_VADDR: "hard to see how this could be implemented safely"
  return ok(0);
}

/**
 * iommufd_vfio_set_iommu: TYPE1 or TYPE1v2 only; needs the compat IOAS (ENODEV, where VFIO says
 * EINVAL); may be called again; TYPE1 disables large pages so that a v1 unmap can split.
 */
function setIommu(ictx: IommufdCtx, type: bigint): SysResult {
  const fn = 'iommufd_vfio_set_iommu';
  if (type !== VFIO_TYPE1_IOMMU && type !== VFIO_TYPE1v2_IOMMU)
    return fail('EINVAL', fn, '(type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU) || no_iommu_mode');
  const ioas = compatIoas(ictx, fn);
  if (isFail(ioas)) return ioas;
  if (type === VFIO_TYPE1_IOMMU) return disableLargePages(ictx, ioas) ?? ok(0);
  return ok(0);
}

/** iommufd_vfio_map_dma: READ and WRITE only (VADDR is EINVAL); neither is allowed. */
function mapDma(ctx: CallCtx, ictx: IommufdCtx, arg: bigint): SysResult {
  const fn = 'iommufd_vfio_map_dma';
  const m = copyStructFromUser(ctx, arg, vfio_iommu_type1_dma_map);
  if (!m) return fail('EFAULT', fn, 'copy_from_user(&map, arg, minsz)');
  const supported = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
  if (m.argsz! < BigInt(MINSZ.dma_map) || m.flags! & ~supported)
    return fail('EINVAL', fn, 'map.argsz < minsz || map.flags & ~supported_flags');
  const ioas = compatIoas(ictx, fn);
  if (isFail(ioas)) return ioas;
  // iopt_map_user_pages charges as the context does: the mm for /dev/vfio/vfio, the user for /dev/iommu
  // at a fixed IOVA (no IOPT_ALLOC_IOVA)
  const r = mapUserPages(
    ctx.k,
    ictx,
    ioas,
    {
      iova: m.iova!,
      uptr: m.vaddr!,
      length: m.size!,
      writable: (m.flags! & VFIO_DMA_MAP_FLAG_WRITE) !== 0n,
      mm: ctx.proc.mm,
      lockCap: ctx.proc.capable('CAP_IPC_LOCK'),
    },
    true,
  );
  return 'ok' in r ? r : ok(0);
}

/**
 * iommufd_vfio_unmap_dma: only the ALL flag; after the compat IOAS lookup the size field is
 * written back whatever iopt_unmap_iova answered (type1 writes it only on success).
 */
function unmapDma(ctx: CallCtx, ictx: IommufdCtx, arg: bigint): SysResult {
  const fn = 'iommufd_vfio_unmap_dma';
  const u = copyStructFromUser(ctx, arg, vfio_iommu_type1_dma_unmap);
  if (!u) return fail('EFAULT', fn, 'copy_from_user(&unmap, arg, minsz)');
  if (u.argsz! < BigInt(MINSZ.dma_unmap) || u.flags! & ~VFIO_DMA_UNMAP_FLAG_ALL)
    return fail('EINVAL', fn, 'unmap.argsz < minsz || unmap.flags & ~supported_flags');
  const ioas = compatIoas(ictx, fn);
  if (isFail(ioas)) return ioas;
  const k = ctx.k;
  const iova = u.iova!;
  const size = u.size!;
  let r: ReturnType<typeof unmapAll>;
  if (u.flags! & VFIO_DMA_UNMAP_FLAG_ALL) {
    if (iova !== 0n || size !== 0n) return fail('EINVAL', fn, 'unmap.iova != 0 || unmap.size != 0');
    r = unmapAll(k, ioas);
  } else {
    if (ioas.disableLargePages) {
      // iopt_cut_iova at the last byte and before the first (not when iova is 0)
      const cuts = [(iova + size - 1n) & ULONG_MAX, (iova - 1n) & ULONG_MAX].slice(0, iova ? 2 : 1);
      for (const c of cuts) {
        const e = cutIova(ictx, ioas, c);
        if (e) return e;
      }
    }
    r = unmapIova(k, ioas, iova, size);
  }
  const back = new Uint8Array(8);
  writeScalar(back, 0, 'u64', r.unmapped);
  if (!ctx.proc.mm.copyToUser(arg + 16n, back)) return fail('EFAULT', fn, 'copy_to_user(arg, &unmap, minsz)');
  return r.err ?? ok(0);
}

/** iommufd_get_pagesizes: no domain leaves ULONG_MAX, narrowed to PAGE_SIZE and up. */
function pageSizes(ictx: IommufdCtx, ioas: Ioas): bigint {
  let bitmap = ioasHasDomain(ictx, ioas) ? PGSIZE_BITMAP : ULONG_MAX;
  const pageMask = ULONG_MAX & ~(PAGE_SIZE - 1n);
  if (bitmap & ~pageMask) bitmap = (bitmap & pageMask) | PAGE_SIZE;
  const align = ioas.disableLargePages || ioasHasDomain(ictx, ioas) ? PAGE_SIZE : 1n;
  return bitmap > align ? bitmap : align;
}

/**
 * iommufd_vfio_iommu_get_info: DMA_AVAIL (U32_MAX) then IOVA_RANGE, each written where it fits
 * and 8-byte aligned; a `next` is linked once argsz reaches the next cap's offset; argsz is set
 * to the total in every case and min(argsz, sizeof(info)) bytes of the struct go back.
 */
function getInfo(ctx: CallCtx, ictx: IommufdCtx, arg: bigint): SysResult {
  const fn = 'iommufd_vfio_iommu_get_info';
  const mm = ctx.proc.mm;
  const b = mm.copyFromUser(arg, MINSZ.type1_info);
  if (!b) return fail('EFAULT', fn, 'copy_from_user(&info, arg, minsz)');
  const argsz = BigInt(new DataView(b.buffer).getUint32(0, true));
  if (argsz < BigInt(MINSZ.type1_info)) return fail('EINVAL', fn, 'info.argsz < minsz');
  const infoSize = BigInt(vfio_iommu_type1_info.size);
  const copyLen = Number(argsz < infoSize ? argsz : infoSize);
  const ioas = compatIoas(ictx, fn);
  if (isFail(ioas)) return ioas;
  const efault = fail('EFAULT', fn, 'copy_to_user / put_user of a capability');
  const put = (at: bigint, bytes: Uint8Array) => mm.copyToUser(arg + at, bytes);

  const dmaAvail = (at: bigint, avail: bigint): number | null => {
    if (avail >= 12n) {
      const c = new Uint8Array(12);
      writeScalar(c, 0, 'u16', BigInt(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL));
      writeScalar(c, 2, 'u16', 1n);
      writeScalar(c, 8, 'u32', 0xffffffffn);
      if (!put(at, c)) return null;
    }
    return 12;
  };
  const iovaRange = (at: bigint, avail: bigint): number | null => {
    let n = 0n;
    for (const [s, e] of iovaHoles(ictx, ioas)) {
      if (avail >= 16n + 16n * (n + 1n)) {
        const r = new Uint8Array(16);
        writeScalar(r, 0, 'u64', s);
        writeScalar(r, 8, 'u64', e);
        if (!put(at + 16n + 16n * n, r)) return null;
      }
      n++;
    }
    if (avail >= 16n + 16n * n) {
      const h = new Uint8Array(16);
      writeScalar(h, 0, 'u16', BigInt(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE));
      writeScalar(h, 2, 'u16', 1n);
      writeScalar(h, 8, 'u32', n);
      if (!put(at, h)) return null;
    }
    return Number(16n + 16n * n);
  };

  let total = infoSize;
  let lastCap: bigint | null = null;
  for (const fill of [dmaAvail, iovaRange]) {
    const size = argsz > total ? fill(total, argsz - total) : fill(total, 0n);
    if (size === null) return efault;
    if (lastCap !== null && argsz >= total) {
      const next = new Uint8Array(4);
      writeScalar(next, 0, 'u32', total);
      if (!put(lastCap + 4n, next)) return efault;
    }
    lastCap = total;
    total += BigInt(Math.ceil(size / 8) * 8);
  }
  const out = new Uint8Array(Number(infoSize));
  writeScalar(out, 0, 'u32', total);
  writeScalar(out, 4, 'u32', BigInt(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS));
  writeScalar(out, 8, 'u64', pageSizes(ictx, ioas));
  writeScalar(out, 16, 'u32', argsz >= total ? infoSize : 0n);
  if (!put(0n, out.subarray(0, copyLen))) return fail('EFAULT', fn, 'copy_to_user(arg, &info, minsz)');
  return ok(0);
}

/** iommufd_vfio_ioctl: everything else, VFIO_IOMMU_DIRTY_PAGES included, is -ENOIOCTLCMD. */
export function iommufdVfioIoctl(ctx: CallCtx, ictx: IommufdCtx, cmd: number, arg: bigint): SysResult {
  if (cmd === vfioNr('VFIO_GET_API_VERSION')) return ok(0);
  if (cmd === vfioNr('VFIO_SET_IOMMU')) return setIommu(ictx, arg);
  if (cmd === vfioNr('VFIO_CHECK_EXTENSION')) return checkExtension(ictx, arg);
  if (cmd === vfioNr('VFIO_IOMMU_GET_INFO')) return getInfo(ctx, ictx, arg);
  if (cmd === vfioNr('VFIO_IOMMU_MAP_DMA')) return mapDma(ctx, ictx, arg);
  if (cmd === vfioNr('VFIO_IOMMU_UNMAP_DMA')) return unmapDma(ctx, ictx, arg);
  return fail('ENOTTY', 'iommufd_vfio_ioctl', 'default: -ENOIOCTLCMD');
}

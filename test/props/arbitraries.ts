// Step descriptors for model fuzzing and the fast-check arbitraries that make them. A descriptor is
// one scenario step (scenario.md) with raw fd numbers, so a sequence replays as a scenario file
// (to-yaml.ts) and runs straight against the Kernel (model.ts) with the same calls the runner makes.
import fc from 'fast-check';
import { VHOST_IOCTLS } from '../../src/uapi/vhost.js';

/** A 64-bit value: a literal, or an offset into the acting process's mapping number `map`. */
export type Val = bigint | { map: number; off: bigint };

export interface MsgDesc {
  type: number;
  iova: Val;
  size: bigint;
  uaddr: Val;
  perm: number;
  asid?: bigint;
}

export interface Region {
  guest_phys_addr: bigint;
  memory_size: bigint;
  userspace_addr: Val;
}

export type ArgDesc =
  | { kind: 'int'; v: bigint }
  | { kind: 'struct'; fields: Record<string, Val> }
  | { kind: 'mem'; regions: Region[]; nregions?: bigint; padding?: bigint }
  | { kind: 'ifreq'; name: string; flags: bigint };

/** `p` picks a process by creation order (modulo the count); a step of an exited one is skipped. */
export type Step =
  | { op: 'open'; p: number; path: string; flags?: readonly string[] }
  | { op: 'close'; p: number; fd: number }
  | { op: 'fork'; p: number }
  | { op: 'spawn' }
  | { op: 'exit'; p: number }
  | { op: 'pass'; p: number; fd: number; to: number }
  | { op: 'eventfd'; p: number }
  | { op: 'mmap'; p: number; size: bigint; memfd: boolean }
  | { op: 'poke'; p: number; map: number; off: bigint; value: bigint; width: 1 | 2 | 4 | 8 }
  | { op: 'ioctl'; p: number; fd: number; req: string | number; arg?: ArgDesc; argp?: Val }
  | { op: 'write'; p: number; fd: number; msg: MsgDesc; version?: 1 | 2; len?: number; header?: bigint }
  | { op: 'read'; p: number; fd: number; len?: number }
  | { op: 'poll'; p: number; fd: number }
  | { op: 'signal'; p: number; fd: number };

/** `6.12+patches` is 6.12 with both proposed vhost patches (vhost-iotlb-remap, vhost-new-owner). */
export const PROFILES = ['5.10', '5.15', '6.1', '6.12', '6.12+patches'] as const;
export type ProfileName = (typeof PROFILES)[number];
export const PATCHED = ['vhost-iotlb-remap', 'vhost-new-owner'] as const;

/** The kernel profile and patch list a case's profile name stands for. */
export function profileOf(name: string): { kernel: string; patches: readonly string[] } {
  return name.endsWith('+patches')
    ? { kernel: name.slice(0, -8), patches: PATCHED }
    : { kernel: name, patches: [] };
}

export const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 0xffffffffn;

/** Paths: the modelled nodes, nodes of families not built yet, and paths that are no node at all. */
export const OPEN_PATHS = [
  '/dev/vhost-vsock',
  '/dev/vhost-net',
  '/dev/net/tun',
  '/dev/vhost-vdpa-0',
  '/dev/vhost-vdpa-1',
  '/dev/vhost-vdpa-2',
  '/dev/vhost-bogus',
  '/dev/null',
  '/dev/../dev/vhost-vsock',
  '/dev/vhost-vsock/',
];

// VHOST_VDPA_GET/SET_CONFIG take a tail the runner does not build yet (input error): left out.
const NAMED = [
  ...VHOST_IOCTLS.map((d) => d.name).filter((n) => !/^VHOST_VDPA_(GET|SET)_CONFIG$/.test(n)),
  'TUNSETIFF',
  'TUNGETIFF',
  'TUNSETVNETHDRSZ',
];

const pick = fc.nat({ max: 5 });

/** fd 3 is the prefix's device, 4-7 its eventfds, 8 its tap; others are whatever opened later. */
export const fdArb: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.constant(3), weight: 8 },
  { arbitrary: fc.integer({ min: 4, max: 8 }), weight: 6 },
  { arbitrary: fc.integer({ min: 9, max: 12 }), weight: 3 },
  { arbitrary: fc.constantFrom(0, 1, 2, -1, 999, 0x7fffffff), weight: 1 },
);

const u64Extreme = fc.constantFrom(
  0n,
  1n,
  0xfffn,
  0x1000n,
  (1n << 63n) - 1n,
  1n << 63n,
  0x7ffffffff000n,
  0x7fffffffefffn,
  0x800000000000n,
  0xffff888000000000n,
  U64_MAX - 0xfffn,
  U64_MAX - 1n,
  U64_MAX,
);

export const u64Arb: fc.Arbitrary<bigint> = fc.oneof(
  { arbitrary: u64Extreme, weight: 4 },
  { arbitrary: fc.bigInt({ min: 0n, max: 0x40n }).map((x) => x << 12n), weight: 4 },
  { arbitrary: fc.bigInt({ min: 0n, max: 0x40000n }), weight: 2 },
  { arbitrary: fc.bigInt({ min: 0n, max: U64_MAX }), weight: 2 },
);

const mapOff = fc.oneof(
  fc.bigInt({ min: 0n, max: 0x10n }).map((x) => x << 12n),
  fc.bigInt({ min: 0n, max: 0xffffn }),
);

/** A pointer-ish 64-bit value: often inside a mapping, else a literal (NULL, kernel, unmapped, extreme). */
export const ptrArb: fc.Arbitrary<Val> = fc.oneof(
  { arbitrary: fc.record({ map: pick, off: mapOff }), weight: 3 },
  { arbitrary: u64Arb, weight: 1 },
);

/** An IOVA: small page-aligned values (where the rings of the prefix live) or anything. */
const iovaArb: fc.Arbitrary<Val> = fc.oneof(
  { arbitrary: fc.bigInt({ min: 0n, max: 0x30n }).map((x) => x << 12n), weight: 4 },
  { arbitrary: u64Arb, weight: 2 },
);

export const sizeArb: fc.Arbitrary<bigint> = fc.oneof(
  { arbitrary: fc.constantFrom(0n, 1n, 0x1000n, 0x3000n, 0x10000n, 0x100000n), weight: 4 },
  { arbitrary: u64Arb, weight: 2 },
);

const widthOf = (t: string): number => ({ u8: 8, u16: 16, u32: 32, s32: 32, u64: 64, s64: 64 })[t] ?? 64;

function fieldArb(type: string, role: string | undefined): fc.Arbitrary<Val> {
  if (role === 'fd') return fdArb.map((n) => BigInt(n));
  const w = widthOf(type);
  if (w === 64) return role === 'pointer' ? ptrArb : fc.oneof(ptrArb, u64Arb);
  const max = (1n << BigInt(w)) - 1n;
  return fc.oneof(
    { arbitrary: fc.constantFrom(0n, 1n, 2n, 16n, 256n, 0x8000n & max, max), weight: 3 },
    { arbitrary: fc.bigInt({ min: 0n, max: 3n }), weight: 3 },
    { arbitrary: fc.bigInt({ min: 0n, max }), weight: 1 },
  );
}

/** Feature words: the offers with random bits dropped, single bits, or junk. */
const OFFERS = [0x33d000002n, 0x33d008000n, 0x1033d008000n, 0x308820028n, 0x308830028n, 0x308007646n];
const featuresArb = fc.oneof(
  fc.constantFrom(0n, 0x100000000n, 0x300000000n, ...OFFERS),
  fc.tuple(fc.constantFrom(...OFFERS), fc.bigInt({ min: 0n, max: U64_MAX })).map(([o, m]) => o & m),
  fc.nat({ max: 63 }).map((b) => 1n << BigInt(b)),
  fc.bigInt({ min: 0n, max: U64_MAX }),
);

const regionArb: fc.Arbitrary<Region> = fc.record({
  guest_phys_addr: fc.oneof(fc.constantFrom(0n, 0x100000n), u64Arb),
  memory_size: fc.oneof(fc.constantFrom(0x10000n, 0x100000n, 0n, 1n), u64Arb),
  userspace_addr: ptrArb,
});

const memArb: fc.Arbitrary<ArgDesc> = fc.record(
  {
    kind: fc.constant('mem' as const),
    regions: fc.array(regionArb, { maxLength: 3 }),
    nregions: fc.oneof(fc.bigInt({ min: 0n, max: 70n }), fc.constant(U32_MAX)),
    padding: fc.constantFrom(0n, 1n),
  },
  { requiredKeys: ['kind', 'regions'] },
);

const IFF_TAP = 0x2n;
const IFF_TUN = 0x1n;
const ifreqArb: fc.Arbitrary<ArgDesc> = fc.record({
  kind: fc.constant('ifreq' as const),
  name: fc.constantFrom('', 'tap0', 'tun0', 'lo', 'x%d', '..', 'a/b', 'abcdefghijklmno'),
  flags: fc.oneof(
    fc.constantFrom(IFF_TAP | 0x1000n | 0x4000n, IFF_TUN | 0x1000n, IFF_TAP, 0n, 0x100n | IFF_TAP),
    fc.bigInt({ min: 0n, max: 0xffffn }),
  ),
});

/** A valid-looking or random argument for a named ioctl, or a raw pointer. */
function namedIoctlArb(name: string): fc.Arbitrary<Step> {
  const d = VHOST_IOCTLS.find((x) => x.name === name);
  let arg: fc.Arbitrary<ArgDesc | undefined> = fc.constant(undefined);
  if (name === 'TUNSETIFF') arg = ifreqArb;
  else if (name === 'TUNSETVNETHDRSZ')
    arg = fc.bigInt({ min: 0n, max: 20n }).map((v) => ({ kind: 'int', v }));
  else if (d) {
    const a = d.arg;
    if (a.kind === 'value') arg = fc.option(fc.bigInt({ min: 0n, max: 3n }).map((v) => ({ kind: 'int', v })));
    else if (a.kind === 'scalar') {
      const v =
        name === 'VHOST_SET_FEATURES'
          ? featuresArb
          : name === 'VHOST_SET_BACKEND_FEATURES'
            ? fc.oneof(
                // MSG_V2 2, BATCH 4, ASID 8, SUSPEND 0x10, RESUME 0x20, ENABLE_AFTER_DRIVER_OK 0x40,
                // DESC_ASID 0x80, IOTLB_PERSIST 0x100, the patches' NEW_OWNER 0x200 and IOTLB_REMAP 0x400
                fc.constantFrom(
                  0n,
                  2n,
                  6n,
                  0xen,
                  0x3en,
                  0x7en,
                  0x17en,
                  0x1fen,
                  0x20en,
                  0x40en,
                  0x60en,
                  0x77en,
                ),
                fc.bigInt({ min: 0n, max: 0x7ffn }),
                fc.bigInt({ min: 0n, max: U64_MAX }),
              )
            : name === 'VHOST_VDPA_SET_STATUS'
              ? fc.oneof(
                  // ACKNOWLEDGE 1, DRIVER 2, DRIVER_OK 4, FEATURES_OK 8, NEEDS_RESET 0x40, FAILED 0x80
                  fc.constantFrom(0n, 1n, 3n, 0xbn, 0xfn, 0x7n, 0x4n, 0x40n, 0x80n, 0x8fn),
                  fc.bigInt({ min: 0n, max: 0xffn }),
                )
              : name === 'VHOST_VSOCK_SET_GUEST_CID'
                ? fc.oneof(fc.bigInt({ min: 0n, max: 8n }), fc.constantFrom(U32_MAX, U32_MAX + 1n, U64_MAX))
                : a.role === 'fd'
                  ? fdArb.map(BigInt)
                  : fieldArb(a.type, undefined).map((x) => (typeof x === 'bigint' ? x : 0n));
      arg = fc.option(
        v.map((x) => ({ kind: 'int' as const, v: x })),
        { freq: 8 },
      );
    } else if (a.kind === 'struct') {
      const fields: Record<string, fc.Arbitrary<Val>> = {};
      for (const f of a.def.fields) {
        fields[f.name] =
          f.name === 'index'
            ? fc.oneof(fc.constantFrom(0n, 1n), fieldArb(f.type, f.role))
            : fieldArb(f.type, f.role);
      }
      arg = fc.option(
        fc
          .record(fields, { requiredKeys: [] })
          .map((fs) => ({ kind: 'struct' as const, fields: fs as Record<string, Val> })),
        { freq: 10 },
      );
    } else if (a.kind === 'custom' && a.layout === 'vhost_memory') arg = memArb;
  }
  return fc
    .record(
      {
        op: fc.constant('ioctl' as const),
        p: pick,
        fd: fdArb,
        req: fc.constant(name),
        arg,
        argp: fc.oneof(ptrArb, u64Arb),
      },
      { requiredKeys: ['op', 'p', 'fd', 'req'] },
    )
    .map((s) => {
      const out: Step = { op: 'ioctl', p: s.p, fd: s.fd, req: s.req };
      // arg: and argp: exclude each other; argp wins a third of the time
      if (s.argp !== undefined && (s.arg === undefined || s.fd % 3 === 0)) out.argp = s.argp;
      else if (s.arg !== undefined) out.arg = s.arg;
      return out;
    });
}

/** Raw request numbers: vhost's type with random nr/dir/size, and anything. */
const rawReqArb: fc.Arbitrary<number> = fc.oneof(
  fc
    .tuple(fc.nat({ max: 3 }), fc.nat({ max: 0xff }), fc.constantFrom(0, 1, 4, 8, 16, 40, 72))
    .map(([dir, nr, size]) => ((dir << 30) | (size << 16) | (0xaf << 8) | nr) >>> 0),
  fc.nat({ max: 0xffffffff }),
);

const CORE = NAMED.filter((n) => !n.startsWith('VHOST_VDPA_'));
const VDPA = NAMED.filter((n) => n.startsWith('VHOST_VDPA_'));
const ioctlArbOf = (vdpaWeight: number): fc.Arbitrary<Step> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...CORE).chain(namedIoctlArb), weight: 10 },
    { arbitrary: fc.constantFrom(...VDPA).chain(namedIoctlArb), weight: vdpaWeight },
    {
      arbitrary: fc.record({
        op: fc.constant('ioctl' as const),
        p: pick,
        fd: fdArb,
        req: rawReqArb,
      }),
      weight: 1,
    },
  );

const msgTypeArb = fc.oneof(
  { arbitrary: fc.constantFrom(2, 3), weight: 6 },
  { arbitrary: fc.constantFrom(0, 1, 4, 5, 6, 7, 8), weight: 2 },
  { arbitrary: fc.nat({ max: 255 }), weight: 1 },
);

export const writeArb: fc.Arbitrary<Step> = fc
  .record(
    {
      op: fc.constant('write' as const),
      p: pick,
      fd: fdArb,
      msg: fc.record(
        {
          type: msgTypeArb,
          iova: iovaArb,
          size: sizeArb,
          uaddr: ptrArb,
          perm: fc.oneof(fc.nat({ max: 3 }), fc.nat({ max: 255 })),
          asid: fc.constantFrom(0n, 1n, U32_MAX),
        },
        { requiredKeys: ['type', 'iova', 'size', 'uaddr', 'perm'] },
      ),
      version: fc.constantFrom(1 as const, 2 as const),
      len: fc.oneof(fc.constantFrom(0, 3, 4, 8, 39, 40, 71, 72, 73, 200), fc.nat({ max: 256 })),
      header: fc.oneof(fc.constantFrom(0n, 1n, 2n, 3n), fc.bigInt({ min: 0n, max: U32_MAX })),
    },
    { requiredKeys: ['op', 'p', 'fd', 'msg'] },
  )
  .map((s) => s as Step);

const pokeOff = fc.oneof(
  // desc entries (addr, len, flags, next) of the prefix's rings, avail idx/ring, used idx/ring
  fc
    .tuple(
      fc.constantFrom(0x0n, 0x4000n, 0x8000n),
      fc.nat({ max: 15 }).map(BigInt),
      fc.constantFrom(0n, 8n, 12n, 14n),
    )
    .map(([b, i, f]) => b + 16n * i + f),
  fc
    .tuple(fc.constantFrom(0x1000n, 0x5000n, 0x9000n), fc.nat({ max: 20 }).map(BigInt))
    .map(([b, i]) => b + 2n * i),
  fc.bigInt({ min: 0n, max: 0x10000n }),
);

export const pokeArb: fc.Arbitrary<Step> = fc.record({
  op: fc.constant('poke' as const),
  p: pick,
  map: pick,
  off: pokeOff,
  value: fc.oneof(fc.bigInt({ min: 0n, max: 16n }), fc.constantFrom(44n, 0x10000n, 0x30000n, 0xffffn)),
  width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
});

export type Family = 'vhost' | 'vdpa';

const stepArbOf = (family: Family): fc.Arbitrary<Step> =>
  fc.oneof(
    {
      arbitrary: fc.record(
        {
          op: fc.constant('open' as const),
          p: pick,
          path: fc.constantFrom(...OPEN_PATHS),
          flags: fc.constantFrom(['O_RDONLY'], ['O_WRONLY'], ['O_RDWR', 'O_NONBLOCK']),
        },
        { requiredKeys: ['op', 'p', 'path'] },
      ),
      weight: 5,
    },
    { arbitrary: fc.record({ op: fc.constant('close' as const), p: pick, fd: fdArb }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('fork' as const), p: pick }), weight: 1 },
    { arbitrary: fc.constant({ op: 'spawn' as const }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('exit' as const), p: pick }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('pass' as const), p: pick, fd: fdArb, to: pick }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('eventfd' as const), p: pick }), weight: 3 },
    {
      arbitrary: fc.record({
        op: fc.constant('mmap' as const),
        p: pick,
        size: fc.oneof(
          { arbitrary: fc.constantFrom(0x1000n, 0x10000n, 0x100000n), weight: 20 },
          { arbitrary: fc.constantFrom(0n, 1n, 0x800000000000n, 1n << 63n, U64_MAX), weight: 1 },
        ),
        memfd: fc.boolean(),
      }),
      weight: 1,
    },
    { arbitrary: pokeArb, weight: 4 },
    { arbitrary: ioctlArbOf(family === 'vdpa' ? 10 : 1), weight: 20 },
    { arbitrary: writeArb, weight: 8 },
    {
      arbitrary: fc.record(
        { op: fc.constant('read' as const), p: pick, fd: fdArb, len: fc.constantFrom(0, 8, 71, 72, 100) },
        { requiredKeys: ['op', 'p', 'fd'] },
      ),
      weight: 3,
    },
    { arbitrary: fc.record({ op: fc.constant('poll' as const), p: pick, fd: fdArb }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant('signal' as const), p: pick, fd: fdArb }), weight: 3 },
  );
export const stepArb: fc.Arbitrary<Step> = stepArbOf('vhost');
const vdpaStepArb: fc.Arbitrary<Step> = stepArbOf('vdpa');

const st = (index: bigint, num: bigint): ArgDesc => ({ kind: 'struct', fields: { index, num } });
const io = (req: string, fd: number, arg?: ArgDesc): Step =>
  arg ? { op: 'ioctl', p: 0, fd, req, arg } : { op: 'ioctl', p: 0, fd, req };

/**
 * A device set up as a VMM would (fd 3 the device, map 0 guest memory, fds 4-7 eventfds): rings of
 * 16 at map offsets 0x0/0x1000/0x2000 (vq 0) and 0x4000/0x5000/0x6000 (vq 1), or the same IOVAs
 * when ACCESS_PLATFORM is acked. Random steps after it reach the device's deeper states.
 */
export function setupPrefix(kind: 'vsock' | 'net', features: bigint, iotlb: boolean): Step[] {
  const ring = (i: bigint, base: bigint): Step => {
    const at = (off: bigint): Val => (iotlb ? base + off : { map: 0, off: base + off });
    return io('VHOST_SET_VRING_ADDR', 3, {
      kind: 'struct',
      fields: { index: i, desc_user_addr: at(0n), avail_user_addr: at(0x1000n), used_user_addr: at(0x2000n) },
    });
  };
  const steps: Step[] = [
    { op: 'open', p: 0, path: kind === 'vsock' ? '/dev/vhost-vsock' : '/dev/vhost-net' },
    io('VHOST_SET_OWNER', 3),
    io('VHOST_SET_FEATURES', 3, { kind: 'int', v: features }),
    io('VHOST_SET_BACKEND_FEATURES', 3, { kind: 'int', v: 2n }),
    { op: 'mmap', p: 0, size: 0x100000n, memfd: true },
    io('VHOST_SET_MEM_TABLE', 3, {
      kind: 'mem',
      regions: [{ guest_phys_addr: 0n, memory_size: 0x100000n, userspace_addr: { map: 0, off: 0n } }],
    }),
    { op: 'eventfd', p: 0 },
    { op: 'eventfd', p: 0 },
    { op: 'eventfd', p: 0 },
    { op: 'eventfd', p: 0 },
    io('VHOST_SET_VRING_NUM', 3, st(0n, 16n)),
    io('VHOST_SET_VRING_NUM', 3, st(1n, 16n)),
    ring(0n, 0n),
    ring(1n, 0x4000n),
    io('VHOST_SET_VRING_KICK', 3, { kind: 'struct', fields: { index: 0n, fd: 4n } }),
    io('VHOST_SET_VRING_CALL', 3, { kind: 'struct', fields: { index: 0n, fd: 5n } }),
    io('VHOST_SET_VRING_KICK', 3, { kind: 'struct', fields: { index: 1n, fd: 6n } }),
    io('VHOST_SET_VRING_CALL', 3, { kind: 'struct', fields: { index: 1n, fd: 7n } }),
  ];
  if (iotlb) {
    for (const base of [0n, 0x4000n]) {
      steps.push({
        op: 'write',
        p: 0,
        fd: 3,
        msg: { type: 2, iova: base, size: 0x3000n, uaddr: { map: 0, off: base }, perm: 3 },
      });
    }
  }
  if (kind === 'vsock') steps.push(io('VHOST_VSOCK_SET_RUNNING', 3, { kind: 'int', v: 1n }));
  else {
    steps.push({ op: 'open', p: 0, path: '/dev/net/tun' });
    steps.push(io('TUNSETIFF', 8, { kind: 'ifreq', name: '', flags: IFF_TAP | 0x1000n | 0x4000n }));
    steps.push(io('VHOST_NET_SET_BACKEND', 3, { kind: 'struct', fields: { index: 1n, fd: 8n } }));
  }
  return steps;
}

/**
 * A vhost-vdpa device set up as QEMU's vhost-vdpa backend does (fd 3 /dev/vhost-vdpa-N, map 0 guest
 * memory, fds 4-7 eventfds): backend features (v2 messages, batching, ASIDs, maybe more), features,
 * rings of 16 at IOVAs 0x0/0x1000/0x2000 and 0x4000/0x5000/0x6000 mapped by v2 UPDATEs (in a batch
 * or not), kicks and calls, then the status machine up to DRIVER_OK; for the net device the control
 * queue's group moved to ASID 1 with a mapping of its own.
 */
export function vdpaPrefix(
  dev: 0 | 1,
  backend: bigint,
  features: bigint,
  batch: boolean,
  statuses: readonly bigint[],
  asid1: boolean,
): Step[] {
  const upd = (asid: bigint, iova: bigint, size: bigint): Step => ({
    op: 'write',
    p: 0,
    fd: 3,
    msg: { type: 2, iova, size, uaddr: { map: 0, off: iova }, perm: 3, asid },
  });
  const batchMsg = (type: number): Step => ({
    op: 'write',
    p: 0,
    fd: 3,
    msg: { type, iova: 0n, size: 0n, uaddr: 0n, perm: 0, asid: 0n },
  });
  const steps: Step[] = [
    { op: 'open', p: 0, path: `/dev/vhost-vdpa-${dev}` },
    io('VHOST_SET_OWNER', 3),
    io('VHOST_SET_BACKEND_FEATURES', 3, { kind: 'int', v: backend }),
    io('VHOST_SET_FEATURES', 3, { kind: 'int', v: features }),
    { op: 'mmap', p: 0, size: 0x100000n, memfd: true },
    { op: 'eventfd', p: 0 },
    { op: 'eventfd', p: 0 },
    { op: 'eventfd', p: 0 },
    { op: 'eventfd', p: 0 },
    ...(batch ? [batchMsg(5)] : []),
    upd(0n, 0n, 0x3000n),
    upd(0n, 0x4000n, 0x3000n),
    ...(batch ? [batchMsg(6)] : []),
  ];
  for (const [i, base] of [
    [0n, 0n],
    [1n, 0x4000n],
  ] as const) {
    steps.push(io('VHOST_SET_VRING_NUM', 3, st(i, 16n)));
    steps.push(
      io('VHOST_SET_VRING_ADDR', 3, {
        kind: 'struct',
        fields: {
          index: i,
          desc_user_addr: base,
          avail_user_addr: base + 0x1000n,
          used_user_addr: base + 0x2000n,
        },
      }),
    );
    steps.push(io('VHOST_SET_VRING_KICK', 3, { kind: 'struct', fields: { index: i, fd: 4n + 2n * i } }));
    steps.push(io('VHOST_SET_VRING_CALL', 3, { kind: 'struct', fields: { index: i, fd: 5n + 2n * i } }));
  }
  if (asid1) {
    steps.push(io('VHOST_VDPA_SET_GROUP_ASID', 3, st(1n, 1n)));
    steps.push(upd(1n, 0x8000n, 0x1000n));
  }
  for (const s of statuses) steps.push(io('VHOST_VDPA_SET_STATUS', 3, { kind: 'int', v: s }));
  for (const i of [0n, 1n]) steps.push(io('VHOST_VDPA_SET_VRING_ENABLE', 3, st(i, 1n)));
  return steps;
}

const vdpaPrefixArb: fc.Arbitrary<Step[]> = fc
  .record({
    dev: fc.constantFrom(0 as const, 1 as const),
    backend: fc.constantFrom(0xen, 0x3en, 0x7en, 0x6en, 0x60en, 0x2n),
    features: fc.constantFrom(0x308820028n, 0x308830028n, 0x308007646n, 0x300000000n, 0x100000000n),
    batch: fc.boolean(),
    statuses: fc.constantFrom([1n, 3n, 0xbn, 0xfn], [1n, 3n, 0xbn], [0xfn], [] as bigint[], [
      1n,
      3n,
      0xbn,
      0xfn,
      0n,
    ]),
    asid1: fc.boolean(),
  })
  .map((r) => vdpaPrefix(r.dev, r.backend, r.features, r.batch, r.statuses, r.asid1));

const prefixArb: fc.Arbitrary<Step[]> = fc.oneof(
  { arbitrary: fc.constant([] as Step[]), weight: 2 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom('vsock' as const, 'net' as const), fc.boolean())
      .map(([kind, iotlb]) => setupPrefix(kind, iotlb ? 0x300000000n : 0x100000000n, iotlb)),
    weight: 3,
  },
);

/** A whole case: the profile, then steps (often after a device set-up prefix). */
export interface Case {
  profile: ProfileName;
  steps: Step[];
  /** what the steps were drawn for (counted per family by `npm run fuzz`) */
  family?: Family;
}

/** A case of one family: vhost (vsock, net, tun) or vdpa (vhost-vdpa on vdpa_sim net and blk). */
export function caseArb(maxSteps = 40, family?: Family): fc.Arbitrary<Case> {
  if (family === undefined) return fc.oneof(caseArb(maxSteps, 'vhost'), caseArb(maxSteps, 'vdpa'));
  const pre =
    family === 'vdpa'
      ? fc.oneof({ arbitrary: fc.constant([] as Step[]), weight: 1 }, { arbitrary: vdpaPrefixArb, weight: 4 })
      : prefixArb;
  const step = family === 'vdpa' ? vdpaStepArb : stepArb;
  return fc.record({
    family: fc.constant(family),
    profile: fc.constantFrom(...PROFILES),
    steps: fc
      .tuple(pre, fc.array(step, { minLength: 1, maxLength: maxSteps, size: 'max' }))
      .map(([p, rest]) => [...p, ...rest]),
  });
}

// `vioctl explain NAME`: what vioctl knows about a name, whichever kind it is: an ioctl, an IOTLB
// message type, a feature bit, an errno, a named constant, a kernel profile or a patch. Unknown
// names exit 2 with the nearest known ones. For ioctls and IOTLB types it also runs the check
// catalog (src/cli/explain/): the kernel's checks in order, each answered by the emulated kernel
// on every profile, so what it prints cannot drift from the model.
import { DEFAULT_MACHINE } from '../../kernel/machine.js';
import { FEATURES, makeProfile, PATCHES, type PatchName, profileVersions } from '../../kernel/profile.js';
import { CONSTANTS, PROPOSED_CONSTANTS } from '../../uapi/constants.js';
import { ERRNO_ALIASES, ERRNO_NAMES, errnoInfo, resolveErrnoName } from '../../uapi/errno.js';
import { ALL_IOCTLS, ioctlByName, ioctlsByNumber } from '../../uapi/ioctls.js';
import { FEATURE_ALIASES, FEATURE_BITS, featureBit } from '../../uapi/virtio.js';
import { CATALOG, probesOf } from '../explain/catalog.js';
import { devicesOf } from '../explain/devices.js';
import { rangeText } from '../explain/group.js';
import { type CheckReport, checkLines, checkReports, checksJson, unknownOn } from '../explain/render.js';
import { IOTLB_TYPES, iotlbType } from '../iotlb-text.js';
import { offeredTable } from '../offered.js';
import { suggest } from '../suggest.js';
import { argLines, fdTypesText, hex32, iocLines } from '../uapi-text.js';
import { pausePoints } from './run.js';

type Json = ReturnType<typeof checksJson>;

/** What one kind of name says: the text lines, and for --json the structured part. */
interface Explained {
  readonly kind: string;
  readonly lines: string[];
  readonly data?: Record<string, Json>;
}

export interface ExplainOptions {
  json?: boolean;
  /** restrict the catalog's probes (and the device rows) to this profile */
  kernel?: string;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** The patch whose description names `name` (PATCHES list what each adds). */
function patchNaming(name: string): PatchName | undefined {
  const re = new RegExp(`\\b${name}\\b`);
  return (Object.keys(PATCHES) as PatchName[]).find((p) => re.test(PATCHES[p]));
}

function patchNote(patch: string | undefined): string[] {
  if (!patch) return [];
  return [`proposed   never merged: the kernel knows it only with the patch ${patch} (--patch ${patch})`];
}

function deviceLines(d: NonNullable<ReturnType<typeof ioctlByName>>, kernels: readonly string[]): string[] {
  const rows = devicesOf(d);
  const w = Math.max(...rows.map((r) => r.fd.length));
  return rows.map((r, i) => {
    const on = r.kernels.filter((k) => kernels.includes(k));
    const when = r.kernels.length
      ? `  ${on.length ? `on ${rangeText(on, r.modelled)}` : 'not on this profile'}`
      : '';
    return `${i ? '          ' : 'devices   '} ${r.fd.padEnd(w)}  ${r.node}${when}`;
  });
}

function explainIoctl(name: string, kernels: readonly string[]): Explained | undefined {
  const d = ioctlByName(name);
  if (!d) return undefined;
  const shared = ioctlsByNumber(d.number).filter((o) => o.name !== d.name);
  const reports = checkReports(probesOf(d.name), kernels);
  return {
    kind: 'ioctl',
    lines: [
      `${d.name}  ioctl ${hex32(d.number)}`,
      ...iocLines(d.number),
      `fd type    ${fdTypesText(d)}`,
      ...deviceLines(d, kernels),
      ...argLines(d),
      ...(shared.length
        ? [`shares its number with: ${shared.map((o) => `${o.name} (${o.family})`).join(', ')}`]
        : []),
      ...patchNote(d.proposed),
      ...checkLines(reports, kernels),
    ],
    data: {
      number: hex32(d.number),
      family: d.family,
      devices: devicesOf(d).map((r) => ({
        fd: r.fd,
        node: r.node,
        kernels: r.kernels.filter((k) => kernels.includes(k)),
      })),
      unknown: unknownOn(reports),
      checks: checksJson(reports),
    },
  };
}

function explainIotlb(name: string, kernels: readonly string[]): Explained | undefined {
  const t = iotlbType(name);
  if (!t) return undefined;
  const reports = checkReports(probesOf(t.constant), kernels);
  return {
    kind: 'iotlb',
    lines: [
      `${t.constant}  IOTLB message type ${t.value} (struct vhost_iotlb_msg.type)`,
      `direction  ${t.direction}`,
      `meaning    ${t.meaning}`,
      ...patchNote(PROPOSED_CONSTANTS.has(t.constant) ? patchNaming(t.constant) : undefined),
      ...(reports.length
        ? [
            "write()    returns the parser's errno as is, and EFAULT for every handler error (the site names the handler's)",
          ]
        : []),
      ...checkLines(reports, kernels),
    ],
    data: { value: t.value, unknown: unknownOn(reports), checks: checksJson(reports) },
  };
}

function offeredLines(bit: number, backend: boolean): string[] {
  if (bit > 63) return ['offered    (a bit above 63: only VHOST_GET_FEATURES_ARRAY carries it)'];
  const mask = 1n << BigInt(bit);
  const byNode = new Map<string, { yes: string[]; no: string[] }>();
  for (const o of offeredTable()) {
    const v = backend ? o.backend : o.features;
    const e = byNode.get(o.node) ?? { yes: [], no: [] };
    byNode.set(o.node, e);
    (v !== null && (v & mask) !== 0n ? e.yes : e.no).push(o.kernel);
  }
  const call = backend ? 'VHOST_GET_BACKEND_FEATURES' : 'VHOST_GET_FEATURES';
  const out = [`offered    by ${call} of each device, per profile (as vioctl models them):`];
  for (const [node, e] of byNode) {
    const yes = e.yes.length ? e.yes.join(', ') : 'none';
    out.push(
      `  ${node.padEnd(18)} ${yes}${e.yes.length && e.no.length ? `  (not: ${e.no.join(', ')})` : ''}`,
    );
  }
  if (byNode.size === 0) out.push('  (no device modelled yet)');
  return out;
}

function explainFeature(name: string): string[] | undefined {
  const f = featureBit(name);
  if (!f) return undefined;
  const aliases = Object.entries(FEATURE_ALIASES)
    .filter(([, to]) => to === f.name)
    .map(([a]) => a);
  // Transport and vhost bits share each device's feature word; device families are separate words
  // and backend bits a space of their own, so only those overlaps are real.
  const shared = (x: string) => x === 'transport' || x === 'vhost';
  const sameBit = FEATURE_BITS.filter(
    (o) =>
      o.bit === f.bit &&
      o.name !== f.name &&
      o.family !== 'backend' &&
      f.family !== 'backend' &&
      (shared(o.family) || shared(f.family)),
  );
  return [
    `${f.name}  feature bit ${f.bit} (${f.family}), mask ${hex(1n << BigInt(f.bit))}`,
    ...(name !== f.name ? [`alias      ${name} is the old name of ${f.name}`] : []),
    ...(aliases.length ? [`aliases    ${aliases.join(', ')}`] : []),
    `values     in a scenario the name stands for the mask, 1 << ${f.bit} (the headers define the bit number)`,
    ...(sameBit.length ? [`same bit   ${sameBit.map((o) => `${o.name} (${o.family})`).join(', ')}`] : []),
    ...patchNote(f.proposed ? patchNaming(f.name) : undefined),
    ...(f.family === 'blk' ? [] : offeredLines(f.bit, f.family === 'backend')),
  ];
}

/** Every catalog check whose call fails with `errno`, or whose handler's errno it is (write()'s EFAULT). */
function errnoChecks(errno: string, kernels: readonly string[]): { reports: CheckReport[]; lines: string[] } {
  const reports = checkReports(CATALOG, kernels);
  const lines: string[] = [];
  const hits: CheckReport[] = [];
  for (const r of reports) {
    const on = r.answers.filter(
      ({ answer: a }) => a.kind === 'call' && !a.unknown && (a.errno === errno || a.site?.errno === errno),
    );
    if (!on.length) continue;
    hits.push({ probe: r.probe, answers: on });
    const inner = on.some(({ answer: a }) => a.kind === 'call' && a.errno !== errno)
      ? " (the handler's; write() gives EFAULT)"
      : '';
    const among = r.answers
      .filter((a) => !(a.answer.kind === 'absent' && a.answer.family))
      .map((a) => a.kernel);
    lines.push(
      `  ${r.probe.target}: ${r.probe.title}  ${rangeText(
        on.map((a) => a.kernel),
        among,
      )}${inner}`,
    );
  }
  if (!lines.length) return { reports: hits, lines: ['checks     no check of the catalog gives it'] };
  return {
    reports: hits,
    lines: [
      `checks     ${lines.length} checks of the catalog give it (vioctl explain TARGET shows each in its order):`,
      ...lines,
    ],
  };
}

function explainErrno(name: string, kernels: readonly string[]): Explained | undefined {
  const canonical = resolveErrnoName(name);
  if (!canonical) return undefined;
  const e = errnoInfo(canonical);
  const aliases = Object.entries(ERRNO_ALIASES)
    .filter(([, to]) => to === e.name)
    .map(([a]) => a);
  const checks = errnoChecks(e.name, kernels);
  return {
    kind: 'errno',
    lines: [
      `${e.name}  errno ${e.num}: ${e.text}`,
      ...(name !== e.name ? [`alias      ${name} is ${e.name} on Linux`] : []),
      ...(aliases.length ? [`aliases    ${aliases.join(', ')}`] : []),
      ...(e.num >= 512
        ? ['note       kernel-internal (include/linux/errno.h): it should never reach userspace']
        : []),
      ...checks.lines,
    ],
    data: { number: e.num, checks: checksJson(checks.reports) },
  };
}

function explainConstant(name: string): string[] | undefined {
  const v = CONSTANTS.get(name);
  if (v === undefined) return undefined;
  return [
    `${name}  constant ${v < 0n ? v.toString() : `${hex(v)} (${v})`}`,
    'values     stands for itself in scenario values and expectations',
    ...patchNote(PROPOSED_CONSTANTS.has(name) ? patchNaming(name) : undefined),
  ];
}

/** Profiles a patch may be applied to, found by asking makeProfile. */
function patchProfiles(p: string): string[] {
  return profileVersions().filter((v) => typeof makeProfile(v, [p]) !== 'string');
}

export function profileLines(version: string): string[] | undefined {
  const prof = makeProfile(version, []);
  if (typeof prof === 'string') return undefined;
  const features = (Object.keys(FEATURES) as (keyof typeof FEATURES)[]).filter((f) => prof.has(f));
  const patches = (Object.keys(PATCHES) as PatchName[]).filter((p) => patchProfiles(p).includes(version));
  return [
    `kernel profile "${version}": ${prof.description}`,
    `families   ${[...prof.families].join(', ')}`,
    `features   ${features.length ? `${features.length} named behaviours:` : 'none of the named behaviours'}`,
    ...features.map((f) => `  ${f}: ${FEATURES[f]}`),
    `patches    ${patches.length ? patches.join(', ') : 'none can be applied (patches are based on 6.10)'}`,
  ];
}

function explainPatch(name: string): string[] | undefined {
  if (!Object.hasOwn(PATCHES, name)) return undefined;
  const p = name as PatchName;
  const adds = [
    ...ALL_IOCTLS.filter((d) => d.proposed === p).map((d) => `ioctl ${d.name}`),
    ...[...PROPOSED_CONSTANTS].filter((c) => patchNaming(c) === p).map((c) => `message type ${c}`),
    ...FEATURE_BITS.filter((f) => f.proposed && patchNaming(f.name) === p).map(
      (f) => `backend bit ${f.name}`,
    ),
  ];
  return [
    `patch ${p}: ${PATCHES[p]}`,
    `adds       ${adds.join(', ') || '(see the description)'}`,
    `profiles   ${patchProfiles(p).join(', ')} (opt in with patches: [${p}] or --patch ${p})`,
    'without it the kernel treats those names as the unknown ioctl, message type or bit they are',
  ];
}

/** The pause points of a vfio-pci driver unbind, per profile, in the order the release passes them. */
function pointsByProfile(): Map<string, readonly string[]> {
  const m = new Map<string, readonly string[]>();
  for (const v of profileVersions()) {
    const p = makeProfile(v, []);
    if (typeof p !== 'string' && p.models('vfio')) m.set(v, pausePoints(p, DEFAULT_MACHINE));
  }
  return m;
}

function explainPoint(name: string): string[] | undefined {
  const all = pointsByProfile();
  const lines: string[] = [];
  for (const [v, pts] of all) if (pts.includes(name)) lines.push(`  ${v.padEnd(6)} ${pts.join(' → ')}`);
  if (!lines.length) return undefined;
  return [
    `${name}  pause point of a vfio-pci driver unbind (sysfs unbind, remove, or the unbind: and bind: steps)`,
    'usage      pause_at: on that step, as: names the task, resume: continues it (scenario.md, "Races")',
    'profiles   the points each release passes, in order:',
    ...lines,
  ];
}

/** Kinds without catalog checks: their text alone. */
const plain =
  (kind: string, f: (name: string) => string[] | undefined) =>
  (name: string): Explained | undefined => {
    const lines = f(name);
    return lines ? { kind, lines } : undefined;
  };

const KINDS: readonly ((name: string, kernels: readonly string[]) => Explained | undefined)[] = [
  explainIoctl,
  explainIotlb,
  plain('feature', explainFeature),
  explainErrno,
  plain('constant', explainConstant),
  plain('profile', profileLines),
  plain('patch', explainPatch),
  plain('pause-point', explainPoint),
];

export function knownNames(): string[] {
  return [
    ...ALL_IOCTLS.map((d) => d.name),
    ...IOTLB_TYPES.map((t) => t.short),
    ...FEATURE_BITS.map((f) => f.name),
    ...Object.keys(FEATURE_ALIASES),
    ...ERRNO_NAMES,
    ...Object.keys(ERRNO_ALIASES),
    ...CONSTANTS.keys(),
    ...profileVersions(),
    ...Object.keys(PATCHES),
    ...new Set([...pointsByProfile().values()].flat()),
  ];
}

export function explainCommand(name: string, opts: ExplainOptions = {}): number {
  let kernels = profileVersions();
  if (opts.kernel !== undefined) {
    if (!kernels.includes(opts.kernel)) {
      process.stderr.write(`error: unknown kernel profile "${opts.kernel}" (known: ${kernels.join(', ')})\n`);
      return 2;
    }
    kernels = [opts.kernel];
  }
  for (const n of new Set([name, name.toUpperCase()])) {
    for (const kind of KINDS) {
      const r = kind(n, kernels);
      if (r) {
        const out = opts.json
          ? JSON.stringify({ name: n, kind: r.kind, text: r.lines, ...r.data }, null, 2)
          : r.lines.join('\n');
        process.stdout.write(`${out}\n`);
        return 0;
      }
    }
  }
  const near = suggest(name, knownNames());
  const hint = near.length ? ` (did you mean: ${near.join(', ')}?)` : '';
  process.stderr.write(`error: unknown name "${name}"${hint}\n`);
  return 2;
}

// How explain prints the catalog's answers: per check, the profiles grouped by identical answer;
// per target, where it is unknown and where its family is not modelled. Also the JSON shape.
import type { Site } from '../../kernel/result.js';
import { groupAnswers, rangeText } from './group.js';
import { type Probe, probeFunctions } from './probe.js';
import { type Answer, type ProfileAnswer, runProbe } from './run-probe.js';

export interface CheckReport {
  readonly probe: Probe;
  readonly answers: readonly ProfileAnswer[];
}

/** Runs every probe of a target on the profiles asked for. */
export function checkReports(probes: readonly Probe[], kernels: readonly string[]): CheckReport[] {
  return probes.map((probe) => ({ probe, answers: runProbe(probe, kernels) }));
}

const familyAbsent = (a: Answer): boolean => a.kind === 'absent' && a.family;

function siteText(errno: string | null, site: Site): string {
  const inner = site.errno !== errno ? ` (the handler's ${site.errno})` : '';
  return `${inner} at ${site.function}: ${site.check}`;
}

export function answerText(a: Answer): string {
  switch (a.kind) {
    case 'absent':
      return `not run: ${a.reason}`;
    case 'unreached':
      return `not reached: setup step ${a.step} (${a.call}) gives ${a.errno}`;
    case 'call':
      if (a.errno === null) return `${a.ret} (the check passes or does not exist)`;
      return `${a.errno}${a.site ? siteText(a.errno, a.site) : ''}${a.unknown ? '  [unknown here]' : ''}`;
  }
}

/** Profiles on which some probe of the target met the kernel's unknown-ioctl (or -type) branch. */
export function unknownOn(reports: readonly CheckReport[]): string[] {
  const s = new Set<string>();
  for (const r of reports)
    for (const a of r.answers) if (a.answer.kind === 'call' && a.answer.unknown) s.add(a.kernel);
  return [...s];
}

/** The device the probe opens first, named in its line. */
function firstNode(p: Probe): string | undefined {
  for (const s of p.steps) {
    const m = /\{open: ([^,}]+)/.exec(s);
    if (m) return m[1]!.trim();
  }
  return undefined;
}

export function checkLines(reports: readonly CheckReport[], kernels: readonly string[]): string[] {
  if (!reports.length) return [];
  const out = [
    "checks     in the kernel's order, each one probe run on every profile (vioctl run gives the same):",
  ];
  const notModelled = new Map<string, string>();
  reports.forEach((r, i) => {
    const fns = probeFunctions(r.probe).join(' / ');
    const node = firstNode(r.probe);
    out.push(`  ${i + 1}. ${r.probe.title}  [${fns}${node ? `; on ${node}` : ''}]`);
    const shown = r.answers.filter((a) => {
      if (a.answer.kind === 'absent' && a.answer.family) notModelled.set(a.kernel, a.answer.reason);
      return !familyAbsent(a.answer);
    });
    const among = kernels.filter((k) => shown.some((a) => a.kernel === k));
    const groups = groupAnswers(shown);
    const texts = groups.map((g) => rangeText(g.kernels, among));
    const w = Math.max(0, ...texts.map((t) => t.length));
    groups.forEach((g, j) => {
      out.push(`       ${texts[j]!.padEnd(w)}  ${answerText(g.answer)}`);
    });
  });
  const unknown = unknownOn(reports);
  if (unknown.length) {
    out.push(
      `unknown    on ${unknown.join(', ')}: the kernel handles it as a request it does not know ([unknown here])`,
    );
  }
  if (notModelled.size) {
    const reasons = [...new Set(notModelled.values())].join('; ');
    out.push(`not run    on ${[...notModelled.keys()].join(', ')}: ${reasons}`);
  }
  return out;
}

// ---- JSON (a CI user pins it: fields are added, never renamed)

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function answerJson(a: Answer): { [k: string]: Json } {
  switch (a.kind) {
    case 'absent':
      return { result: 'absent', reason: a.reason };
    case 'unreached':
      return { result: 'unreached', step: a.step, call: a.call, errno: a.errno };
    case 'call':
      return {
        result: 'call',
        ret: typeof a.ret === 'bigint' ? `0x${a.ret.toString(16)}` : a.ret,
        errno: a.errno,
        ...(a.site ? { site: { function: a.site.function, check: a.site.check, errno: a.site.errno } } : {}),
        unknown: a.unknown,
      };
  }
}

export function checksJson(reports: readonly CheckReport[]): Json {
  return reports.map((r) => ({
    target: r.probe.target,
    title: r.probe.title,
    functions: [...probeFunctions(r.probe)],
    ...(r.probe.patches ? { patches: [...r.probe.patches] } : {}),
    answers: groupAnswers(r.answers).map((g) => ({ kernels: [...g.kernels], ...answerJson(g.answer) })),
  }));
}

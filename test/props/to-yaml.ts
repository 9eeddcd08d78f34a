// Writes the steps a fuzz case ran as a scenario file (scenario.md) that `vioctl run` replays with
// the same kernel calls: fds as numbers, mappings and eventfds by name, 64-bit values in hex.
import { type ProfileName, profileOf } from './arbitraries.js';
import type { Ran } from './model.js';

const PLAIN = /^(?:[A-Z][A-Z0-9_]*|\/[A-Za-z0-9_/.-]*|[a-z][a-z0-9]*)$/;
const RESERVED = /^(?:y|n|yes|no|on|off|true|false|null|~)$/i;

export function scalar(v: unknown): string {
  if (typeof v === 'bigint') return v < 0n ? v.toString() : v < 10n ? v.toString() : `0x${v.toString(16)}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return PLAIN.test(v) && !RESERVED.test(v) ? v : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(scalar).join(', ')}]`;
  if (v && typeof v === 'object') {
    return `{ ${Object.entries(v)
      .map(([k, x]) => `${k}: ${scalar(x)}`)
      .join(', ')} }`;
  }
  return 'null';
}

/** One scenario document; `note` goes on the last step (the one after which the invariant broke). */
export function toScenarioYaml(
  profile: ProfileName,
  ran: readonly Ran[],
  opts: { name?: string; description?: string; note?: string } = {},
): string {
  const pp = profileOf(profile);
  const lines = [
    `name: ${JSON.stringify(opts.name ?? 'fuzz counterexample')}`,
    ...(opts.description ? [`description: ${JSON.stringify(opts.description)}`] : []),
    `kernel: "${pp.kernel}"`,
    ...(pp.patches.length ? [`patches: [${pp.patches.join(', ')}]`] : []),
    ran.length ? 'steps:' : 'steps: []',
  ];
  ran.forEach((r, i) => {
    const entries = Object.entries(r.yaml);
    // the action key first, then process, then the rest
    const [first, ...rest] = entries;
    if (!first) return;
    lines.push(`  - ${first[0]}: ${scalar(first[1])}`);
    const exitsItself = first[0] === 'exit';
    if (r.proc !== 'main' || exitsItself) lines.push(`    process: ${r.proc}`);
    for (const [k, v] of rest) lines.push(`    ${k}: ${scalar(v)}`);
    if (opts.note && i === ran.length - 1) lines.push(`    note: ${JSON.stringify(opts.note)}`);
  });
  return `${lines.join('\n')}\n`;
}

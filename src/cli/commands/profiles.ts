// `vioctl profiles`: the kernel profiles in release order with what each changes against the one
// before it, the opt-in patches, and what every named behaviour is. All read from
// src/kernel/profile.ts, so a new profile or feature shows up here by itself.
import {
  DEFAULT_PROFILE,
  FEATURES,
  makeProfile,
  PATCHES,
  type PatchName,
  type ProfileFeature,
  profileVersions,
} from '../../kernel/profile.js';

interface ProfileInfo {
  version: string;
  description: string;
  default: boolean;
  families: string[];
  features: ProfileFeature[];
  patches: PatchName[];
}

export function profileInfos(): ProfileInfo[] {
  const names = Object.keys(FEATURES) as ProfileFeature[];
  const patches = Object.keys(PATCHES) as PatchName[];
  return profileVersions().map((version) => {
    const p = makeProfile(version, []);
    if (typeof p === 'string') throw new Error(`internal: ${p}`);
    return {
      version,
      description: p.description,
      default: version === DEFAULT_PROFILE,
      families: [...p.families],
      features: names.filter((f) => p.has(f)),
      patches: patches.filter((x) => typeof makeProfile(version, [x]) !== 'string'),
    };
  });
}

const minus = <T>(a: readonly T[], b: readonly T[]): T[] => a.filter((x) => !b.includes(x));

function text(infos: readonly ProfileInfo[]): string {
  const out = ['kernel profiles (kernel: "X.Y" in a scenario, or --kernel X.Y):'];
  let prev: ProfileInfo | undefined;
  for (const p of infos) {
    out.push(`  ${p.version.padEnd(6)} ${p.description}${p.default ? '  [default]' : ''}`);
    const fam = prev
      ? [
          ...minus(p.families, prev.families).map((f) => `+${f}`),
          ...minus(prev.families, p.families).map((f) => `-${f}`),
        ]
      : p.families;
    if (!prev || fam.length) out.push(`         families: ${prev ? fam.join(' ') : fam.join(', ')}`);
    const changes = prev
      ? [
          ...minus(p.features, prev.features).map((f) => `+${f}`),
          ...minus(prev.features, p.features).map((f) => `-${f}`),
        ]
      : p.features.map((f) => `+${f}`);
    out.push(
      `         ${prev ? `vs ${prev.version}` : 'has'}: ${changes.length ? changes.join(' ') : 'no change in the named behaviours'}`,
    );
    prev = p;
  }
  out.push('', 'patches (proposed uAPI that never merged; patches: [NAME] or --patch NAME):');
  for (const name of Object.keys(PATCHES) as PatchName[]) {
    const on = infos.filter((p) => p.patches.includes(name)).map((p) => p.version);
    out.push(`  ${name}`, `    ${PATCHES[name]}`, `    applies to: ${on.join(', ') || 'none'}`);
  }
  out.push('', 'named behaviours:');
  for (const [name, doc] of Object.entries(FEATURES)) out.push(`  ${name}`, `    ${doc}`);
  return out.join('\n') + '\n';
}

export function profilesCommand(opts: { json?: boolean }): number {
  const infos = profileInfos();
  if (opts.json) {
    const patches = (Object.keys(PATCHES) as PatchName[]).map((name) => ({
      name,
      description: PATCHES[name],
      profiles: infos.filter((p) => p.patches.includes(name)).map((p) => p.version),
    }));
    process.stdout.write(JSON.stringify({ profiles: infos, patches, features: FEATURES }, null, 2) + '\n');
  } else {
    process.stdout.write(text(infos));
  }
  return 0;
}

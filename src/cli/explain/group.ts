// Profiles with the same answer, grouped and named as ranges ("5.10–6.1", "6.6+"), so explain
// shows how a check changed across releases without one line per profile.
import { profileVersions } from '../../kernel/profile.js';
import type { Answer, ProfileAnswer } from './run-probe.js';

export interface AnswerGroup {
  readonly kernels: readonly string[];
  readonly answer: Answer;
}

/** What makes two answers the same to a reader: everything but nothing (ret, errno, site, reason). */
function key(a: Answer): string {
  return JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** Answers grouped by equality, in the order of each group's first profile. */
export function groupAnswers(answers: readonly ProfileAnswer[]): AnswerGroup[] {
  const byKey = new Map<string, { kernels: string[]; answer: Answer }>();
  for (const { kernel, answer } of answers) {
    const k = key(answer);
    const g = byKey.get(k);
    if (g) g.kernels.push(kernel);
    else byKey.set(k, { kernels: [kernel], answer });
  }
  return [...byKey.values()];
}

/** A release profile ("6.12"), not a build of one ("6.12-iommufd-vfio-container"). */
const isRelease = (k: string) => /^\d+\.\d+$/.test(k);

/**
 * "5.10–6.1, 6.9": runs of release profiles adjacent in `among` joined by a dash; a run that reaches
 * the newest release vioctl knows ends in "+" (the answer holds for every newer release modelled).
 * Build profiles (a release with a config option) follow by name: they are no step in the sequence.
 */
export function rangeText(kernels: readonly string[], among: readonly string[]): string {
  const releases = profileVersions().filter(isRelease);
  const newest = releases[releases.length - 1];
  const line = among.filter(isRelease);
  const idx = kernels
    .filter(isRelease)
    .map((k) => line.indexOf(k))
    .sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1] === idx[j]! + 1) j++;
    const first = line[idx[i]!]!;
    const last = line[idx[j]!]!;
    if (last === newest && j > i) parts.push(`${first}+`);
    else if (j === i) parts.push(first);
    else parts.push(`${first}–${last}`);
    i = j + 1;
  }
  for (const k of among) if (!isRelease(k) && kernels.includes(k)) parts.push(k);
  return parts.join(', ');
}

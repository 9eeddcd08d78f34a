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

/**
 * "5.10–6.1, 6.9": runs of profiles adjacent in `among` joined by a dash; a run that reaches the
 * newest profile vioctl knows ends in "+" (the answer holds for every newer profile modelled).
 */
export function rangeText(kernels: readonly string[], among: readonly string[]): string {
  const all = profileVersions();
  const newest = all[all.length - 1];
  const idx = kernels.map((k) => among.indexOf(k)).sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1] === idx[j]! + 1) j++;
    const first = among[idx[i]!]!;
    const last = among[idx[j]!]!;
    if (last === newest && j > i) parts.push(`${first}+`);
    else if (j === i) parts.push(first);
    else parts.push(`${first}–${last}`);
    i = j + 1;
  }
  return parts.join(', ');
}

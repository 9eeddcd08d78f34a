// Types of dep-patches.mjs for the tests that import it.
import type { Plugin } from 'esbuild';

export interface DepPatch {
  file: RegExp;
  name: string;
  find: string;
  replace: string;
}
export const depPatches: DepPatch[];
export function applyDepPatches(path: string, text: string): string;
export function depPatchPlugin(): Plugin;

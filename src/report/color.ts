// The one colour decision of a run (style-and-deps.md §B12): chalk ignores NO_COLOR and cli-table3
// colours even pipes, so nothing else may decide. The level is made here and passed down as a chalk.
import { Chalk, type ChalkInstance } from 'chalk';

export type ColorLevel = 0 | 1 | 2 | 3;

/**
 * --json → 0 (stdout is data); --no-color → 0; --color → at least 1 (FORCE_COLOR=2/3 may raise it);
 * else NO_COLOR (non-empty) → 0, FORCE_COLOR → its level; else 1 on a TTY, 0 otherwise.
 */
export function colorLevel(
  opts: { color?: boolean; json?: boolean },
  env: NodeJS.ProcessEnv,
  isTTY: boolean,
): ColorLevel {
  if (opts.json) return 0;
  if (opts.color === false) return 0;
  const forced = forceColor(env.FORCE_COLOR);
  if (opts.color === true) return forced !== undefined && forced > 1 ? forced : 1;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (forced !== undefined) return forced;
  return isTTY ? 1 : 0;
}

/** FORCE_COLOR as supports-color reads it: '' and 'true' → 1, 'false' → 0, N → N capped at 3. */
function forceColor(v: string | undefined): ColorLevel | undefined {
  if (v === undefined) return undefined;
  if (v === '' || v === 'true') return 1;
  if (v === 'false') return 0;
  if (!/^\d+$/.test(v)) return undefined;
  return Math.min(Number(v), 3) as ColorLevel;
}

export function makeChalk(level: ColorLevel): ChalkInstance {
  return new Chalk({ level });
}

// `vioctl import-strace LOG [-o FILE] [--kernel X] [--patch P]... [--name NAME]`: an strace log of a VMM → a
// scenario file (src/cli/strace/). Exit 0 when written, 2 when the log cannot be read.
import { readFileSync, writeFileSync } from 'node:fs';
import { importStrace } from '../strace/importer.js';

export interface ImportStraceOptions {
  output?: string;
  kernel?: string;
  name?: string;
  patch?: string[];
}

export function importStraceCommand(log: string, opts: ImportStraceOptions): number {
  let text: string;
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    process.stderr.write(`${log}:1:1: cannot read the file\n`);
    return 2;
  }
  if (text.includes('\0')) {
    process.stderr.write(`${log}:1:1: not a text file: expected strace's output\n`);
    return 2;
  }
  const { yaml, stats } = importStrace(text, {
    file: log,
    ...(opts.kernel !== undefined ? { kernel: opts.kernel } : {}),
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    ...(opts.patch?.length ? { patches: opts.patch } : {}),
  });
  const summary =
    `${log}: ${stats.lines} lines, ${stats.steps} as steps, ${stats.folded} folded, ` +
    `${stats.comments} kept as comments\n`;
  if (opts.output === undefined) {
    process.stdout.write(yaml);
    return 0;
  }
  try {
    writeFileSync(opts.output, yaml);
  } catch {
    process.stderr.write(`${opts.output}: cannot write the file\n`);
    return 2;
  }
  process.stderr.write(summary);
  return 0;
}

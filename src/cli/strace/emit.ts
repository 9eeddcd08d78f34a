// Writes the imported scenario as YAML text by hand: steps in block style with flow-style
// arguments (as the seed stories are written), and the log's unknown lines as `#` comments in
// place, which a YAML library's document model would not keep where they belong.

/** A value of the scenario: bigints print as numbers (hex from 0x10000 up), strings plain or quoted. */
export type YVal = bigint | number | boolean | string | YVal[] | { [k: string]: YVal };

export type Item = { kind: 'step'; step: Record<string, YVal> } | { kind: 'comment'; text: string };

const PLAIN = /^[A-Za-z_$/][A-Za-z0-9_$./-]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|y|n|~)$/i;

/** A double-quoted scalar in printable ASCII: the loader refuses control characters in the text. */
function quote(s: string): string {
  return JSON.stringify(s).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function scalar(v: YVal): string {
  if (typeof v === 'bigint') return v >= 0x10000n ? `0x${v.toString(16)}` : v.toString();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return PLAIN.test(v) && !RESERVED.test(v) ? v : quote(v);
  if (Array.isArray(v)) return `[${v.map(scalar).join(', ')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${k}: ${scalar(x)}`)
    .join(', ')}}`;
}

/** Comment text on one line of printable characters (the log is not trusted to be either). */
export function commentText(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return s.replace(/[\u0000-\u001f\u007f\u0080-\u009f\u2028\u2029\ufeff]/g, '?');
}

export function emitScenario(head: string[], top: Record<string, YVal>, items: readonly Item[]): string {
  const out = head.map((h) => `# ${commentText(h)}`.trimEnd());
  for (const [k, v] of Object.entries(top)) out.push(`${k}: ${scalar(v)}`);
  out.push('steps:');
  let steps = 0;
  for (const it of items) {
    if (it.kind === 'comment') {
      out.push(`  # ${commentText(it.text)}`.trimEnd());
      continue;
    }
    steps++;
    Object.entries(it.step).forEach(([k, v], i) => {
      out.push(`${i === 0 ? '  - ' : '    '}${k}: ${scalar(v)}`);
    });
  }
  // a log with no call vioctl models still gives a loadable scenario
  if (steps === 0) out.push('  - inspect: fds', '    note: the log held no call vioctl models');
  return `${out.join('\n')}\n`;
}

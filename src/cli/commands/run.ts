export async function runCommand(paths: string[], _opts: Record<string, unknown>): Promise<number> {
  process.stderr.write(`vioctl run: not yet implemented (${paths.join(' ')})\n`);
  return 2;
}

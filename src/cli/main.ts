// The vioctl command-line program. Command bodies are loaded lazily so that the
// common `run` path pays only for what it uses.
import { Command, CommanderError } from 'commander';

const program = new Command();
program
  .name('vioctl')
  .description(
    'Runs virtualization ioctl scenarios against an emulated Linux kernel, answering as the real kernel would',
  )
  .version('0.1.0')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program
  .command('run')
  .description('run scenario files (or folders of them) and print each call and the resulting state')
  .argument('<paths...>', 'scenario YAML files or folders')
  .option('--json', 'print the result as the JSON contract')
  .option('--kernel <version>', 'run every scenario on this kernel profile')
  .option(
    '--patch <name>',
    'opt in to a proposed patch (repeatable)',
    (v: string, acc: string[]) => [...acc, v],
    [],
  )
  .option('--color', 'force colour')
  .option('--no-color', 'no colour')
  .option('--all-steps', 'print every step of a long run')
  .action(async (paths: string[], opts) => {
    const { runCommand } = await import('./commands/run.js');
    process.exitCode = await runCommand(paths, opts);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    throw e;
  }
}

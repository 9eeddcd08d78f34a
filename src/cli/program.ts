// The vioctl program: every command, each body loaded lazily so that the common
// `run` path pays only for what it uses. main.ts (the ESM bundle) and snapshot.ts
// (the V8 startup snapshot) both start it.
import { Command, CommanderError } from 'commander';

const collect = (v: string, acc: string[]) => [...acc, v];

export function buildProgram(): Command {
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
    .option('--patch <name>', 'opt in to a proposed patch (repeatable)', collect, [])
    .option(
      '--fail-nth <n>',
      'fault injection: the Nth allocation or user copy of each run fails (overrides fail_nth:)',
    )
    .option('--color', 'force colour')
    .option('--no-color', 'no colour')
    .option('--all-steps', 'print every step of a long run')
    .action(async (paths: string[], opts) => {
      const { runCommand } = await import('./commands/run.js');
      process.exitCode = await runCommand(paths, opts);
    });

  program
    .command('test')
    .description('run every scenario of a suite: one line each, a summary, JUnit or JSON for CI')
    .argument(
      '[paths...]',
      'scenario YAML files or folders (default: fixtures/, without bad-input and hostile)',
    )
    .option('--reporter <name>', 'text, junit or json', 'text')
    .option('--kernel <version>', 'run every scenario on this kernel profile')
    .option('--patch <name>', 'opt in to a proposed patch (repeatable)', collect, [])
    .option(
      '--fail-nth <n>',
      'fault injection: the Nth allocation or user copy of each run fails (overrides fail_nth:)',
    )
    .option('--shard <i/n>', 'run only shard I of N (files dealt round-robin in sorted order)')
    .option('--bail', 'stop after the first scenario that fails')
    .option('--jobs <n>', 'worker threads (default: auto, parallel only past 200 files)')
    .option('--color', 'force colour')
    .option('--no-color', 'no colour')
    .action(async (paths: string[], opts) => {
      const { testCommand } = await import('./commands/test.js');
      process.exitCode = await testCommand(paths, opts);
    });

  program
    .command('diff')
    .description('run a scenario file under two kernel profiles and print what changed, step by step')
    .argument('<file>', 'a scenario YAML file')
    .option('--kernel <version>', 'a side: give it twice (A, then B)', collect, [])
    .option('--patch <name>', 'apply this patch on side B (repeatable)', collect, [])
    .option('--color', 'force colour')
    .option('--no-color', 'no colour')
    .action(async (file: string, opts) => {
      const { diffCommand } = await import('./commands/diff.js');
      process.exitCode = await diffCommand(file, opts);
    });

  program
    .command('explain')
    .description('explain an ioctl, IOTLB message type, feature bit, errno, constant, profile or patch')
    .argument('<name>', 'e.g. VHOST_SET_FEATURES, UPDATE, VIRTIO_F_ACCESS_PLATFORM, EFAULT, 6.1')
    .option('--json', 'one JSON document: the text lines and, for ioctls, IOTLB types and errnos, the checks')
    .option('--kernel <version>', "only this profile's answers to the checks")
    .action(async (name: string, opts) => {
      const { explainCommand } = await import('./commands/explain.js');
      process.exitCode = explainCommand(name, opts);
    });

  program
    .command('decode')
    .description('name a raw ioctl number and decode its _IOC fields, or decode a vhost message')
    .argument('<value>', 'an ioctl request number (0x4008af00), or with --iotlb the message bytes in hex')
    .option('--fd <type>', 'only ioctls of this fd type (vhost-vdpa, vfio-container, vfio-device, ...)')
    .option('--iotlb', 'decode VALUE as a 72-byte struct vhost_msg / vhost_msg_v2')
    .action(async (value: string, opts) => {
      const { decodeCommand } = await import('./commands/decode.js');
      process.exitCode = decodeCommand(value, opts);
    });

  program
    .command('profiles')
    .description('list the kernel profiles and opt-in patches, with what each changes')
    .option('--json', 'print them as JSON')
    .action(async (opts) => {
      const { profilesCommand } = await import('./commands/profiles.js');
      process.exitCode = profilesCommand(opts);
    });

  program
    .command('schema')
    .description('print the JSON Schema (draft 2020-12) of scenario files')
    .action(async () => {
      const { schemaCommand } = await import('./commands/schema.js');
      process.exitCode = schemaCommand();
    });

  program
    .command('import-strace')
    .description(
      'turn an strace log of a VMM (-f -X raw -e trace=ioctl,write,read,openat,close[,sendmsg,recvmsg]) into a scenario',
    )
    .argument('<log>', 'the strace output')
    .option('-o, --output <file>', 'write the scenario here (default: stdout)')
    .option('--kernel <version>', 'the kernel profile the scenario pins (kernel: "X")')
    .option('--name <name>', 'the scenario name (default: imported from LOG)')
    .option(
      '--patch <name>',
      'the proposed patch the traced kernel carried (patches: [...], repeatable)',
      collect,
      [],
    )
    .action(async (log: string, opts) => {
      const { importStraceCommand } = await import('./commands/import-strace.js');
      process.exitCode = importStraceCommand(log, opts);
    });

  program
    .command('shell')
    .description('type steps one at a time on a fresh emulated machine (.state .undo .kernel .save)')
    .option('-e, --eval <steps>', 'run steps separated by ; and print the result (repeatable)', collect, [])
    .option('--kernel <version>', 'the kernel profile of the session')
    .option('--patch <name>', 'opt in to a proposed patch (repeatable)', collect, [])
    .option('--color', 'force colour')
    .option('--no-color', 'no colour')
    .action(async (opts) => {
      const { shellCommand } = await import('./commands/shell.js');
      process.exitCode = await shellCommand(opts);
    });
  return program;
}

/**
 * Parses argv (node, script, args...) and runs the command; usage errors exit 2. `program`: one
 * buildProgram() made earlier and not yet parsed (the startup snapshot keeps one ready).
 */
export async function cli(argv: readonly string[] = process.argv, program = buildProgram()): Promise<void> {
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
    } else {
      throw e;
    }
  }
}

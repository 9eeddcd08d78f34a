// Scenarios from text, run in-process with the kernel kept for the leak check.
import { nodeFamily, registerDrivers } from '../../src/drivers/index.js';
import type { Kernel } from '../../src/kernel/kernel.js';
import { exitAll, kernelLeaks } from '../../src/kernel/leaks.js';
import { compileScenario } from '../../src/scenario/compile.js';
import { InputError } from '../../src/scenario/input-error.js';
import { loadStream } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/model.js';
import type { ScenarioResult, StepRecord } from '../../src/scenario/run-result.js';
import { runScenario } from '../../src/scenario/runner.js';

export function compile(text: string, failNth?: number): Scenario {
  const doc = loadStream(text, 'fault.yaml')[0]!;
  return compileScenario('fault.yaml', doc, { nodeFamily, ...(failNth !== undefined ? { failNth } : {}) });
}

/** The one line the CLI would print for bad input, or 'ok'. */
export function inputError(text: string): string {
  try {
    compile(text);
    return 'ok';
  } catch (e) {
    if (e instanceof InputError) return e.format();
    throw e;
  }
}

export interface Run {
  r: ScenarioResult;
  k: Kernel;
  /** kernelLeaks once every process has exited */
  leaks: string[];
  step(i: number): StepRecord;
}

export function run(text: string, failNth?: number): Run {
  let k: Kernel | undefined;
  const r = runScenario(compile(text, failNth), {
    register: (x) => {
      registerDrivers(x);
      k = x;
    },
  });
  exitAll(k!);
  return { r, k: k!, leaks: kernelLeaks(k!), step: (i) => r.steps[i]! };
}

/** A scenario document: the header and the steps given (YAML lines, indented as steps). */
export function yaml(kernel: string, steps: string): string {
  return `name: fault\nkernel: "${kernel}"\nsteps:\n${steps}`;
}

/** steps: the edu device on vfio-pci, a container c and its group g (/dev/vfio/8) joined */
export const GROUP = `  - bind: { device: "0000:03:00.0", driver: vfio-pci }
  - open: /dev/vfio/vfio
    as: c
  - open: /dev/vfio/8
    as: g
  - ioctl: VFIO_GROUP_SET_CONTAINER
    fd: g
    arg: $c
`;

/** the step setting type1v2 on container c, optionally the step's fail_nth */
export const setIommu = (fail?: number) => `  - ioctl: VFIO_SET_IOMMU
    fd: c
    arg: VFIO_TYPE1v2_IOMMU
${fail ? `    fail_nth: ${fail}\n` : ''}`;

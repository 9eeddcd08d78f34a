// A probe: a tiny scenario whose last step makes one kernel check fail. The catalog author writes
// only the steps, a title and the kernel function the check lives in; what explain prints about it
// (ret, errno, site) comes from running the probe on the emulated kernel under each profile.

export interface Probe {
  /** what the check belongs to: an ioctl name, or an IOTLB message type constant (VHOST_IOTLB_UPDATE) */
  readonly target: string;
  /** the check in a few words, as a reader of the kernel source would name it */
  readonly title: string;
  /**
   * The kernel function holding the check: the model's `site.function` on every profile where the
   * call fails (a list where a release moved the check to another function).
   */
  readonly fn: string | readonly string[];
  /** the steps, one YAML flow map each; the last is the call whose answer explain shows */
  readonly steps: readonly string[];
  /** opt-in patches the check needs; on a profile they cannot be applied to, the probe does not run */
  readonly patches?: readonly string[];
  /** a `machine:` override, as a YAML flow map */
  readonly machine?: string;
}

/** The probe as the scenario text the loader reads. */
export function probeText(p: Probe): string {
  return [
    `name: "explain probe: ${p.target}: ${p.title.replace(/["\\]/g, '')}"`,
    ...(p.machine ? [`machine: ${p.machine}`] : []),
    'steps:',
    ...p.steps.map((s) => `  - ${s}`),
    '',
  ].join('\n');
}

export function probeFunctions(p: Probe): readonly string[] {
  return typeof p.fn === 'string' ? [p.fn] : p.fn;
}

/** A catalog entry (the machine override only where the probe needs one). */
export const probe = (
  target: string,
  title: string,
  fn: Probe['fn'],
  steps: readonly string[],
  machine?: string,
): Probe => ({
  target,
  title,
  fn,
  steps,
  ...(machine ? { machine } : {}),
});

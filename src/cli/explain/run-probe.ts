// Runs probes on the emulated kernel, once per profile: the answers explain prints. A probe is
// loaded (parsed) once and compiled per profile, since a profile decides which families and nodes
// exist; each run is a fresh kernel, as `vioctl run` gives.
import { nodeFamily, registerDrivers } from '../../drivers/index.js';
import { makeProfile, profileVersions } from '../../kernel/profile.js';
import type { Site } from '../../kernel/result.js';
import { compileScenario } from '../../scenario/compile.js';
import { InputError } from '../../scenario/input-error.js';
import { type LoadedDocument, loadStream } from '../../scenario/load.js';
import type { StepRecord } from '../../scenario/run-result.js';
import { runScenario } from '../../scenario/runner.js';
import { type Probe, probeText } from './probe.js';

/** What one profile answers to a probe. */
export type Answer =
  /** the probe cannot run on this profile: its device family is not modelled, or its patch cannot apply */
  | { readonly kind: 'absent'; readonly reason: string; readonly family: boolean }
  /** a setup step failed, so the call is not reached (a node the release lacks: open gives ENOENT) */
  | { readonly kind: 'unreached'; readonly step: number; readonly call: string; readonly errno: string }
  /** the call's answer */
  | {
      readonly kind: 'call';
      readonly ret: number | bigint | null;
      readonly errno: string | null;
      readonly site?: Site;
      /** the errno says the ioctl or message type is unknown on this profile */
      readonly unknown: boolean;
    };

export interface ProfileAnswer {
  readonly kernel: string;
  readonly answer: Answer;
}

const loaded = new Map<Probe, LoadedDocument>();

function load(p: Probe): LoadedDocument {
  let doc = loaded.get(p);
  if (!doc) {
    const [d] = loadStream(probeText(p), '<probe>');
    if (!d) throw new Error(`internal: probe "${p.title}" has no document`);
    doc = d;
    loaded.set(p, doc);
  }
  return doc;
}

/** ENOTTY from a driver's default branch, or EINVAL from the IOTLB handler's: the name is unknown there. */
function isUnknown(errno: string | null, site: Site | undefined): boolean {
  if (!site) return false;
  // the file has no write() at all (vhost-vsock before its IOTLB API)
  if (site.function === 'vfs_write' || site.function === 'vfs_ioctl') return true;
  if (errno === 'ENOTTY') return /default|ENOIOCTLCMD|not in|not modelled/.test(site.check);
  return /default:/.test(site.check) && site.errno === 'EINVAL';
}

function answerOf(steps: readonly StepRecord[]): Answer {
  const last = steps[steps.length - 1];
  for (const s of steps.slice(0, -1)) {
    // a setup step that fails without saying it may is a precondition the profile does not meet
    if ((s.errno !== null && s.expect === 'none') || s.expect === 'fail') {
      return {
        kind: 'unreached',
        step: s.index,
        call: `${s.op} ${s.call}`,
        errno: s.errno ?? `ret ${s.ret}`,
      };
    }
  }
  if (!last) throw new Error('internal: a probe without steps');
  return {
    kind: 'call',
    ret: last.ret,
    errno: last.errno,
    ...(last.site ? { site: last.site } : {}),
    unknown: isUnknown(last.errno, last.site),
  };
}

/** The probe's answer on one profile. */
export function runProbeOn(p: Probe, kernel: string): Answer {
  const patches = p.patches ?? [];
  const prof = makeProfile(kernel, patches);
  if (typeof prof === 'string')
    return { kind: 'absent', reason: `needs --patch ${patches.join(', ')}`, family: false };
  let s: ReturnType<typeof compileScenario>;
  try {
    // no pausePoints: asking for them boots a kernel per compile, and probes never pause
    s = compileScenario('<probe>', load(p), { kernel, patches, nodeFamily });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    const fam = /is an? (\S+) node, which the kernel profile does not model/.exec(e.message);
    if (fam) return { kind: 'absent', reason: `${fam[1]} is not modelled`, family: true };
    throw new Error(`internal: probe "${p.target}: ${p.title}" on ${kernel}: ${e.message}`);
  }
  const r = runScenario(s, { register: registerDrivers });
  if (r.error) throw new Error(`internal: probe "${p.target}: ${p.title}" on ${kernel}: ${r.error.message}`);
  return answerOf(r.steps);
}

/** The probe's answer on each profile, in the profile list's order. */
export function runProbe(p: Probe, kernels: readonly string[] = profileVersions()): ProfileAnswer[] {
  return kernels.map((kernel) => ({ kernel, answer: runProbeOn(p, kernel) }));
}

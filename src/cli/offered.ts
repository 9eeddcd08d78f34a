// Which devices offer which feature bits on each profile, found by asking the emulator itself: a
// tiny scenario per profile and device node calls VHOST_GET_FEATURES / GET_BACKEND_FEATURES. So the
// answer is what `run` would print, and it follows the drivers as they change.
import { nodeFamily, registerDrivers } from '../drivers/index.js';
import { profileVersions } from '../kernel/profile.js';
import { compileScenario } from '../scenario/compile.js';
import { loadStream } from '../scenario/load.js';
import { runScenario } from '../scenario/runner.js';

/** Device nodes probed; one the machine or the profile lacks is skipped. */
const NODES = ['/dev/vhost-net', '/dev/vhost-vsock', '/dev/vhost-vdpa-0', '/dev/vhost-vdpa-1'];

export interface Offered {
  node: string;
  kernel: string;
  features: bigint | null;
  backend: bigint | null;
}

function probe(node: string, kernel: string): Offered | undefined {
  const text = [
    'name: probe',
    `kernel: "${kernel}"`,
    'steps:',
    `  - open: ${node}`,
    '    as: d',
    '  - ioctl: VHOST_GET_FEATURES',
    '    fd: d',
    '  - ioctl: VHOST_GET_BACKEND_FEATURES',
    '    fd: d',
    '',
  ].join('\n');
  try {
    const [doc] = loadStream(text, '<probe>');
    if (!doc) return undefined;
    const r = runScenario(compileScenario('<probe>', doc, { nodeFamily }), { register: registerDrivers });
    const [open, get, backend] = r.steps;
    if (!open || open.errno !== null) return undefined;
    const val = (s: typeof get) => (s && s.errno === null && typeof s.out === 'bigint' ? s.out : null);
    return { node, kernel, features: val(get), backend: val(backend) };
  } catch {
    // not modelled on this profile, or not on the default machine
    return undefined;
  }
}

export function offeredTable(): Offered[] {
  const out: Offered[] = [];
  for (const kernel of profileVersions()) {
    for (const node of NODES) {
      const o = probe(node, kernel);
      if (o) out.push(o);
    }
  }
  return out;
}

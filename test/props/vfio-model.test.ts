// Model fuzzing of the vfio paths (issue 7, part 1): random sequences of sysfs binds, unbinds and
// driver_override writes, VFIO container / group / device ioctls (type1 MAP/UNMAP, GET_DEVICE_FD,
// hot reset), iommufd with the vfio cdev, kvm-vfio, opens, closes, forks, passes and exits, on the
// vfio eras 3.19, 4.0, 5.18, 6.1, 6.12 and 6.12-iommufd-vfio-container, each run as a scenario by
// the real runner with every call and the state after it checked (vfio-model.ts). A failure is
// shrunk to a minimal scenario file that `vioctl run` replays. `npm run fuzz` runs it with FUZZ_RUNS.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type VCase, vfioCaseArb } from './vfio-arbitraries.js';
import { KNOWN_VFIO, minimiseVfio, runVfioCase, vfioYaml } from './vfio-model.js';

const FUZZING = process.env.FUZZ_RUNS !== undefined;
const RUNS = FUZZING ? Number(process.env.FUZZ_VFIO_RUNS ?? process.env.FUZZ_RUNS) : 150;
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const OUT = process.env.FUZZ_OUT ?? join(tmpdir(), 'vioctl-fuzz');

function writeCounterexample(c: VCase, kind: string, tag: string): string {
  const min = minimiseVfio(c, kind);
  const v = runVfioCase(min).violations.find((x) => x.kind === kind);
  const first = (v?.message ?? kind).split('\n')[0]!;
  const yaml = vfioYaml(min, { name: `fuzz: ${kind}`, description: `invariant "${kind}" broken: ${first}` });
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `${tag}-${c.family}-${kind}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

describe('vfio paths under random call sequences', () => {
  test(`${RUNS} seeded sequences keep every invariant`, () => {
    const started = Date.now();
    const failures = new Map<string, { c: VCase; n: number; message: string }>();
    const perFamily: Record<string, number> = {};
    const known: Record<string, number> = {};
    let total = 0;
    let calls = 0;
    let bugs = 0;
    let blocked = 0;
    const errnos: Record<string, number> = {};
    fc.assert(
      fc.property(vfioCaseArb(), (c) => {
        const o = runVfioCase(c);
        perFamily[c.family] = (perFamily[c.family] ?? 0) + 1;
        calls += o.calls;
        bugs += o.bugs;
        blocked += o.blocked;
        for (const [e, n] of o.errnos) errnos[e] = (errnos[e] ?? 0) + n;
        const vs = o.violations.filter((v) => !KNOWN_VFIO.has(v.kind));
        for (const v of o.violations) if (KNOWN_VFIO.has(v.kind)) known[v.kind] = (known[v.kind] ?? 0) + 1;
        if (vs.length) {
          total++;
          const kind = vs[0]!.kind;
          const f = failures.get(kind);
          if (f) f.n++;
          else failures.set(kind, { c, n: 1, message: vs[0]!.message.split('\n')[0]! });
        }
        return true;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    const files = [...failures.entries()].map(([kind, f]) => ({
      kind,
      count: f.n,
      message: f.message,
      file: writeCounterexample(f.c, kind, `seed${SEED}`),
    }));
    const summary = {
      sequences: RUNS,
      perFamily,
      calls,
      bugs,
      blocked,
      failures: total,
      known,
      errnos: Object.fromEntries(Object.entries(errnos).sort()),
      seconds: (Date.now() - started) / 1000,
      files,
    };
    if (process.env.FUZZ_VFIO_SUMMARY)
      writeFileSync(process.env.FUZZ_VFIO_SUMMARY, JSON.stringify(summary, null, 2));
    expect(total, JSON.stringify(files, null, 2)).toBe(0);
    // the sequences reach what they are for: calls that wait, kernel BUGs of the classic eras
    if (!FUZZING) expect(blocked).toBeGreaterThan(0);
  });
});

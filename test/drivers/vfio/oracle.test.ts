// The Debian 6.1 and 6.12 VFIO recordings (vfio.txt), replayed step for step through the Kernel API.
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { replayVfio } from './oracle-replay.js';

const DATA = process.env.VIOCTL_ORACLE ?? 'test/oracle/data';

describe.skipIf(!existsSync(`${DATA}/scripts/vfio.txt`))('vfio.txt replayed (oracle recordings)', () => {
  for (const [kernel, dir] of [
    ['6.1', 'results'],
    ['6.12', 'results-6.12'],
  ] as const) {
    test(`every line of vfio.txt answers as Debian ${kernel} did`, () => {
      const rows = replayVfio(`${DATA}/scripts/vfio.txt`, `${DATA}/${dir}/vfio.jsonl`, kernel);
      const bad = rows
        .filter((r) => !r.ok)
        .map((r) => `L${r.line} ${r.src}: want ${JSON.stringify(r.want)} got ${JSON.stringify(r.got)}`);
      expect(bad).toEqual([]);
      expect(rows.length).toBeGreaterThan(200);
    });
  }
});

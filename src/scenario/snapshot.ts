// The state tables of a run at one point (scenario.md, "What a run prints").
import type { Kernel } from '../kernel/kernel.js';
import type { StateTables } from '../kernel/registry.js';
import type { OutValue, RunState, StateRowOut } from './run-result.js';
import type { Runtime } from './runtime.js';

export interface TaskRow {
  task: string;
  process: string;
  step: number;
  state: 'paused' | 'waiting';
  point: string | null;
}

function toOut(v: unknown): OutValue {
  if (v === undefined) return null;
  if (
    v === null ||
    typeof v === 'boolean' ||
    typeof v === 'number' ||
    typeof v === 'bigint' ||
    typeof v === 'string'
  ) {
    return v;
  }
  if (Array.isArray(v)) return v.map(toOut);
  if (typeof v === 'object') {
    const o: Record<string, OutValue> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toOut(x);
    return o;
  }
  return String(v);
}

function rows(t: StateTables, key: string): StateRowOut[] {
  return (t[key] ?? []).map((r) => toOut(r) as StateRowOut);
}

export function snapshot(rt: Runtime, tasks: readonly TaskRow[]): RunState {
  const k: Kernel = rt.k;
  const processes: StateRowOut[] = [];
  const fds: StateRowOut[] = [];
  for (const ps of rt.procs.values()) {
    const p = ps.proc;
    processes.push({
      process: ps.name,
      pid: p.pid,
      exited: p.exited,
      caps: p.caps === 'all' ? 'all' : [...p.caps].sort(),
    });
    if (p.exited) continue;
    const names = new Map<number, string>();
    for (const [n, fd] of ps.fds) names.set(fd, n);
    for (const [fd, f] of p.fds.sorted()) {
      fds.push({
        process: ps.name,
        fd,
        name: names.get(fd) ?? null,
        file: f.id,
        path: f.path,
        flags: f.flags,
      });
    }
  }
  const t: StateTables = {};
  k.driverState(t);
  const diagnostics: StateRowOut[] = [];
  for (const d of k.drivers.drivers) {
    for (const x of d.stateDiagnostics?.(k) ?? []) diagnostics.push({ code: x.code, message: x.message });
  }
  const state: RunState = {
    processes,
    fds,
    vhost: rows(t, 'vhost'),
    vrings: rows(t, 'vrings'),
    iotlb: rows(t, 'iotlb'),
    pending: rows(t, 'pending'),
    vfio_groups: rows(t, 'vfio_groups'),
    pci: rows(t, 'pci'),
    tasks: tasks.map((x) => ({ ...x })),
    diagnostics,
  };
  for (const key of Object.keys(t)) if (!(key in state)) state[key] = rows(t, key);
  return state;
}

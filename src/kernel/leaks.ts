// The end-of-run leak check: after every process has exited (every fd closed, every mapping gone),
// nothing a run took may still be held. The core checks open files and pinned pages; each driver
// family checks its own objects (DriverModule.leaks). The fault sweep (test/fault/) runs it after
// every injected fault, so an error path that forgets to unwind shows up as a leak.
import type { Kernel } from './kernel.js';

/** Ends every process still running, in order, as exit() does. */
export function exitAll(k: Kernel): void {
  for (const p of k.processes) if (!p.exited) k.exit(p);
}

/** What is still held once every process has exited: one line each, empty when nothing leaked. */
export function kernelLeaks(k: Kernel): string[] {
  const out: string[] = [];
  const running = k.processes.filter((p) => !p.exited);
  if (running.length > 0) out.push(`processes still running: ${running.map((p) => p.name).join(', ')}`);
  for (const f of k.files.values())
    out.push(`file ${f.id} (${f.path}) still open with ${f.refs} reference(s)`);
  for (const o of k.objects) {
    if (o.pinned !== 0) out.push(`memory object ${o.id} (${o.kind}) has ${o.pinned} page(s) still pinned`);
  }
  for (const d of k.drivers.drivers) for (const l of d.leaks?.(k) ?? []) out.push(`${d.name}: ${l}`);
  return out;
}

// The check catalog: every probe, by target. Within a target the probes come in the kernel's
// check order; targets keep the order of the files below.
import { IOTLB_PROBES } from './catalog-iotlb.js';
import { VDPA_PROBES } from './catalog-vdpa.js';
import { VFIO_PROBES } from './catalog-vfio.js';
import { VHOST_PROBES } from './catalog-vhost.js';
import type { Probe } from './probe.js';

export const CATALOG: readonly Probe[] = [...VHOST_PROBES, ...VDPA_PROBES, ...IOTLB_PROBES, ...VFIO_PROBES];

/** The probes of one target, in the kernel's order (a target's probes may sit in several files). */
export function probesOf(target: string): Probe[] {
  return CATALOG.filter((p) => p.target === target);
}

/** Every target with probes, in catalog order. */
export function catalogTargets(): string[] {
  return [...new Set(CATALOG.map((p) => p.target))];
}

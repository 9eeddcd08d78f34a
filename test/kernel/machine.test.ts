import { describe, expect, test } from 'vitest';
import { buildMachine, DEFAULT_MACHINE, isMachineError, type Machine } from '../../src/kernel/machine.js';

const ok = (raw: unknown): Machine => {
  const m = buildMachine(raw);
  if (isMachineError(m)) throw new Error(m.message);
  return m;
};

describe('machine: merged into the default machine (machine.md)', () => {
  test('no machine: is the default machine of the oracle', () => {
    const m = ok(undefined);
    expect(m.pci.map((d) => d.bdf)).toContain('0000:01:00.1');
    expect(m.pci.find((d) => d.bdf === '0000:02:00.0')).toMatchObject({
      driver: 'e1000e',
      group: 7,
      reset: ['pm', 'bus'],
    });
    expect(m.vdpa.map((d) => d.name)).toEqual(['vdpa0', 'vdpa1']);
    expect(m.limits).toEqual({ memlock: 8n << 20n, dma_entry_limit: 65535, max_iotlb_entries: 2048 });
  });

  test('maps merge key by key; a list given replaces the list', () => {
    const m = ok({ kvm: true, limits: { memlock: '64M' }, vdpa: [{ name: 'vdpa0', type: 'blk' }] });
    expect(m.kvm).toBe(true);
    expect(m.limits).toEqual({ memlock: 64n << 20n, dma_entry_limit: 65535, max_iotlb_entries: 2048 });
    expect(m.vdpa).toEqual([{ name: 'vdpa0', type: 'blk' }]);
    expect(m.pci).toBe(DEFAULT_MACHINE.pci);
  });

  test('a device behind a bus no bridge provides is an error at its bdf', () => {
    expect(buildMachine({ pci: [{ bdf: '0000:05:00.0', group: 1n }] })).toEqual({
      path: ['pci', 0, 'bdf'],
      message: '0000:05:00.0 sits on bus 5, which no bridge provides',
    });
  });

  test('two devices with one BDF, an unknown key, a bad reset method', () => {
    const two = buildMachine({
      pci: [
        { bdf: '0000:00:01.0', group: 1n },
        { bdf: '0000:00:01.0', group: 2n },
      ],
    });
    expect(two).toEqual({ path: ['pci', 1], message: 'two devices with the BDF 0000:00:01.0' });
    expect(isMachineError(buildMachine({ pcii: [] }))).toBe(true);
    expect(buildMachine({ pci: [{ bdf: '0000:00:01.0', group: 1n, reset: ['warm'] }] })).toMatchObject({
      path: ['pci', 0, 'reset'],
    });
  });
});

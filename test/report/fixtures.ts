// Hand-built run results for the report tests.
import type { RunState, ScenarioResult, StepRecord } from '../../src/scenario/run-result.js';

export function emptyState(): RunState {
  return {
    processes: [],
    fds: [],
    vhost: [],
    vrings: [],
    iotlb: [],
    pending: [],
    vfio_groups: [],
    pci: [],
    tasks: [],
    diagnostics: [],
  };
}

export function step(index: number, over: Partial<StepRecord> = {}): StepRecord {
  return {
    index,
    process: 'main',
    op: 'ioctl',
    call: 'VHOST_SET_OWNER',
    args: '',
    ret: 0,
    errno: null,
    out: null,
    expect: 'none',
    diagnostics: [],
    ...over,
  };
}

/** The vsock story of scenario.md, cut to four steps, with one failed expectation. */
export function vsockResult(): ScenarioResult {
  const state = emptyState();
  state.vhost.push({
    file: 1,
    path: '/dev/vhost-vsock',
    owner: 'main',
    features: 0x33d000002n,
    backend_features: 0n,
    iotlb: false,
  });
  state.iotlb.push({ file: 1, asid: 0, view: 'vhost', iova: 0n, size: 1n << 64n, uaddr: 0x7f0000000000n });
  const diag = { code: 'vq-no-memtable', message: 'no memory table set' };
  return {
    scenario: 'vsock stalls when ACCESS_PLATFORM is passed through',
    file: 'fixtures/stories/crosvm-vsock.yaml',
    kernel: '6.1',
    patches: [],
    ok: false,
    steps: [
      step(0, { op: 'open', call: '/dev/vhost-vsock', args: 'O_RDWR', ret: 3 }),
      step(1, { op: 'mmap', call: 'guest', args: '0x10000', ret: 0x7f0000000000n }),
      step(2, { call: 'VHOST_GET_FEATURES', args: 'vsock', out: 0x33d000002n }),
      step(3, {
        call: 'VHOST_VSOCK_SET_RUNNING',
        args: 'vsock 1',
        ret: -1,
        errno: 'EFAULT',
        errnoNum: 14,
        site: { function: 'vq_memory_access_ok', check: '!umem', errno: 'EINVAL' },
        expect: 'fail',
        expectFailures: ['expected 0, got EFAULT'],
        diagnostics: [diag],
      }),
    ],
    stepTotals: { count: 4, failedCalls: 1, failedExpect: 1, diagnostics: 1 },
    state,
    diagnostics: [{ step: 3, ...diag }],
  };
}

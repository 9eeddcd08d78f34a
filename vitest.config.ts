import { defineConfig } from 'vitest/config';

// The kernel model keeps no module-level state, so test files can share workers
// (isolate: false is ~3x faster on this machine kind).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'threads',
    isolate: false,
    testTimeout: 60_000,
  },
});

// The vioctl command-line program (the ESM bundle's entry; bin/vioctl starts the
// startup snapshot of snapshot.ts instead when the build made one).
import { isMainThread, workerData } from 'node:worker_threads';
import { cli } from './program.js';

// `vioctl test --jobs` starts this same bundle as its worker threads (src/cli/pool.ts): there the
// top level serves test chunks instead of parsing argv.
if (!isMainThread && (workerData as { vioctlWorker?: boolean } | null)?.vioctlWorker) {
  const { serveChunks } = await import('./worker.js');
  serveChunks();
} else {
  await cli();
}

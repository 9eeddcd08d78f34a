// `vioctl test --jobs N`: files go to worker threads in chunks, because one message per scenario costs
// more than a small scenario takes to run (style-and-deps.md §B8). Chunks are dispatched in order and
// results put back in order, so the report is byte-identical to the inline run.
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type FileOutcome, failed, type SuiteOptions } from './suite.js';
import type { ChunkReply, ChunkRequest } from './worker.js';

/** Below this many files the inline run wins: worker start-up (~0.1 s each) exceeds the gain. */
export const POOL_MIN_FILES = 200;
const CHUNK_MAX = 64;

export function chunkSize(files: number, workers: number): number {
  // About four chunks per worker balances uneven files without paying for many messages.
  return Math.max(1, Math.min(CHUNK_MAX, Math.ceil(files / (workers * 4))));
}

export async function runPool(
  files: readonly string[],
  opts: SuiteOptions,
  jobs: number,
  onChunk: (outcomes: readonly FileOutcome[]) => void = () => {},
): Promise<FileOutcome[]> {
  const size = chunkSize(files.length, jobs);
  const chunks: string[][] = [];
  for (let i = 0; i < files.length; i += size) chunks.push(files.slice(i, i + size));
  const done: FileOutcome[][] = new Array(chunks.length);
  let next = 0;
  let stop = false;
  // This module is bundled into dist/vioctl.mjs, whose top level (main.ts) serves chunks when it
  // starts as a worker with vioctlWorker set.
  // (bin/vioctl runs the startup snapshot, a CommonJS bundle: it names the ESM bundle instead)
  const entry = process.env.VIOCTL_BUNDLE
    ? pathToFileURL(process.env.VIOCTL_BUNDLE)
    : new URL(import.meta.url);
  const work = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const w = new Worker(entry, { workerData: { vioctlWorker: true } });
      const feed = () => {
        if (stop || next >= chunks.length) {
          void w.terminate().then(() => resolve());
          return;
        }
        const id = next++;
        const req: ChunkRequest = { id, files: chunks[id]!, opts };
        w.postMessage(req);
      };
      w.on('message', (reply: ChunkReply) => {
        if ('crash' in reply) {
          stop = true;
          void w.terminate();
          reject(new Error(`worker: ${reply.crash}`));
          return;
        }
        done[reply.id] = reply.outcomes;
        onChunk(reply.outcomes);
        // Earlier chunks are already dispatched, so stopping here still yields every outcome
        // up to the first failure in input order.
        const bad = reply.outcomes.some(
          (o) => o.inputError !== undefined || (opts.bail && o.results.some(failed)),
        );
        if (bad) stop = true;
        feed();
      });
      w.on('error', (e) => {
        stop = true;
        reject(e);
      });
      feed();
    });
  await Promise.all(Array.from({ length: Math.min(jobs, chunks.length) }, work));
  return done.flatMap((d) => d ?? []);
}

// The worker side of `vioctl test --jobs`: each message is a chunk of files, answered with their
// outcomes. Results cross the thread boundary by structured clone, which keeps bigints exact.
import { parentPort } from 'node:worker_threads';
import { type FileOutcome, runFiles, type SuiteOptions } from './suite.js';

export interface ChunkRequest {
  id: number;
  files: string[];
  opts: SuiteOptions;
}

export type ChunkReply = { id: number; outcomes: FileOutcome[] } | { id: number; crash: string };

export function serveChunks(): void {
  const port = parentPort;
  if (!port) throw new Error('internal: serveChunks outside a worker thread');
  port.on('message', (req: ChunkRequest) => {
    let reply: ChunkReply;
    try {
      reply = { id: req.id, outcomes: runFiles(req.files, req.opts) };
    } catch (e) {
      // A bug in vioctl, not bad input: the main thread rethrows it with this stack.
      reply = { id: req.id, crash: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    }
    port.postMessage(reply);
  });
}

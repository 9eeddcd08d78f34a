// Preloaded into `vioctl run` by the hostile-input tests (node --import): any network connection
// attempt ends the process with status 99, and at exit the peak RSS is reported on fd 3.
import dns from 'node:dns';
import { writeSync } from 'node:fs';
import net from 'node:net';

const refuse = (what) => () => {
  writeSync(2, `probe: a scenario reached the network (${what})\n`);
  process.exit(99);
};
net.Socket.prototype.connect = refuse('net.Socket.connect');
dns.lookup = refuse('dns.lookup');
process.on('exit', () => {
  try {
    writeSync(3, JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS }));
  } catch {
    // fd 3 is not open: run outside the tests
  }
});

'use strict';
// Preloaded into every Node process of a measured Nx run (NODE_OPTIONS=--require …):
// when the process exits, appends "<pid> <script> <peak RSS in MB>" to NXM_PEAK_RSS_LOG,
// so a benchmark can tell the task's process (nx/bin/run-executor.js) from Nx's own,
// which /usr/bin/time's figure for the whole tree cannot.
const { isMainThread } = require('node:worker_threads');
const log = process.env.NXM_PEAK_RSS_LOG;
if (log && isMainThread) {
  const { appendFileSync, readFileSync } = require('node:fs');
  const { basename } = require('node:path');
  process.on('exit', () => {
    // VmHWM: the process's peak resident set, all threads included.
    const peakKb = Number((readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s+(\d+)/m) || [])[1] || 0);
    appendFileSync(log, `${process.pid} ${basename(process.argv[1] || 'node')} ${Math.round(peakKb / 1024)}\n`);
  });
}

'use strict';
// Preloaded into every Node process of a profiled run (NODE_OPTIONS=--require …;
// node refuses --cpu-prof there). Starts V8's sampling profiler at once and, when
// the process exits, writes <NXM_CPU_PROF_DIR>/<pid>.cpuprofile.json with the
// process's start (performance.timeOrigin, epoch ms), the wall clock and the
// monotonic clock of the profile at one instant, and its argv.
const { isMainThread } = require('node:worker_threads');
const dir = process.env.NXM_CPU_PROF_DIR;
if (dir && isMainThread) {
  const inspector = require('node:inspector');
  const { writeFileSync } = require('node:fs');
  const { join } = require('node:path');
  const session = new inspector.Session();
  session.connect();
  const clock = { wallMs: Date.now(), monoUs: Number(process.hrtime.bigint() / 1000n) };
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.NXM_CPU_PROF_INTERVAL_US || 1000) });
  session.post('Profiler.start');
  process.on('exit', () => {
    // A session on the process's own thread answers synchronously, so this runs to the end inside 'exit'.
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      writeFileSync(
        join(dir, `${process.pid}.cpuprofile.json`),
        JSON.stringify({ pid: process.pid, argv: process.argv.slice(1), timeOriginMs: performance.timeOrigin, clock, profile: result.profile }),
      );
    });
  });
}

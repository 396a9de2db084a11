// A "poller" that leaks timers, for tests/heap.rs: every poll() starts a setInterval
// whose `tick` closure captures a LeakyTimerJob, and nothing ever calls clearInterval.
//
//   node timers.js W,N1,N2[,…]    (snapshots as in leaky.js; prints their names as JSON)
'use strict';
const v8 = require('v8');

class LeakyTimerJob {
  constructor(id) {
    this.id = id;
    this.label = 'job-' + id;
  }
}

function poll(id) {
  const job = new LeakyTimerJob(id);
  // An interval long enough never to fire during the test.
  setInterval(function tick() {
    return job.id;
  }, 1e7);
}

const rounds = (process.argv[2] || '10,300,200').split(',').map(Number);
let next = 0;
const files = [];
for (const n of rounds) {
  for (let i = 0; i < n; i++) poll(next++);
  files.push(v8.writeHeapSnapshot());
}
process.stdout.write(JSON.stringify(files) + '\n');
// The intervals would keep the process alive.
process.exit(0);

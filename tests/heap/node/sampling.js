// A small "service" that leaks by construction, for V8 sampling heap profiles
// (tests/it/heap_sources.rs).
//
//   node sampling.js inspector R1,R2,…   the inspector's HeapProfiler.startSampling; after
//                                         each round of Rk requests a GC, then
//                                         getSamplingProfile into profile-<k>.heapprofile
//   node --heap-prof sampling.js once N   N requests; Node writes its own .heapprofile at exit
//
// Every request calls enqueue(), which keeps one OrderContext (with a 64-element payload)
// in the module-level `pending` Map and never deletes it; scratch() allocates as much and
// drops it at once (it must never rank as a leak). Prints the written file names as a
// JSON array on its last line (the inspector mode only).
'use strict';
const inspector = require('inspector');
const fs = require('fs');

// Exported, so that the module (kept in require.cache) keeps it alive until Node writes
// --heap-prof's profile at exit, as a running service would.
const pending = new Map();
module.exports = { pending };

class OrderContext {
  constructor(id) {
    this.id = id;
    this.payload = new Array(64).fill(id);
  }
}

function enqueue(id) {
  const ctx = new OrderContext(id);
  pending.set(id, ctx);
  return ctx;
}

function scratch(id) {
  const tmp = new Array(64).fill(id);
  return tmp.length;
}

let nextId = 0;
function serve(n) {
  for (let i = 0; i < n; i++) {
    const id = nextId++;
    enqueue(id);
    scratch(id);
  }
}

function post(session, method, params) {
  let result;
  session.post(method, params || {}, (err, res) => {
    if (err) throw err;
    result = res;
  });
  return result;
}

const [mode, rounds] = process.argv.slice(2);
const counts = String(rounds || '1000').split(',').map(Number);
if (mode === 'inspector') {
  const session = new inspector.Session();
  session.connect();
  post(session, 'HeapProfiler.enable');
  post(session, 'HeapProfiler.startSampling', { samplingInterval: 512 });
  const names = [];
  counts.forEach((n, k) => {
    serve(n);
    post(session, 'HeapProfiler.collectGarbage');
    const { profile } = post(session, 'HeapProfiler.getSamplingProfile');
    const name = `profile-${k + 1}.heapprofile`;
    fs.writeFileSync(name, JSON.stringify(profile));
    names.push(name);
  });
  post(session, 'HeapProfiler.stopSampling');
  console.log(JSON.stringify(names));
} else {
  serve(counts[0]);
}

// A small "service" with two known leaks, for tests/heap.rs and scripts/bench_heap.sh.
//
//   node leaky.js W,N1,N2[,…]
//
// Handles W requests, takes a heap snapshot, then N1 more and a snapshot, N2 more and a
// snapshot… (v8.writeHeapSnapshot() into the working folder, Node's default file names).
// Every request leaks, by construction:
//   - one LeakyRequestContext, captured by an `onRequest` listener closure added to the
//     `bus` EventEmitter's 'request' event and never removed;
//   - one CachedSession, put in the unbounded `sessionCache` Map and never evicted;
// and makes 3 TransientWork objects that are dropped before the next snapshot (they must
// never show as growing). Prints the snapshot file names as a JSON array.
// LEAKY_HEADERS=K (default 0) gives each context a `headers` object of K distinct
// strings, to make big snapshots for scripts/bench_heap.sh.
'use strict';
const { EventEmitter } = require('events');
const v8 = require('v8');

const HEADERS = Number(process.env.LEAKY_HEADERS || 0);

class LeakyRequestContext {
  constructor(id) {
    this.id = id;
    this.startedAt = Date.now();
    this.path = '/orders/' + id;
    if (HEADERS > 0) {
      this.headers = {};
      for (let h = 0; h < HEADERS; h++) this.headers['x-h' + h] = 'v' + h + '-' + id;
    }
  }
}

class CachedSession {
  constructor(key) {
    this.key = key;
    this.roles = ['reader', 'writer'];
  }
}

class TransientWork {
  constructor(i) {
    this.i = i;
  }
}

const bus = new EventEmitter();
bus.setMaxListeners(0);
const sessionCache = new Map();
let nextId = 0;

function handleRequest() {
  const id = nextId++;
  const ctx = new LeakyRequestContext(id);
  bus.on('request', function onRequest() {
    return ctx.id;
  });
  sessionCache.set('session-' + id, new CachedSession('session-' + id));
  let work = [];
  for (let i = 0; i < 3; i++) work.push(new TransientWork(i));
  return work.length;
}

module.exports = { bus, sessionCache };

const rounds = (process.argv[2] || '10,300,200').split(',').map(Number);
const files = [];
for (const n of rounds) {
  for (let i = 0; i < n; i++) handleRequest();
  files.push(v8.writeHeapSnapshot());
}
process.stdout.write(JSON.stringify(files) + '\n');

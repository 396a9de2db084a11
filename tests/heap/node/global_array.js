// The most common leak there is: a global Array that only grows. Every request pushes a
// LeakyRequestContext onto `global.leaked` and nothing ever takes one off; the service
// also logs one line per round with console.log, whose first call (after snapshot 1)
// makes `process.stdout` (a SyncWriteStream when stdout is a file): one object, made
// once, which must not be taken for a leak.
// A module-level `sessions` Map (5,000 entries, made before snapshot 1, never growing)
// is read by a route handler at `global.app.server.router.routes.get`: a person's path
// to it. Its shorter path runs from a leaked context through `__proto__` →
// `constructor` (the class, whose scope is the module's) and must not be the one shown.
//
//   node global_array.js W,N1,N2[,…] > out.json   (snapshots as in leaky.js; prints
//                                                  their names as JSON on the last line)
'use strict';
const v8 = require('v8');

class LeakyRequestContext {
  constructor(id) {
    this.id = id;
    this.startedAt = Date.now();
    this.path = '/orders/' + id;
  }
}

global.leaked = [];
let nextId = 0;

const sessions = new Map();
for (let i = 0; i < 5000; i++) sessions.set('session-' + i, { user: 'user-' + i, roles: ['reader'] });
global.app = {
  server: {
    router: {
      routes: {
        get: function handle(key) {
          return sessions.get(key);
        },
      },
    },
  },
};

function handleRequest() {
  global.leaked.push(new LeakyRequestContext(nextId++));
}

const rounds = (process.argv[2] || '10,300,200').split(',').map(Number);
const files = [];
for (const n of rounds) {
  for (let i = 0; i < n; i++) handleRequest();
  files.push(v8.writeHeapSnapshot());
  console.log(`handled ${nextId} requests`);
}
console.log(JSON.stringify(files));

// The control for leaky.js: the same work without the leaks. Listeners are removed once
// the request is handled and the session cache keeps at most 50 entries, so none of the
// application's classes (ControlRequestContext, ControlSession, TransientWork) may show
// as growing.
//
//   node control.js W,N1,N2[,…]     (prints the snapshot file names as a JSON array)
'use strict';
const { EventEmitter } = require('events');
const v8 = require('v8');

class ControlRequestContext {
  constructor(id) {
    this.id = id;
    this.startedAt = Date.now();
    this.path = '/orders/' + id;
  }
}

class ControlSession {
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
const sessionCache = new Map();
const MAX_SESSIONS = 50;
let nextId = 0;

function handleRequest() {
  const id = nextId++;
  const ctx = new ControlRequestContext(id);
  const onRequest = function onRequest() {
    return ctx.id;
  };
  bus.on('request', onRequest);
  bus.emit('request');
  bus.removeListener('request', onRequest);
  sessionCache.set('session-' + id, new ControlSession('session-' + id));
  if (sessionCache.size > MAX_SESSIONS) {
    sessionCache.delete(sessionCache.keys().next().value);
  }
  let work = [];
  for (let i = 0; i < 3; i++) work.push(new TransientWork(i));
  return work.length;
}

module.exports = { bus, sessionCache };

const rounds = (process.argv[2] || '100,300,200').split(',').map(Number);
const files = [];
for (const n of rounds) {
  for (let i = 0; i < n; i++) handleRequest();
  files.push(v8.writeHeapSnapshot());
}
process.stdout.write(JSON.stringify(files) + '\n');

// Runs `rounds` rounds (argv[2], default 40) of allocation under `node --expose-gc
// --trace-gc`: each round makes short-lived garbage (Scavenges) and ends with a full
// collection (global.gc(): a Mark-Compact). With argv[3] = "leak", every round also keeps
// ~1 MB of objects in a module-level array that nothing ever empties: the live heap left
// after each Mark-Compact rises. Without it the same garbage is made and dropped.
'use strict';
const rounds = Number(process.argv[2] || 40);
const leak = process.argv[3] === 'leak';
const kept = [];
let round = 0;
function work() {
  for (let i = 0; i < 4000; i++) {
    const garbage = { id: i, text: 'request-' + i + '-' + round, list: new Array(16).fill(i) };
    if (leak && i % 4 === 0) kept.push(garbage);
  }
  global.gc();
  if (++round < rounds) setTimeout(work, 5);
}
work();

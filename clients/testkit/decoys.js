'use strict';
// Decoy sidecars for the Node tests: decoys.py in a child process (one
// implementation for both clients' tests). See decoys.py for the specs.

const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

const DECOYS_PY = path.join(__dirname, 'decoys.py');

// startDecoys binds the specs and resolves to {bound, skipped, counts(),
// close()}; counts() resolves to {spec: datagrams or requests received}.
async function startDecoys(specs) {
  const child = spawn('python3', [DECOYS_PY, ...specs], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => {
    const w = waiting.shift();
    if (w) w.resolve(JSON.parse(line));
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  exited.then((code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`decoys.py exited (status ${code})`));
  });
  const next = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const ready = await next();
  return {
    bound: ready.bound,
    skipped: ready.skipped,
    async counts() {
      const answer = next();
      child.stdin.write('counts\n');
      return (await answer).counts;
    },
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}

module.exports = { startDecoys };

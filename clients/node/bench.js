'use strict';
// Emit rate and per-call cost of trace() against a running sidecar.
//   node bench.js unix /path/to.sock [n]     node bench.js udp 9090 [n]
// Prints calls/s, µs per call, and the client's sent/dropped counts; compare
// with the sidecar's /health (events written) for the share that arrived.
const { createClient } = require('.');

const [transport = 'udp', where = '9090', nArg = '200000'] = process.argv.slice(2);
const n = Number(nArg);
const c = createClient(
  transport === 'unix' ? { transport, socketPath: where } : { transport, udpPort: Number(where) },
);
const ev = { provider: 'anthropic', model: 'claude-sonnet-4', prompt_tokens: 1200, completion_tokens: 300, cost_usd: 0.0081, latency_ms: 2300 };

async function main() {
  // per-call cost: batches of 100 calls, one tick each, so the retry queue
  // never fills; the time is what the caller pays.
  let busy = 0n;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += 100) {
    const s = process.hrtime.bigint();
    for (let j = 0; j < 100; j++) c.trace(ev);
    busy += process.hrtime.bigint() - s;
    await new Promise((r) => setImmediate(r));
  }
  await c.flush(30000);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const st = c.stats();
  console.log(JSON.stringify({
    transport: c.transport,
    events: n,
    wall_s: +wall.toFixed(3),
    events_per_s: Math.round(n / wall),
    us_per_call: +(Number(busy) / 1e3 / n).toFixed(2),
    sent: st.sent,
    dropped: st.dropped,
  }));
  await c.close();
}
main();

'use strict';
// What each hook costs the gateway: replays the hook payloads a real
// OpenClaw 2026.9.6 passed (test/testdata/*.jsonl: a tool turn, a 429
// retried, plain turns, a Telegram DM) through the plugin, registered as
// OpenClaw registers it, sending to a unix datagram socket this process
// binds (UDP on loopback when unix-dgram does not load).
//   node bench.js [rounds] [--guard | --guard-over]  (default 2000 rounds of the recorded hook calls)
//   OCT_UNIX_DGRAM=<dir of a unix-dgram built for this Node> node bench.js
// With --guard the plugin runs with guard "block" and six budgets in
// memory (one of each scope kind but cron), none over; --guard-over with
// the agent's over, so every run is blocked and its first tool call too:
// what before_model_resolve, before_agent_run and before_tool_call cost
// with the guard on. Its refresh goes to a closed
// port (off the hooks); the budgets are set as an answer would set them.
// Each hook call runs in its own macrotask, as in the gateway, so work the
// plugin defers runs between them. Prints, per hook: calls, mean, p50, p99
// and max µs (the first, cold call apart) and the mean bytes allocated
// inside the call; and per hook call with everything (deferred work, sends)
// included: the process CPU and the median bytes allocated. Wall-clock
// figures: on a loaded machine the mean and max carry preemptions.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const dgram = require('node:dgram');

const args = process.argv.slice(2);
const over = args.includes('--guard-over');
const withGuard = over || args.includes('--guard');
const rounds = Number(args.find((a) => /^\d+$/.test(a)) || 2000);
const ud = loadUnixDgram();

function loadUnixDgram() {
  try {
    if (process.env.OCT_UNIX_DGRAM) return require(path.resolve(process.env.OCT_UNIX_DGRAM));
    return require(require.resolve('unix-dgram', { paths: [path.join(__dirname, '..', 'node')] }));
  } catch {
    return null;
  }
}

function recorded() {
  const lines = [];
  for (const f of ['hooks-2026.9.6.jsonl', 'hooks-telegram-2026.9.6.jsonl', 'hooks-attribution-2026.9.6.jsonl']) {
    for (const l of fs.readFileSync(path.join(__dirname, 'test', 'testdata', f), 'utf8').split('\n')) if (l) lines.push(JSON.parse(l));
  }
  return lines;
}

// receiver binds the socket the plugin sends to and counts datagrams.
function receiver() {
  const r = { n: 0, cfg: null, close: null };
  if (ud) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oct-bench-'));
    const sock = path.join(dir, 'oct.sock');
    const s = ud.createSocket('unix_dgram', () => r.n++);
    s.bind(sock);
    r.cfg = { socketPath: sock, unixDgram: ud };
    r.close = () => {
      s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    };
    return Promise.resolve(r);
  }
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4', () => r.n++);
    s.bind(0, '127.0.0.1', () => {
      r.cfg = { transport: 'udp', udpPort: s.address().port, unixDgram: null };
      r.close = () => s.close();
      resolve(r);
    });
  });
}

function fakeApi(pluginConfig, mode) {
  const hooks = {};
  return {
    id: 'openclaw-trace',
    registrationMode: mode,
    pluginConfig,
    config: { plugins: { entries: { 'openclaw-trace': { enabled: true, hooks: { allowConversationAccess: true } } } } },
    logger: { info() {}, warn() {}, error() {} },
    on: (name, fn) => (hooks[name] = fn),
    hooks,
  };
}

// renamed copies the events of one round with ids of their own, so calls
// and sessions are new each round as in a gateway that runs for hours.
function renamed(lines, i) {
  const out = structuredClone(lines);
  const ren = (o, k) => o && typeof o[k] === 'string' && (o[k] = `${o[k]}~${i}`);
  for (const x of out) {
    for (const k of ['sessionKey', 'runId', 'callId', 'sessionId']) {
      ren(x.e, k);
      ren(x.c, k);
    }
    // as OpenClaw passes them (dispatchModelCallEndedHook)
    if (x.hook === 'model_call_ended') Object.freeze(x.e) && Object.freeze(x.c);
  }
  return out;
}

const tick = () => new Promise((r) => setImmediate(r));

function stats(ns) {
  const s = [...ns].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const us = (v) => +(v / 1e3).toFixed(2);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(s.length * q))];
  return { mean: us(mean), p50: us(at(0.5)), p99: us(at(0.99)), max: us(s[s.length - 1]) };
}

// budgets is what GET /v1/budgets answers, for --guard.
function budgets() {
  const start = Date.now() - 3600000;
  const b = (kind, value, limit, spent) => ({
    id: `${kind}=${value}/day`, scope_kind: kind, scope_value: value, window: 'day', window_start: start, window_end: start + 86400000,
    resets_at: start + 86400000, limit_usd: limit, spent_usd: spent, calls: 10, unpriced_calls: 0, state: spent >= limit ? 'over' : 'ok',
  });
  return { zone: 'UTC', budgets: [b('channel', 'slack', 5, 1), b('trigger', 'heartbeat', 1, 0.2), b('model', 'openai/gpt-4o', 50, 3), b('session', 'agent:ops:main', 2, 0), { ...b('all', '', 100, 10), id: 'all/day' }, b('agent', 'main', 2, over ? 2.5 : 1)] };
}

async function main() {
  const r = await receiver();
  const guardCfg = withGuard ? { guard: 'block', httpUrl: 'http://127.0.0.1:9', staleMs: 3600000 } : {};
  // OpenClaw loads the module afresh for each registration: full, then discovery
  const api = fakeApi({ ...r.cfg, statsIntervalMs: 0, ...guardCfg }, 'full');
  const plugin = require('./index.js');
  plugin.register(api);
  if (withGuard) globalThis[Symbol.for('openclaw-trace.plugin.v2')].guard.update(budgets(), Date.now());
  // everything handed over, sent (before issue 20 the plugin had no flush of its own)
  const flush = () => (plugin.flush ? plugin.flush() : plugin.tracerFor().flush());
  delete require.cache[require.resolve('./index.js')];
  require('./index.js').register(fakeApi({ ...r.cfg, statsIntervalMs: 0, ...guardCfg }, 'discovery'));
  const lines = recorded().filter((x) => api.hooks[x.hook]);
  // assistant messages apart: the other messages return at once
  const key = (x) => (x.hook === 'before_message_write' && x.e.message && x.e.message.role === 'assistant' ? 'before_message_write (assistant)' : x.hook);
  const per = {};
  for (const x of lines) per[key(x)] = per[key(x)] || { first: undefined, ns: [], bytes: [] };

  // pass 1: time; pass 2: heap allocated inside each call
  let calls = 0;
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    for (const x of renamed(lines, i)) {
      const fn = api.hooks[x.hook];
      const t0 = process.hrtime.bigint();
      fn(x.e, x.c);
      const d = Number(process.hrtime.bigint() - t0);
      const h = per[key(x)];
      if (h.first === undefined) h.first = d;
      else h.ns.push(d);
      calls++;
      await tick();
    }
    await flush();
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - wall0);
  const allocRounds = Math.min(rounds, 500);
  for (let i = 0; i < allocRounds; i++) {
    for (const x of renamed(lines, rounds + i)) {
      const fn = api.hooks[x.hook];
      const a = process.memoryUsage().heapUsed;
      fn(x.e, x.c);
      const b = process.memoryUsage().heapUsed;
      if (b >= a) per[key(x)].bytes.push(b - a); // below: a GC ran in between
      await tick();
    }
    await flush();
  }
  // pass 3: heap allocated per hook call by everything, deferred work and
  // sends included (rounds a GC ran in are left out)
  const perCall = [];
  for (let i = 0; i < allocRounds; i++) {
    const round = renamed(lines, 2 * rounds + i);
    const a = process.memoryUsage().heapUsed;
    for (const { hook, e, c } of round) {
      api.hooks[hook](e, c);
      await tick();
    }
    await flush();
    const b = process.memoryUsage().heapUsed;
    if (b >= a) perCall.push((b - a) / round.length);
  }
  perCall.sort((x, y) => x - y);
  const tracer = plugin.tracerFor();
  // the receiver reads the last datagrams on later turns of the loop
  const sent = tracer ? Object.values(tracer.client.stats().sent).reduce((x, y) => x + y, 0) : 0;
  for (let deadline = Date.now() + 2000; r.n < sent && Date.now() < deadline; ) await new Promise((ok) => setTimeout(ok, 10));
  await tick();
  const out = {
    node: process.version,
    guard: withGuard ? globalThis[Symbol.for('openclaw-trace.plugin.v2')].guard.counts : 'off',
    transport: tracer ? tracer.client.transport : 'none',
    rounds,
    hook_calls: calls,
    hooks: {},
    cpu_us_per_call_all_work: +((cpu.user + cpu.system) / calls).toFixed(2),
    wall_us_per_call: +(wall / 1e3 / calls).toFixed(2),
    bytes_per_call_all_work: perCall.length ? Math.round(perCall[perCall.length >> 1]) : null,
    datagrams_received: r.n,
    client: tracer ? { sent: tracer.client.stats().sent, dropped: tracer.client.stats().dropped } : null,
  };
  for (const [hook, h] of Object.entries(per)) {
    const bytes = h.bytes.length ? Math.round(h.bytes.reduce((a, b) => a + b, 0) / h.bytes.length) : null;
    out.hooks[hook] = { calls: h.ns.length + 1, ...stats(h.ns), first_us: +(h.first / 1e3).toFixed(1), bytes_mean: bytes };
  }
  console.log(JSON.stringify(out, null, 1));
  if (tracer) await tracer.close();
  const poller = globalThis[Symbol.for('openclaw-trace.plugin.v2')].poller;
  if (poller) poller.stop();
  r.close();
}

main();

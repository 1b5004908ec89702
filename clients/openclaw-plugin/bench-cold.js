'use strict';
// What each hook costs when its code and data are cold, as inside the real
// gateway: an `openclaw agent --local` process makes a handful of model
// calls, and between two hooks the agent's own work evicts the plugin from
// the CPU caches, so bench.js's warm figures (thousands of calls in a loop)
// are 5-10 times too kind. Each run is a fresh Node process that registers
// the plugin as OpenClaw does (full, then discovery passes from fresh
// module copies), then replays one recorded turn (test/testdata), one hook
// call a macrotask, and between two calls sweeps 32 MB and builds and
// serializes 20,000 objects. An empty function timed the same way gives
// the floor of the measurement.
//   node bench-cold.js [runs] [recording]   (default 20 runs of hooks-attribution-2026.9.6.jsonl)
// Prints per hook: calls, mean, p50 and max µs over all runs.
//   node bench-cold.js --idle [seconds]     (default 10)
// Prints the CPU an idle process spends with the plugin registered (its
// timer, its rehearsals) over that time, and a bare process's.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const CHILD = '--child';

function child(file) {
  const lines = fs
    .readFileSync(path.join(__dirname, 'test', 'testdata', file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const api = (mode) => {
    const hooks = {};
    return {
      id: 'openclaw-trace',
      registrationMode: mode,
      pluginConfig: { transport: 'udp', udpPort: 9 }, // the discard port: sends go nowhere, off the hooks
      config: { plugins: { entries: { 'openclaw-trace': { enabled: true, hooks: { allowConversationAccess: true } } } } },
      logger: { info() {}, warn() {}, error() {} },
      on: (name, fn) => (hooks[name] = fn),
      hooks,
    };
  };
  const full = api('full');
  require('./index.js').register(full);
  for (let i = 0; i < 3; i++) {
    for (const k of Object.keys(require.cache)) if (k.startsWith(__dirname)) delete require.cache[k];
    require('./index.js').register(api('discovery'));
  }
  const sweep = new Float64Array(4 << 20);
  let sink = 0;
  const agentWork = () => {
    for (let i = 0; i < sweep.length; i += 8) sweep[i] += i;
    const o = [];
    for (let i = 0; i < 20000; i++) o.push({ a: i, b: `x${i}`, c: [i] });
    sink += JSON.stringify(o).length;
  };
  const empty = (e, c) => (e && c ? undefined : sink);
  const out = [];
  const timed = async (name, fn, e, c) => {
    agentWork();
    await new Promise((r) => setImmediate(r));
    const t0 = process.hrtime.bigint();
    fn(e, c);
    out.push([name, Number(process.hrtime.bigint() - t0) / 1e3]);
  };
  (async () => {
    for (const { hook, e, c } of lines) {
      const fn = full.hooks[hook];
      if (!fn) continue;
      if (hook === 'model_call_ended') Object.freeze(e) && Object.freeze(c); // as OpenClaw passes them
      const name = hook === 'before_message_write' && e.message && e.message.role === 'assistant' ? 'before_message_write (assistant)' : hook;
      await timed('(empty function)', empty, e, c);
      await timed(name, fn, e, c);
    }
    process.stdout.write(JSON.stringify(out));
    process.exit(0);
  })();
}

function main() {
  const args = process.argv.slice(2);
  const runs = Number(args.find((a) => /^\d+$/.test(a)) || 20);
  const file = args.find((a) => a.endsWith('.jsonl')) || 'hooks-attribution-2026.9.6.jsonl';
  const per = {};
  for (let i = 0; i < runs; i++) {
    const got = JSON.parse(execFileSync(process.execPath, [__filename, CHILD, file], { encoding: 'utf8' }));
    for (const [name, us] of got) (per[name] = per[name] || []).push(us);
  }
  const hooks = {};
  for (const [name, v] of Object.entries(per)) {
    const s = [...v].sort((a, b) => a - b);
    const r = (x) => +x.toFixed(1);
    hooks[name] = { calls: s.length, mean: r(s.reduce((a, b) => a + b, 0) / s.length), p50: r(s[s.length >> 1]), max: r(s[s.length - 1]) };
  }
  console.log(JSON.stringify({ node: process.version, runs, recording: file, hooks_us: hooks }, null, 1));
}

// idle registers the plugin (or not) and reports the process CPU of the
// next seconds, in ms.
function idle(seconds, register) {
  if (register) {
    require('./index.js').register({
      id: 'openclaw-trace',
      registrationMode: 'full',
      pluginConfig: { transport: 'udp', udpPort: 9 },
      config: { plugins: { entries: { 'openclaw-trace': { enabled: true, hooks: { allowConversationAccess: true } } } } },
      logger: { info() {}, warn() {}, error() {} },
      on() {},
    });
  }
  const c0 = process.cpuUsage();
  setTimeout(() => {
    const c = process.cpuUsage(c0);
    process.stdout.write(String((c.user + c.system) / 1000));
    process.exit(0);
  }, seconds * 1000);
}

if (process.argv[2] === CHILD) child(process.argv[3]);
else if (process.argv[2] === '--idle-child') idle(Number(process.argv[3]), process.argv[4] === 'plugin');
else if (process.argv[2] === '--idle') {
  const seconds = Number(process.argv[3] || 10);
  const run = (what) => Number(execFileSync(process.execPath, [__filename, '--idle-child', String(seconds), what], { encoding: 'utf8' }));
  console.log(JSON.stringify({ node: process.version, seconds, cpu_ms_bare: run('bare'), cpu_ms_plugin: run('plugin') }));
} else main();

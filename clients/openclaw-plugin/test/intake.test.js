'use strict';
// The hooks hand over OpenClaw's events and return; the work runs off them, in
// batches, and nothing is lost when the process ends: real processes
// sending to the real daemon's unix socket.
//   OCT_UNIX_DGRAM=<dir of a unix-dgram built for this Node> runs the exit
//   tests on a Node that clients/node/node_modules was not built for.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const dgram = require('node:dgram');
const { spawnSync } = require('node:child_process');
const { startDaemon, waitFor, optional, tempDir } = require('../../testkit/daemon.js');
const { BATCH, MAX_QUEUED, IDLE_TICK_MS } = require('../intake');

const SHARED = Symbol.for('openclaw-trace.plugin.v2');
const PLUGIN = path.join(__dirname, '..');
const RECORDED = path.join(__dirname, 'testdata', 'hooks-2026.9.6.jsonl');

function freshPlugin() {
  delete globalThis[SHARED];
  delete require.cache[require.resolve('..')];
  return require('..');
}

function fakeApi(pluginConfig) {
  const hooks = {};
  return {
    id: 'openclaw-trace',
    registrationMode: 'full',
    pluginConfig,
    config: { plugins: { entries: { 'openclaw-trace': { hooks: { allowConversationAccess: true } } } } },
    logger: { info() {}, warn() {}, error() {} },
    on: (name, fn) => (hooks[name] = fn),
    hooks,
  };
}

// udpReceiver binds a UDP socket on loopback, closed when the test ends,
// and counts the datagrams it gets (got).
async function udpReceiver(t) {
  const sock = dgram.createSocket('udp4');
  const rx = { got: 0, port: 0 };
  sock.on('message', () => rx.got++);
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  t.after(() => sock.close());
  rx.port = sock.address().port;
  return rx;
}

function unixDgram(t) {
  if (process.env.OCT_UNIX_DGRAM) return require(path.resolve(process.env.OCT_UNIX_DGRAM));
  return optional('unix-dgram', t);
}

test('a hook only hands over: it sends nothing itself; the work runs off the hooks, in batches', async (t) => {
  const rx = await udpReceiver(t);
  const plugin = freshPlugin();
  const api = fakeApi({ transport: 'udp', udpPort: rx.port, statsIntervalMs: 0 });
  plugin.register(api);
  const tracer = plugin.tracerFor();
  // turn counts the event loop's turns; each event notes the turn it was handled in
  let turn = 0;
  let spinning = true;
  const spin = () => {
    turn++;
    if (spinning) setImmediate(spin);
  };
  spin();
  const turns = [];
  const onMessage = tracer.onMessage.bind(tracer);
  tracer.onMessage = (...a) => (turns.push(turn), onMessage(...a));
  const n = BATCH + 36;
  for (let i = 0; i < n; i++) api.hooks.message_received({ from: `u${i}`, content: 'hi' }, { channelId: 'telegram', sessionKey: `s${i}` });
  assert.equal(turns.length, 0, 'the hooks handled nothing themselves');
  await waitFor('every event handled', () => turns.length === n);
  spinning = false;
  const batches = [];
  turns.forEach((x, i) => (i > 0 && x === turns[i - 1] ? batches[batches.length - 1]++ : batches.push(1)));
  assert.deepEqual(batches, [BATCH, n - BATCH], 'one batch per turn of the event loop');
  await waitFor('datagrams', () => rx.got === n);
  await tracer.close();
});

test('idle, the timer slows down and rehearses the hooks, which hand nothing to the tracer; the next event is handled at once', async (t) => {
  const rx = await udpReceiver(t);
  const plugin = freshPlugin();
  const api = fakeApi({ transport: 'udp', udpPort: rx.port, statsIntervalMs: 0 });
  plugin.register(api);
  const intake = globalThis[SHARED].intake;
  const tracer = plugin.tracerFor();
  const hooks = Object.keys(api.hooks).filter((h) => h !== 'gateway_stop');
  assert.equal(intake.rehearsals.length, hooks.length, 'every hook of the live registration is rehearsed');
  // count the rehearsals the idle ticks run
  let rehearsed = 0;
  const rehearse = intake.rehearse.bind(intake);
  intake.rehearse = (...a) => (rehearsed++, rehearse(...a));
  await waitFor('the idle timer', () => intake.timerMs === IDLE_TICK_MS && rehearsed >= 2 * hooks.length);
  assert.deepEqual([intake.head, intake.len], [0, 0], 'nothing left queued');
  assert.deepEqual(intake.last, [null, null, null, null, null, null], 'no rehearsal event remembered');
  assert.equal(tracer.counts.messagesOut + tracer.counts.calls, 0, 'the tracer saw nothing');
  assert.equal(intake.counts.failed, 0);
  api.hooks.message_sent({ to: 'u1', success: true }, { channelId: 'telegram' });
  await waitFor('the event after the idle time', () => tracer.counts.messagesOut === 1);
  assert.equal(intake.timerMs, intake.tickMs, 'back to the fast tick');
  await plugin.flush();
  await waitFor('its datagram', () => rx.got === 1);
  await tracer.close();
});

test('a queue that is never worked off is worked off by the hook, not held without bound', async () => {
  const plugin = freshPlugin();
  const api = fakeApi({ transport: 'udp', udpPort: 9, statsIntervalMs: 0 });
  plugin.register(api);
  const tracer = plugin.tracerFor();
  const n = MAX_QUEUED + 10;
  for (let i = 0; i < n; i++) api.hooks.message_sent({ to: `u${i}`, success: true }, { channelId: 'telegram' });
  assert.equal(tracer.counts.messagesOut, MAX_QUEUED, 'the full queue was worked off inside the hook');
  assert.equal(globalThis[SHARED].intake.counts.drainedOnHook, 1);
  await plugin.flush();
  assert.equal(tracer.counts.messagesOut, n, 'nothing lost');
  await tracer.close();
});

test('the configuration is read once per registration, not on every hook', async () => {
  const plugin = freshPlugin();
  let reads = 0;
  const cfg = { transport: 'udp', statsIntervalMs: 0 };
  Object.defineProperty(cfg, 'udpPort', { enumerable: true, get: () => (reads++, 9) });
  const api = fakeApi(cfg);
  plugin.register(api);
  const atRegister = reads;
  assert.ok(atRegister > 0);
  for (const l of fs.readFileSync(RECORDED, 'utf8').split('\n').filter(Boolean)) {
    const { hook, e, c } = JSON.parse(l);
    if (api.hooks[hook]) api.hooks[hook](e, c);
  }
  await plugin.flush();
  assert.equal(plugin.tracerFor().counts.paired, 5);
  assert.equal(reads, atRegister, 'hooks read the configuration');
  await plugin.tracerFor().close();
});

// child runs a process that registers the plugin, feeds it the first
// recorded call (model_call_ended, then its message, or only the first
// when alone) and ends as end says, without awaiting anything.
function child(sock, end, env = {}) {
  const script = `
    const fs = require('node:fs');
    const plugin = require(${JSON.stringify(PLUGIN)});
    const hooks = {};
    const ud = process.env.OCT_UNIX_DGRAM ? require(require('node:path').resolve(process.env.OCT_UNIX_DGRAM)) : undefined;
    plugin.register({ id: 'openclaw-trace', registrationMode: 'full', config: {}, logger: { warn() {} }, on: (n, f) => (hooks[n] = f),
      pluginConfig: { socketPath: ${JSON.stringify(sock)}, transport: 'unix', statsIntervalMs: 0, settleMs: 60000, ...(ud ? { unixDgram: ud } : {}) } });
    const lines = fs.readFileSync(${JSON.stringify(RECORDED)}, 'utf8').split('\\n').filter(Boolean).map((l) => JSON.parse(l));
    const end = lines.find((x) => x.hook === 'model_call_ended');
    const msg = lines.find((x) => x.hook === 'before_message_write' && x.e.message.role === 'assistant');
    hooks.model_call_ended(end.e, end.c);
    if (${JSON.stringify(end)} !== 'alone') hooks.before_message_write(msg.e, msg.c);
    if (${JSON.stringify(end)} === 'exit') process.exit(0);
    if (${JSON.stringify(end)} === 'gateway_stop') hooks.gateway_stop();
  `;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
}

for (const [end, want] of [
  ['exit', 'process.exit() in the same tick as the hooks: the exit handler sends'],
  ['alone', 'the loop runs empty with a half still waiting for its pair: beforeExit sends it'],
  ['gateway_stop', 'gateway_stop sends and closes'],
]) {
  test(`nothing is lost at the end (${want})`, async (t) => {
    if (!unixDgram(t)) return;
    const d = await startDaemon({ udp: false });
    t.after(() => d.stop());
    const stats = path.join(tempDir(), 'stats.jsonl');
    child(d.socketPath, end, { OCT_PLUGIN_STATS_FILE: stats });
    await waitFor('the row', () => d.query('SELECT count(*) AS n FROM llm_traces')[0].n === 1);
    const [r] = d.query('SELECT prompt_tokens, latency_ms, metadata FROM llm_traces');
    assert.equal(r.latency_ms, 71, 'model_call_ended\'s duration');
    assert.equal(r.prompt_tokens, end === 'alone' ? null : 1001);
    assert.equal(JSON.parse(r.metadata).matched, end === 'alone' ? 'model_call_ended_only' : undefined);
    // the stats file (opt-in) has one line for the process, the hooks timed
    const lines = fs.readFileSync(stats, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].hooks.model_call_ended.n, 1);
    assert.equal(lines[0].counts.calls, 1);
  });
}

test('without OCT_PLUGIN_STATS_FILE the hooks are not timed and no file is written', async () => {
  delete process.env.OCT_PLUGIN_STATS_FILE;
  const plugin = freshPlugin();
  const api = fakeApi({ transport: 'udp', udpPort: 9, statsIntervalMs: 0 });
  plugin.register(api);
  api.hooks.message_received({ from: 'u', content: 'hi' }, { channelId: 'telegram' });
  await plugin.flush();
  const intake = globalThis[SHARED].intake;
  assert.deepEqual([intake.statsFile, intake.hooks], ['', {}]);
  await plugin.tracerFor().close();
});

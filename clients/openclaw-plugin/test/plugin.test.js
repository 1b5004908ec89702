'use strict';
// The plugin's hooks, fed the payloads a real OpenClaw 2026.9.6 passed
// (testdata/hooks-2026.9.6.jsonl, recorded from `openclaw agent --local`
// turns against a mock provider: a tool turn with two model calls, a turn
// whose first call got a 429 and was retried, a plain turn), end to end
// into the real daemon's SQLite file.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startDaemon, waitFor } = require('../../testkit/daemon.js');

const RECORDED = path.join(__dirname, 'testdata', 'hooks-2026.9.6.jsonl');
const SHARED = Symbol.for('openclaw-trace.plugin.v2');

// freshPlugin loads the module anew, as OpenClaw does for each registration,
// with no tracer left from an earlier test.
function freshPlugin() {
  delete globalThis[SHARED];
  delete require.cache[require.resolve('..')];
  return require('..');
}

function fakeApi(pluginConfig, { access = true, mode = 'full' } = {}) {
  const hooks = {};
  const warnings = [];
  return {
    id: 'openclaw-trace',
    registrationMode: mode,
    pluginConfig,
    config: { plugins: { entries: { 'openclaw-trace': { enabled: true, hooks: { allowConversationAccess: access } } } } },
    logger: { info() {}, warn: (l) => warnings.push(l), error() {} },
    on(name, fn) {
      hooks[name] = fn;
    },
    hooks,
    warnings,
  };
}

// recorded returns the recorded hook calls; model_call_ended's event and
// context frozen, as OpenClaw passes them (dispatchModelCallEndedHook).
function recorded() {
  return fs
    .readFileSync(RECORDED, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .map((x) => (x.hook === 'model_call_ended' ? { ...x, e: Object.freeze(x.e), c: Object.freeze(x.c) } : x));
}

// replay delivers each recorded event to every api that registered the
// hook (OpenClaw registers a plugin more than once), as OpenClaw does: the
// same object, but before_message_write's a new one per handler around the
// same message (runSyncMessageHookStep's {...event, message}).
function replay(apis, events) {
  for (const { hook, e, c } of events) {
    for (const api of apis) if (api.hooks[hook]) api.hooks[hook](hook === 'before_message_write' ? { ...e, message: e.message } : e, c);
  }
}

async function rows(d, n) {
  await waitFor(`${n} traces`, () => d.query('SELECT count(*) AS n FROM llm_traces')[0].n >= n);
  return d.query('SELECT * FROM llm_traces ORDER BY id');
}

test('recorded real hooks: one row per model call, with that call\'s tokens, cost and errors', async (t) => {
  const d = await startDaemon({ unix: false });
  t.after(() => d.stop());
  const plugin = freshPlugin();
  const cfg = { transport: 'udp', udpPort: d.udpPort, httpUrl: d.httpUrl, captureText: true };
  // registered twice, as "full" and "discovery": one tracer, nothing doubled
  const a1 = fakeApi(cfg);
  const a2 = fakeApi(cfg, { mode: 'discovery' });
  plugin.register(a1);
  // a second copy of the module shares the tracer through globalThis
  delete require.cache[require.resolve('..')];
  require('..').register(a2);
  const events = recorded();
  replay([a1, a2], events);
  const tracer = plugin.tracerFor();
  await plugin.flush();

  const ends = events.filter((x) => x.hook === 'model_call_ended');
  const got = await rows(d, ends.length);
  assert.equal(got.length, ends.length, 'one row per model_call_ended, none doubled');
  assert.equal(tracer.counts.paired, ends.length, 'every call paired with its message');

  // row by row against the recorded messages (mock usage: prompt 1000+n incl. 200 cached, completion 100+n)
  const want = [
    [1001, 101, 200, 'ok', 'toolUse', 1],
    [1002, 102, 200, 'ok', 'stop', 1],
    [null, null, null, 'error', 'error', 1],
    [1004, 104, 200, 'ok', 'stop', 2],
    [1005, 105, 200, 'ok', 'stop', 1],
  ];
  got.forEach((r, i) => {
    const m = JSON.parse(r.metadata);
    const e = ends[i].e;
    const [prompt, completion, cached, status, finish, attempt] = want[i];
    // the failed call wrote usage all zero: no usage, stored NULL, not 0
    assert.deepEqual(
      [r.prompt_tokens, r.completion_tokens, r.cache_read_tokens, r.status, m.finish_reason, m.attempt ?? 1],
      [prompt, completion, cached, status, finish, attempt],
      `row ${i}`,
    );
    assert.equal(r.latency_ms, e.durationMs, `row ${i} latency`);
    assert.equal(r.ttft_ms, e.timeToFirstByteMs, `row ${i} ttft`);
    assert.deepEqual([m.call_id, r.run_id, m.session_id, r.session_key], [e.callId, e.runId, e.sessionId, e.sessionKey]);
    // attribution as columns: the agent from before_message_write's ctx (this
    // recording has no before_model_resolve, so no trigger: llm_output, which
    // has it, comes after the run's calls; see attribution.test.js)
    assert.deepEqual([r.agent_id, r.call_kind], ['main', 'turn'], `row ${i} attribution`);
    assert.equal(r.provider, 'mock');
    assert.equal(r.model, 'm1');
  });
  // OpenClaw's 0.003978000000000001, stored at 1e-9 USD
  assert.deepEqual([got[0].cost_usd, got[0].cost_source], [0.003978, 'supplied']);
  assert.equal(got[1].output_text, 'pong 2');

  // per-call tokens add up to each attempt's llm_output usage
  for (const lo of events.filter((x) => x.hook === 'llm_output' && x.e.usage)) {
    const mine = got.filter((r) => r.run_id === lo.e.runId && r.status === 'ok');
    const last = mine.slice(-(lo.e.runId.startsWith('f85') ? 2 : 1));
    const sum = (f) => last.reduce((s, r) => s + r[f], 0);
    const u = lo.e.usage;
    assert.equal(sum('prompt_tokens'), u.input + u.cacheRead + u.cacheWrite, `run ${lo.e.runId} prompt`);
    assert.equal(sum('completion_tokens'), u.output, `run ${lo.e.runId} completion`);
    assert.ok(Math.abs(last.reduce((s, r) => s + r.cost_usd, 0) - u.cost.total) < 2e-9, 'cost');
  }

  // the 429: an error row and an llm_error with a useful code, not "Error"
  const failed = got[2];
  assert.equal(failed.error_type, 'rate_limit');
  // no tokens and no cost: unknown, not a priced $0
  assert.deepEqual([failed.cost_usd, failed.cost_source, failed.total_tokens], [null, 'no_usage', null]);
  const fm = JSON.parse(failed.metadata);
  assert.deepEqual([fm.http_status, fm.provider_error_code, fm.error_category], [429, 'rate_limit_exceeded', 'Error']);
  await waitFor('llm_error', () => d.query("SELECT count(*) AS n FROM error_events WHERE error_type='llm_error'")[0].n === 1);
  const err = d.query('SELECT * FROM error_events')[0];
  assert.equal(err.code, 'rate_limit');
  assert.match(err.message, /mock\/m1 call failed: 429 Rate limit exceeded/);
  assert.equal(JSON.parse(err.metadata).call_id, ends[2].e.callId);

  // harness and resolved ref come from llm_output once seen for the session
  assert.equal(JSON.parse(got[4].metadata).harness, 'openclaw');
  assert.equal(JSON.parse(got[4].metadata).resolved_ref, 'mock/m1');
  assert.deepEqual(a1.warnings, [], 'no access warning when access is granted');
  await tracer.close();
  assert.deepEqual(tracer.client.stats().dropped, { unix: 0, udp: 0, http: 0 });
});

test('without allowConversationAccess: same rows, llm_output not registered, one warning', async (t) => {
  const d = await startDaemon({ unix: false });
  t.after(() => d.stop());
  const plugin = freshPlugin();
  const api = fakeApi({ transport: 'udp', udpPort: d.udpPort, httpUrl: d.httpUrl }, { access: false });
  plugin.register(api);
  plugin.register(fakeApi({ transport: 'udp', udpPort: d.udpPort }, { access: false }));
  assert.equal(api.hooks.llm_output, undefined, 'a gated hook is not registered (no "blocked" diagnostic)');
  assert.equal(api.warnings.length, 1);
  assert.match(api.warnings[0], /allowConversationAccess true/);
  replay([api], recorded());
  await plugin.flush();
  const got = await rows(d, 5);
  assert.deepEqual(
    got.map((r) => [r.prompt_tokens, r.completion_tokens, r.status]),
    [[1001, 101, 'ok'], [1002, 102, 'ok'], [null, null, 'error'], [1004, 104, 'ok'], [1005, 105, 'ok']],
  );
  assert.equal(JSON.parse(got[4].metadata).harness, undefined);
  await plugin.tracerFor().close();
});

test('a call whose message never comes is sent alone after settleMs; message hooks become log events', async (t) => {
  const d = await startDaemon({ unix: false });
  t.after(() => d.stop());
  const plugin = freshPlugin();
  const api = fakeApi({ transport: 'udp', udpPort: d.udpPort, httpUrl: d.httpUrl, settleMs: 50, captureText: true });
  plugin.register(api);
  const h = api.hooks;
  const t0 = Date.now();
  h.model_call_ended(
    { runId: 'r2', callId: 'r2:model:1', sessionKey: 'agent:main:telegram:42', provider: 'openai', model: 'gpt-4o', durationMs: 30000, outcome: 'error', errorCategory: 'Error', failureKind: 'timeout' },
    { runId: 'r2', sessionKey: 'agent:main:telegram:42' },
  );
  // message hooks, shaped as PluginHookMessageReceivedEvent / PluginHookMessageContext
  h.message_received({ from: 'u1', content: 'hello', timestamp: 1 }, { channelId: 'telegram', sessionKey: 'agent:main:telegram:42', messageId: 'm1' });
  h.message_sent({ to: 'u1', content: 'hi', success: true }, { channelId: 'telegram', sessionKey: 'agent:main:telegram:42' });
  h.message_sent({ to: 'u2', content: 'hi', success: false, error: 'chat not found' }, { channelId: 'telegram' });
  assert.doesNotThrow(() => {
    h.model_call_ended(undefined, undefined);
    h.before_message_write(null, null);
    h.message_received(null, null);
  }, 'hooks never throw, whatever they get');

  // settleMs is 50 here: sent well under the 5 s bound even on a loaded
  // machine (watched in the tracer: a database query can take seconds there)
  await waitFor('the call sent alone', () => plugin.tracerFor().counts.callOnly === 1);
  assert.ok(Date.now() - t0 < 5000, 'sent after settleMs, not after a long match timeout');
  const [r] = await rows(d, 1);
  assert.deepEqual([r.status, r.error_type, r.latency_ms, r.prompt_tokens], ['timeout', 'timeout', 30000, null]);
  assert.equal(JSON.parse(r.metadata).matched, 'model_call_ended_only');
  await waitFor('errors', () => d.query('SELECT count(*) AS n FROM error_events')[0].n === 2 && d.query('SELECT count(*) AS n FROM log_events')[0].n === 3);
  const errs = d.query('SELECT * FROM error_events ORDER BY id');
  const llm = errs.find((e) => e.error_type === 'llm_error');
  assert.equal(llm.code, 'timeout');
  const send = errs.find((e) => e.error_type === 'system_error');
  assert.deepEqual([send.code, send.severity, send.message], ['channel_send_failed', 'warning', 'chat not found']);
  const logs = d.query('SELECT * FROM log_events ORDER BY id');
  assert.deepEqual(logs.map((l) => [l.kind, l.channel, l.level]), [
    ['channel_in', 'telegram', 'info'],
    ['channel_out', 'telegram', 'info'],
    ['channel_out', 'telegram', 'error'],
  ]);
  assert.equal(JSON.parse(logs[0].metadata).from, 'u1');
  assert.equal(logs[0].message, 'hello');
  await plugin.tracerFor().close();
});

test('the waiting halves stay bounded', () => {
  const { Tracer } = freshPlugin();
  const sent = [];
  const fake = { trace: (e) => sent.push(e), error() {}, log() {}, flush: async () => {}, close: async () => {} };
  const tr = new Tracer(fake, { maxPending: 10, settleMs: 60000 });
  for (let i = 0; i < 25; i++) tr.onModelCallEnded({ runId: `r${i}`, sessionKey: `s${i}`, provider: 'p', model: 'm', outcome: 'completed' }, {});
  assert.equal(tr.npending, 10);
  assert.equal(sent.length, 15, 'the oldest are sent alone');
  tr.flushPending();
  assert.equal(tr.npending, 0);
  assert.equal(sent.length, 25);
});

test('a zero cost from OpenClaw\'s catalog is no price; a provider-billed zero is', () => {
  const { usageFields } = require('../fields.js');
  const cases = [
    [{ input: 100, output: 20, cost: { total: 0 } }, undefined], // model without catalog rates
    [{ input: 100, output: 20, cost: { total: 0.0012 } }, 0.0012],
    [{ input: 0, output: 0, cost: { total: 0 } }, 0], // nothing used: 0 is the price
    [{ input: 100, output: 20, cost: { total: 0, totalOrigin: 'provider-billed' } }, 0],
    [{ input: 100, output: 20 }, undefined],
  ];
  for (const [usage, want] of cases) {
    assert.equal(usageFields(usage).cost_usd, want, JSON.stringify(usage));
  }
});

test('falling back from the unix socket to UDP is said once, in the gateway log', () => {
  const plugin = freshPlugin();
  // unixDgram: null acts as if unix-dgram did not load (built for another Node)
  const cfg = { socketPath: '/nonexistent/oct.sock', unixDgram: null, udpPort: 9, statsIntervalMs: 0 };
  const a1 = fakeApi(cfg);
  const a2 = fakeApi(cfg, { mode: 'discovery' });
  plugin.register(a1);
  delete require.cache[require.resolve('..')];
  require('..').register(a2);
  const lines = [...a1.warnings, ...a2.warnings].filter((l) => /unix socket unavailable/.test(l));
  assert.equal(lines.length, 1, 'one line per process');
  assert.match(lines[0], /\(unix-dgram: disabled \(unixDgram: null\)\); sending over UDP 127\.0\.0\.1:9\. unix-dgram must be built for this Node \(v\d+/);
  assert.equal(plugin.tracerFor().client.transport, 'udp');
  return plugin.tracerFor().close();
});

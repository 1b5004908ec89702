'use strict';
// The plugin's hooks, driven by a fake OpenClaw api, end to end into the
// real daemon's SQLite file.

const test = require('node:test');
const assert = require('node:assert/strict');
const plugin = require('..');
const { startDaemon, waitFor } = require('../../testkit/daemon.js');

function fakeApi(pluginConfig) {
  const hooks = {};
  return {
    pluginConfig,
    logger: { info() {}, warn() {}, error() {} },
    on(name, fn) {
      hooks[name] = fn;
    },
    hooks,
  };
}

test('hooks become traces and errors in SQLite', async (t) => {
  const d = await startDaemon({ unix: false });
  t.after(() => d.stop());
  const api = fakeApi({ transport: 'udp', udpPort: d.udpPort, httpUrl: d.httpUrl, matchTimeoutMs: 100, captureText: true });
  plugin.register(api);
  const h = api.hooks;
  for (const name of ['llm_output', 'model_call_ended', 'message_received', 'message_sent']) {
    assert.equal(typeof h[name], 'function', `registers ${name}`);
  }
  const ctx = { agentId: 'main', channel: 'telegram', sessionKey: 'agent:main:telegram:42', runId: 'r1' };

  // 1. both halves of one call, model_call_ended first
  h.model_call_ended(
    { runId: 'r1', callId: 'c1', provider: 'anthropic', model: 'claude-sonnet-4', durationMs: 2300, outcome: 'completed', timeToFirstByteMs: 410 },
    ctx,
  );
  h.llm_output(
    {
      runId: 'r1',
      sessionId: 's1',
      provider: 'anthropic',
      model: 'claude-sonnet-4',
      prompt: 'hello',
      assistantTexts: ['hi', 'there'],
      usage: { input: 1000, output: 300, cacheRead: 200, cacheWrite: 50, total: 1550, cost: { total: 0.0081 } },
    },
    ctx,
  );
  // 2. a failed call: a trace with status and an llm_error
  h.model_call_ended(
    { runId: 'r2', callId: 'c2', provider: 'openai', model: 'gpt-4o', durationMs: 30000, outcome: 'error', errorCategory: 'timeout', failureKind: 'timeout' },
    { ...ctx, runId: 'r2' },
  );
  // 3. an llm_output whose model_call_ended never comes: sent alone after matchTimeoutMs
  h.llm_output({ runId: 'r3', provider: 'google', model: 'gemini-2.5', assistantTexts: [], usage: { input: 5, output: 6 } }, ctx);
  // 4. channel messages: each is a log event (channel_in/out); a failed send is also an error
  h.message_received({ from: 'u1', content: 'hello' }, { channelId: 'telegram' });
  h.message_sent({ to: 'u1', content: 'hi', success: true }, { channelId: 'telegram' });
  h.message_sent({ to: 'u2', content: 'hi', success: false, error: 'chat not found' }, { channelId: 'telegram' });
  // 5. hooks never throw, whatever they get
  assert.doesNotThrow(() => {
    h.llm_output(undefined, undefined);
    h.model_call_ended(null, null);
  });

  const tracer = plugin.tracerFor(api);
  await new Promise((r) => setTimeout(r, 200)); // past matchTimeoutMs
  await tracer.flush();

  await waitFor('rows', () => d.query('SELECT count(*) AS n FROM llm_traces')[0].n >= 3 && d.query('SELECT count(*) AS n FROM error_events')[0].n === 2 && d.query('SELECT count(*) AS n FROM log_events')[0].n === 3);
  const traces = d.query('SELECT * FROM llm_traces ORDER BY id');
  const byModel = Object.fromEntries(traces.map((r) => [r.model, r]));

  const a = byModel['claude-sonnet-4'];
  assert.equal(a.provider, 'anthropic');
  assert.equal(a.prompt_tokens, 1250, 'input + cacheRead + cacheWrite');
  assert.equal(a.completion_tokens, 300);
  assert.equal(a.total_tokens, 1550);
  assert.equal(a.cache_read_tokens, 200);
  assert.equal(a.cache_write_tokens, 50);
  assert.equal(a.cost_usd, 0.0081);
  assert.equal(a.latency_ms, 2300);
  assert.equal(a.ttft_ms, 410);
  assert.equal(a.status, 'ok');
  assert.equal(a.input_text, 'hello');
  assert.equal(a.output_text, 'hi\nthere');
  const am = JSON.parse(a.metadata);
  assert.deepEqual(
    [am.agent_id, am.channel, am.run_id, am.call_id, am.session_key, am.matched],
    ['main', 'telegram', 'r1', 'c1', 'agent:main:telegram:42', undefined],
  );

  const b = byModel['gpt-4o'];
  assert.equal(b.status, 'timeout');
  assert.equal(b.error_type, 'timeout');
  assert.equal(b.latency_ms, 30000);

  const c = byModel['gemini-2.5'];
  assert.equal(c.prompt_tokens, 5);
  assert.equal(c.latency_ms, null);
  assert.equal(JSON.parse(c.metadata).matched, 'llm_output_only');

  const errs = d.query('SELECT * FROM error_events ORDER BY id');
  const llm = errs.find((e) => e.error_type === 'llm_error');
  assert.equal(llm.code, 'timeout');
  assert.match(llm.message, /openai\/gpt-4o call failed: timeout/);
  assert.equal(JSON.parse(llm.metadata).call_id, 'c2');
  const send = errs.find((e) => e.error_type === 'system_error');
  assert.deepEqual([send.code, send.severity, send.message], ['channel_send_failed', 'warning', 'chat not found']);
  assert.equal(JSON.parse(send.metadata).channel, 'telegram');

  const logs = d.query('SELECT * FROM log_events ORDER BY id');
  assert.deepEqual(logs.map((l) => [l.kind, l.channel, l.level]), [
    ['channel_in', 'telegram', 'info'],
    ['channel_out', 'telegram', 'info'],
    ['channel_out', 'telegram', 'error'],
  ]);
  assert.equal(JSON.parse(logs[0].metadata).from, 'u1');

  assert.equal(tracer.counts.messagesIn, 1);
  assert.equal(tracer.counts.messagesOut, 2);
  await tracer.close();
  assert.deepEqual(tracer.client.stats().dropped, { unix: 0, udp: 0, http: 0 });
});

test('the map of waiting halves stays bounded', () => {
  const sent = [];
  const fake = { trace: (e) => sent.push(e), error() {}, flush: async () => {}, close: async () => {} };
  const tr = new plugin.Tracer(fake, { maxPending: 10, matchTimeoutMs: 60000 });
  for (let i = 0; i < 25; i++) tr.onLlmOutput({ runId: `r${i}`, provider: 'p', model: 'm' }, {});
  assert.equal(tr.npending, 10);
  assert.equal(sent.length, 15, 'the oldest are sent alone');
  tr.flush();
  assert.equal(tr.npending, 0);
  assert.equal(sent.length, 25);
});

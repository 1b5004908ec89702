'use strict';
// The message hooks, fed what a real OpenClaw 2026.9.6 gateway passed for
// one Telegram DM (testdata/hooks-telegram-2026.9.6.jsonl: the bundled
// telegram channel polling a mock Bot API, a mock model provider; recorded
// by a scratch plugin): message_received, the agent turn's hooks, and
// message_sent for the delivered reply, end to end into the real daemon.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startDaemon, waitFor } = require('../../testkit/daemon.js');

const RECORDED = path.join(__dirname, 'testdata', 'hooks-telegram-2026.9.6.jsonl');
const SHARED = Symbol.for('openclaw-trace.plugin.v2');

function freshPlugin() {
  delete globalThis[SHARED];
  delete require.cache[require.resolve('..')];
  return require('..');
}

function fakeApi(pluginConfig, access) {
  const hooks = {};
  return {
    id: 'openclaw-trace',
    registrationMode: 'full',
    pluginConfig,
    config: { plugins: { entries: { 'openclaw-trace': { enabled: true, hooks: { allowConversationAccess: access } } } } },
    logger: { info() {}, warn() {}, error() {} },
    on(name, fn) {
      hooks[name] = fn;
    },
    hooks,
  };
}

const recorded = () =>
  fs
    .readFileSync(RECORDED, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

for (const access of [true, false]) {
  test(`recorded Telegram DM (access ${access}): channel_in / channel_out with the real fields, the trace gets the channel`, async (t) => {
    const d = await startDaemon({ unix: false });
    t.after(() => d.stop());
    const plugin = freshPlugin();
    const api = fakeApi({ transport: 'udp', udpPort: d.udpPort, httpUrl: d.httpUrl, captureText: true }, access);
    plugin.register(api);
    for (const { hook, e, c } of recorded()) if (api.hooks[hook]) api.hooks[hook](e, c);
    await plugin.flush();
    await waitFor('rows', () => d.query('SELECT count(*) AS n FROM llm_traces')[0].n === 1 && d.query('SELECT count(*) AS n FROM log_events')[0].n === 2);

    const [tr] = d.query('SELECT * FROM llm_traces');
    // model_call_ended's ctx has no channel: it comes from message_received;
    // the agent from before_message_write's ctx; no hook before the call
    // gives the trigger without access (llm_output comes after it)
    assert.deepEqual(
      [tr.prompt_tokens, tr.completion_tokens, tr.channel, tr.session_key, tr.agent_id, tr.run_id, tr.call_kind],
      [10, 3, 'telegram', 'agent:main:telegram:direct:1001', 'main', 'bb7d1faa-12df-4cb7-87c8-20575df57a97', 'turn'],
    );

    const logs = d.query('SELECT * FROM log_events ORDER BY id');
    const got = logs.map((l) => {
      const m = JSON.parse(l.metadata);
      return [l.kind, l.channel, l.subsystem, l.level, l.message, m.agent_id, m.account_id, m.conversation_id, m.sender_id, m.from, m.to, m.message_id, m.success, m.session_key];
    });
    const key = 'agent:main:telegram:direct:1001';
    assert.deepEqual(got, [
      ['channel_in', 'telegram', 'gateway/channels/telegram', 'info', 'OCT-PLAIN-t4 hello from telegram', 'main', 'default', 'telegram:1001', '1001', 'telegram:1001', undefined, '43', undefined, key],
      ['channel_out', 'telegram', 'gateway/channels/telegram', 'info', 'hi there MHOK', 'main', 'default', 'telegram:1001', undefined, undefined, 'telegram:1001', '500', true, key],
    ]);
    await plugin.tracerFor().close();
  });
}

test('llm_output\'s ctx.channelId is the chat id, not the channel: the channel is ctx.channel / messageProvider', () => {
  const { Tracer } = freshPlugin();
  const sent = [];
  const fake = { trace: (e) => sent.push(e), error() {}, log() {}, flush: async () => {}, close: async () => {} };
  const tr = new Tracer(fake, { settleMs: 60000 });
  const lo = recorded().find((x) => x.hook === 'llm_output');
  assert.equal(lo.c.channelId, '1001', 'the recording is what this test is about');
  tr.onLlmOutput(lo.e, lo.c);
  assert.equal(tr.sessions.get('agent:main:telegram:direct:1001').channel, 'telegram');
});

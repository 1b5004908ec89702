'use strict';
// Attribution as columns, from the payloads a real OpenClaw 2026.9.6
// gateway passed (testdata/hooks-attribution-2026.9.6.jsonl: a user turn
// with a tool call, `openclaw cron run` of an isolated job, a heartbeat
// woken by `openclaw system event --mode now` (two runs), then
// `openclaw sessions compact` of the user turn's session, whose
// summarizer was called three times), replayed into the real daemon.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startDaemon, waitFor } = require('../../testkit/daemon.js');
const { fromSessionKey, parentRun, callKind } = require('../attrib.js');

const RECORDED = path.join(__dirname, 'testdata', 'hooks-attribution-2026.9.6.jsonl');
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
    on: (name, fn) => (hooks[name] = fn),
    hooks,
  };
}

function recorded() {
  return fs
    .readFileSync(RECORDED, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .map((x) => (x.hook === 'model_call_ended' ? { ...x, e: Object.freeze(x.e), c: Object.freeze(x.c) } : x));
}

const USER = 'agent:main:explicit:rec1';
const JOB = '26fe010f-3cdd-4b24-ba3f-79f51ecdb28b';
const CRON = `agent:main:cron:${JOB}:run:3a803324-325a-4bf3-88e7-aab8b9fd67b6`;
const MAIN = 'agent:main:main';

// want: per row (in the order of model_call_ended): session, trigger,
// cron job, call kind, with conversation access and without.
const want = {
  true: [
    [USER, 'user', null, 'turn'],
    [USER, 'user', null, 'turn'],
    [CRON, 'cron', JOB, 'turn'],
    [MAIN, 'heartbeat', null, 'turn'],
    [MAIN, 'heartbeat', null, 'turn'],
    // `sessions compact` is no run a hook announced: its trigger is unknown
    [USER, null, null, 'compaction'],
    [USER, null, null, 'compaction'],
    [USER, null, null, 'compaction'],
  ],
  // without access no hook before a call names its trigger; an isolated
  // cron run's session key does
  false: [
    [USER, null, null, 'turn'],
    [USER, null, null, 'turn'],
    [CRON, 'cron', JOB, 'turn'],
    [MAIN, null, null, 'turn'],
    [MAIN, null, null, 'turn'],
    [USER, null, null, 'compaction'],
    [USER, null, null, 'compaction'],
    [USER, null, null, 'compaction'],
  ],
};

for (const access of [true, false]) {
  test(`recorded user, cron, heartbeat and compaction calls (access ${access}): attribution columns`, async (t) => {
    const d = await startDaemon({ unix: false });
    t.after(() => d.stop());
    const plugin = freshPlugin();
    const api = fakeApi({ transport: 'udp', udpPort: d.udpPort, httpUrl: d.httpUrl, settleMs: 50 }, access);
    plugin.register(api);
    assert.equal(typeof api.hooks.before_model_resolve, access ? 'function' : 'undefined', 'before_model_resolve needs conversation access');
    const events = recorded();
    for (const { hook, e, c } of events) if (api.hooks[hook]) api.hooks[hook](e, c);
    const ends = events.filter((x) => x.hook === 'model_call_ended');
    await waitFor('compaction calls sent alone', () => plugin.tracerFor().counts.calls === ends.length);
    await plugin.flush();
    await waitFor('rows', () => d.query('SELECT count(*) AS n FROM llm_traces')[0].n === ends.length);
    const rows = d.query('SELECT * FROM llm_traces ORDER BY id');
    const got = rows.map((r) => [r.session_key, r.trigger, r.cron_job_id, r.call_kind]);
    assert.deepEqual(got, want[access]);
    rows.forEach((r, i) => {
      assert.equal(r.agent_id, 'main', `row ${i} agent`);
      assert.equal(r.channel, null, `row ${i}: no channel for CLI, cron and heartbeat runs`);
      assert.equal(r.run_id, ends[i].e.runId, `row ${i} run`);
    });
    // the compaction's calls report no usage in 2026.9.6: unknown, not $0
    for (const r of rows.filter((x) => x.call_kind === 'compaction')) assert.deepEqual([r.prompt_tokens, r.cost_usd], [null, null]);
    await plugin.tracerFor().close();
  });
}

test('session keys, compaction run ids and call kinds', () => {
  const cases = [
    [USER, { agentId: 'main' }],
    [CRON, { agentId: 'main', trigger: 'cron', cronJobId: JOB }],
    ['agent:ops:telegram:direct:1001', { agentId: 'ops' }],
    ['agent:main:cron:', { agentId: 'main' }],
    ['global', {}],
    [undefined, {}],
  ];
  for (const [key, w] of cases) assert.deepEqual(fromSessionKey(key), w, String(key));
  const cid = '8b295042-26e0-43ac-9a0d-a985f5b48aec:compaction:cmp-mxard5bf-yv8Isg';
  assert.equal(parentRun(cid), '8b295042-26e0-43ac-9a0d-a985f5b48aec');
  assert.equal(parentRun('r1'), 'r1');
  assert.equal(callKind(cid, `${cid}:model:1`), 'compaction');
  assert.equal(callKind('r1', 'r1:model:2'), 'turn');
});

test('a channel run: the channel from before_model_resolve, the run ids bounded', () => {
  const { Tracer } = freshPlugin();
  const { Runs } = require('../attrib.js');
  const sent = [];
  const fake = { trace: (e) => sent.push(e), error() {}, log() {}, flush: async () => {}, close: async () => {} };
  const runs = new Runs(3);
  const tr = new Tracer(fake, { settleMs: 60000 }, { runs });
  // ctx as llm_output's for a Telegram DM (testdata/hooks-telegram-2026.9.6.jsonl), which before_model_resolve shares
  const key = 'agent:main:telegram:direct:1001';
  runs.note({ runId: 'r1', agentId: 'main', sessionKey: key, trigger: 'user', channel: 'telegram', messageProvider: 'telegram', channelId: '1001' });
  tr.onModelCallEnded({ runId: 'r1', callId: 'r1:model:1', sessionKey: key, provider: 'p', model: 'm', outcome: 'completed' }, { runId: 'r1' });
  tr.onMessageWrite({ message: { role: 'assistant', usage: { input: 1, output: 1 } } }, { sessionKey: key, agentId: 'main' });
  assert.deepEqual(
    [sent[0].agent_id, sent[0].channel, sent[0].trigger, sent[0].session_key, sent[0].run_id, sent[0].call_kind],
    ['main', 'telegram', 'user', key, 'r1', 'turn'],
  );
  for (let i = 2; i <= 5; i++) runs.note({ runId: `r${i}`, sessionKey: `s${i}` });
  assert.equal(runs.byRun.size, 3, 'bounded');
  assert.equal(runs.run('r1'), undefined, 'the oldest run forgotten first');
});

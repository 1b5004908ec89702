'use strict';
// The guard's state from a sidecar's GET /v1/budgets (an HTTP server here
// answering the documented shape), refreshed in the background, and the
// plugin with the guard on, fed a real 2026.9.6 tool turn
// (testdata/hooks-attribution-2026.9.6.jsonl) with its traces going to
// the real daemon.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { startDaemon, waitFor } = require('../../testkit/daemon.js');
const { Guard, guardConfig } = require('../guard.js');
const { BudgetPoller } = require('../budgets.js');

const SHARED = Symbol.for('openclaw-trace.plugin.v2');
const RECORDED = path.join(__dirname, 'testdata', 'hooks-attribution-2026.9.6.jsonl');
const DAY = 86400000;

function freshPlugin() {
  delete globalThis[SHARED];
  delete require.cache[require.resolve('..')];
  return require('..');
}

function fakeApi(pluginConfig, access = true) {
  const hooks = {};
  const warnings = [];
  const middleware = [];
  return {
    id: 'openclaw-trace',
    registrationMode: 'full',
    pluginConfig,
    config: { plugins: { entries: { 'openclaw-trace': { enabled: true, hooks: { allowConversationAccess: access } } } } },
    logger: { info() {}, warn: (l) => warnings.push(l), error() {} },
    on: (name, fn) => (hooks[name] = fn),
    registerAgentToolResultMiddleware: (fn, opts) => middleware.push({ fn, opts }),
    hooks,
    warnings,
    middleware,
  };
}

// sidecar answers GET /v1/budgets with doc(), and records each request.
async function sidecar(doc, status = 200) {
  const s = { reqs: [], doc, status };
  s.server = http.createServer((req, res) => {
    s.reqs.push({ at: Date.now(), url: req.url, host: req.headers.host, auth: req.headers.authorization });
    if (req.url !== '/v1/budgets') return res.writeHead(404).end();
    res.writeHead(s.status, { 'content-type': 'application/json' }).end(JSON.stringify(s.doc()));
  });
  await new Promise((ok) => s.server.listen(0, '127.0.0.1', ok));
  s.port = s.server.address().port;
  s.url = `http://127.0.0.1:${s.port}`;
  s.close = () => new Promise((ok) => s.server.close(ok));
  return s;
}

function budgetsDoc(spent, limit, extra = {}) {
  const start = Date.now() - 3600000;
  return {
    generated_at: Date.now(),
    zone: 'UTC',
    warn_pct: [80],
    budgets: [
      { id: 'session=agent:main:explicit:rec1/day', scope: 'session=agent:main:explicit:rec1', scope_kind: 'session', scope_value: 'agent:main:explicit:rec1', window: 'day', window_start: start, window_end: start + DAY, resets_at: start + DAY, limit_usd: limit, spent_usd: spent, calls: 0, unpriced_calls: 0, state: spent >= limit ? 'over' : 'ok', ...extra },
    ],
  };
}

test('poller: the token as Bearer, Host as the address, a refresh soon after a call, and errors named', async (t) => {
  const s = await sidecar(() => budgetsDoc(0.001, 1));
  t.after(() => s.close());
  const lines = [];
  const guard = new Guard(guardConfig({ guard: 'block', staleMs: 1000 }), (l) => lines.push(l));
  const p = new BudgetPoller(guard, { url: s.url, token: 's3cret', pollMs: 3000, afterCallMs: 50, timeoutMs: 500 });
  p.start();
  t.after(() => p.stop());
  await waitFor('first answer', () => guard.known());
  assert.deepEqual([s.reqs[0].url, s.reqs[0].host, s.reqs[0].auth], ['/v1/budgets', `127.0.0.1:${s.port}`, 'Bearer s3cret']);
  assert.equal(guard.budgets.length, 1);
  const n = s.reqs.length;
  const t0 = Date.now();
  p.soon();
  await waitFor('a refresh after the call', () => s.reqs.length > n);
  assert.ok(s.reqs[n].at - t0 < 1000, `asked ${s.reqs[n].at - t0} ms after, not at the next period (3 s)`);
  assert.equal(typeof p.lastMs, 'number');

  s.status = 404;
  p.soon();
  await waitFor('404', () => /HTTP 404: this sidecar has no \/v1\/budgets/.test(guard.reason));
  s.status = 401;
  p.soon();
  await waitFor('401', () => /HTTP 401: the sidecar wants its token/.test(guard.reason));
  await s.close();
  p.soon();
  await waitFor('refused', () => /ECONNREFUSED/.test(guard.reason));
  // older than staleMs (1 s): the next failing refresh says it, once
  await waitFor('stale: one warning', () => lines.length === 1, 8000);
  assert.match(lines[0], /budget state unknown \(http:\/\/127\.0\.0\.1:\d+\/v1\/budgets: ECONNREFUSED; last answer .*\); failing open/);
});

test('poller without an address: unknown at once, named', () => {
  const guard = new Guard(guardConfig({ guard: 'block' }));
  const p = new BudgetPoller(guard, { url: '' });
  p.start();
  assert.match(guard.reason, /no sidecar HTTP address/);
  assert.equal(guard.known(), false);
});

test('plugin, guard block: a tool turn whose first call crosses the budget gets its tool call blocked, counted without waiting for the sidecar', async (t) => {
  const d = await startDaemon({ unix: false });
  t.after(() => d.stop());
  // the session has spent $0.003 of $0.01; the turn's first call costs $0.007752
  const s = await sidecar(() => budgetsDoc(0.003, 0.01));
  t.after(() => s.close());
  const plugin = freshPlugin();
  const api = fakeApi({ transport: 'udp', udpPort: d.udpPort, httpUrl: s.url, guard: 'block', token: 'tok' });
  plugin.register(api);
  assert.equal(api.middleware.length, 1, 'tool-result middleware registered in block mode');
  assert.deepEqual(api.middleware[0].opts, { runtimes: ['openclaw'] });
  for (const h of ['before_model_resolve', 'before_agent_run', 'before_tool_call']) assert.equal(typeof api.hooks[h], 'function', h);
  await waitFor('budgets known', () => s.reqs.length > 0 && globalThis[SHARED].guard.known());
  assert.equal(s.reqs[0].auth, 'Bearer tok');

  const rec = fs.readFileSync(RECORDED, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const turn = rec.slice(0, rec.findIndex((x) => x.hook === 'llm_output') + 1); // the user turn
  const results = [];
  for (const { hook, e, c } of turn) if (api.hooks[hook]) results.push([hook, api.hooks[hook](e, c)]);
  const r = Object.fromEntries(results.filter(([, v]) => v !== undefined));
  assert.equal(r.before_agent_run, undefined, 'under the limit when the run started');
  assert.equal(r.before_tool_call.block, true, 'the first call crossed it: its tool call is blocked');
  assert.match(r.before_tool_call.blockReason, /^Stopped by the spend budget "session=agent:main:explicit:rec1\/day": \$0\.01075 of \$0\.01 spent this day\. It resets at /);
  await plugin.flush();
  await waitFor('rows', () => d.query('SELECT count(*) AS n FROM llm_traces')[0].n === 2);
  const g = globalThis[SHARED].guard;
  assert.equal(g.counts.toolBlocked, 1);
  assert.equal(g.know.localMs.length, 2, 'each call counted here when sent');
  // a refresh was asked after the calls went out
  await waitFor('refresh after the calls', () => s.reqs.length >= 2, 5000);
  await plugin.tracerFor().close();
  globalThis[SHARED].poller.stop();
});

test('guard on without allowConversationAccess: one warning line, no guard hooks', () => {
  const plugin = freshPlugin();
  const api = fakeApi({ transport: 'udp', udpPort: 9, statsIntervalMs: 0, guard: 'block' }, false);
  plugin.register(api);
  const lines = api.warnings.filter((l) => /guard/.test(l));
  assert.equal(lines.length, 1);
  assert.match(lines[0], /guard is "block" but cannot act: .* need conversation access; to enable: openclaw config set plugins\.entries\.openclaw-trace\.hooks\.allowConversationAccess true/);
  for (const h of ['before_model_resolve', 'before_agent_run', 'before_tool_call']) assert.equal(api.hooks[h], undefined, h);
  assert.equal(api.middleware.length, 0);
  assert.equal(globalThis[SHARED].poller, null, 'nothing polled');
  return plugin.tracerFor() && plugin.tracerFor().close();
});

test('a bad guard option turns the guard off with one line; tracing goes on', () => {
  const plugin = freshPlugin();
  const api = fakeApi({ transport: 'udp', udpPort: 9, statsIntervalMs: 0, guard: 'stop' });
  plugin.register(api);
  assert.deepEqual(api.warnings, ['openclaw-trace: guard off: bad option guard: "stop" is not one of off, warn, block']);
  assert.equal(api.hooks.before_agent_run, undefined);
  assert.equal(typeof api.hooks.model_call_ended, 'function');
  return plugin.tracerFor().close();
});

test('plugin, guard block: the block\'s gateway log line is written after the hook returns, once', async (t) => {
  const s = await sidecar(() => budgetsDoc(0.02, 0.01));
  t.after(() => s.close());
  const plugin = freshPlugin();
  const api = fakeApi({ transport: 'udp', udpPort: 9, statsIntervalMs: 0, httpUrl: s.url, guard: 'block' });
  plugin.register(api);
  t.after(() => {
    globalThis[SHARED].poller.stop();
    return plugin.tracerFor().close();
  });
  await waitFor('budgets known', () => globalThis[SHARED].guard.known());
  const ctx = { runId: 'r-log', agentId: 'main', sessionKey: 'agent:main:explicit:rec1', trigger: 'user' };
  const blocked = (l) => /budget "session=agent:main:explicit:rec1\/day" is over; runs in its scope are blocked/.test(l);
  for (let i = 0; i < 3; i++) {
    const r = api.hooks.before_agent_run({}, { ...ctx, runId: `r-log-${i}` });
    assert.equal(r.outcome, 'block');
    if (i === 0) assert.equal(api.warnings.filter(blocked).length, 0, 'not written inside the hook');
  }
  await new Promise((ok) => setImmediate(ok));
  assert.equal(api.warnings.filter(blocked).length, 1);
});

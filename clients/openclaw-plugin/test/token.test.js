'use strict';
// The plugin against the real sidecar run with OCT_TOKEN: every HTTP
// request must carry Authorization: Bearer <token>. The guard's budgets
// fetch (budgets.js) sends the plugin's `token` option, else OCT_TOKEN, and
// sees the budgets through the guarded sidecar; without the token it says
// the sidecar wants one, and never prints the token. The HTTP fallback of
// the sender (the Node client, clients/node) gets the same token and posts
// with it.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startDaemon, waitFor } = require('../../testkit/daemon.js');

const SHARED = Symbol.for('openclaw-trace.plugin.v2');
const TOKEN = 'oct-test-token-7f3a9c';
const BUDGET = 'session=agent:main:explicit:tok1';

function freshPlugin() {
  delete globalThis[SHARED];
  delete require.cache[require.resolve('..')];
  return require('..');
}

function fakeApi(pluginConfig) {
  const hooks = {};
  const warnings = [];
  return {
    id: 'openclaw-trace',
    registrationMode: 'full',
    pluginConfig,
    config: { plugins: { entries: { 'openclaw-trace': { enabled: true, hooks: { allowConversationAccess: true } } } } },
    logger: { info() {}, warn: (l) => warnings.push(l), error() {} },
    on: (name, fn) => (hooks[name] = fn),
    registerAgentToolResultMiddleware() {},
    hooks,
    warnings,
  };
}

// stop ends the plugin's poller and client (the test's process must exit).
async function stop(plugin) {
  const s = globalThis[SHARED];
  if (s && s.poller) s.poller.stop();
  if (plugin.tracerFor()) await plugin.tracerFor().close();
}

// withEnv runs fn with OCT_TOKEN set to v (undefined: unset), then restores it.
async function withEnv(v, fn) {
  const old = process.env.OCT_TOKEN;
  if (v === undefined) delete process.env.OCT_TOKEN;
  else process.env.OCT_TOKEN = v;
  try {
    return await fn();
  } finally {
    if (old === undefined) delete process.env.OCT_TOKEN;
    else process.env.OCT_TOKEN = old;
  }
}

test('a sidecar with OCT_TOKEN: the guard reads its budgets with the token (option or OCT_TOKEN), and says it wants one without', async (t) => {
  const d = await startDaemon({ unix: false, env: { OCT_TOKEN: TOKEN, OCT_BUDGETS: `${BUDGET}:0.01usd/day` } });
  t.after(() => d.stop());
  // the door is shut without the token
  assert.equal((await fetch(`${d.httpUrl}/v1/budgets`)).status, 401);

  const cases = [
    { name: 'token option', cfg: { token: TOKEN }, env: undefined, known: true },
    { name: 'OCT_TOKEN', cfg: {}, env: TOKEN, known: true },
    { name: 'the option wins over OCT_TOKEN', cfg: { token: TOKEN }, env: 'stale-token', known: true },
    { name: 'no token', cfg: {}, env: undefined, known: false },
    { name: "token '' sends none, whatever OCT_TOKEN says", cfg: { token: '' }, env: TOKEN, known: false },
    { name: 'a wrong token', cfg: { token: 'wrong-token-1234' }, env: undefined, known: false },
    { name: 'a token no header can carry', cfg: { token: 'wrong token-1234' }, env: undefined, known: false, reason: /cannot be sent in a header: visible ASCII only/ },
  ];
  for (const c of cases) {
    await t.test(c.name, () =>
      withEnv(c.env, async () => {
        const plugin = freshPlugin();
        const api = fakeApi({ transport: 'udp', udpPort: d.udpPort, httpUrl: d.httpUrl, statsIntervalMs: 0, guard: 'block', budgetsPollMs: 100, ...c.cfg });
        plugin.register(api);
        const g = globalThis[SHARED].guard;
        try {
          if (c.known) {
            await waitFor('budgets through the token', () => g.known());
            assert.deepEqual(
              g.budgets.map((b) => [b.id, b.kind, b.value, b.limitN]),
              [[`${BUDGET}/day`, 'session', 'agent:main:explicit:tok1', 1e7]],
            );
          } else {
            const why = c.reason || /HTTP 401: the sidecar wants its token/;
            await waitFor('the refusal named', () => why.test(g.reason));
            assert.equal(g.known(), false);
            assert.equal(g.budgets.length, 0);
          }
          // the token is never in the gateway log nor in what the guard says
          for (const s of [...api.warnings, g.reason]) {
            assert.ok(!s.includes(TOKEN) && !s.includes('token-1234'), `token printed: ${s}`);
          }
        } finally {
          await stop(plugin);
        }
      }),
    );
  }
});

test('the HTTP fallback (events over maxDatagramBytes) reaches a sidecar with OCT_TOKEN: the plugin hands its token to the client', async (t) => {
  const d = await startDaemon({ unix: false, env: { OCT_TOKEN: TOKEN } });
  t.after(() => d.stop());
  await withEnv(undefined, async () => {
    const plugin = freshPlugin();
    const api = fakeApi({ transport: 'udp', udpPort: d.udpPort, httpUrl: d.httpUrl, statsIntervalMs: 0, maxDatagramBytes: 256, token: TOKEN });
    plugin.register(api);
    const tracer = plugin.tracerFor();
    try {
      assert.equal(tracer.client.stats().token, 'set', 'the client got the token');
      assert.equal(tracer.client.opts.maxDatagramBytes, 256);
      // a trace over 256 bytes: HTTP
      tracer.client.trace({ provider: 'mock', model: 'm1', prompt_tokens: 1, completion_tokens: 1, latency_ms: 1, metadata: { pad: 'x'.repeat(400) } });
      await tracer.client.flush();
      await waitFor('the row over HTTP', () => d.query('SELECT count(*) AS n FROM llm_traces')[0].n === 1);
      const st = tracer.client.stats();
      assert.deepEqual([st.sent.http, st.dropped.http], [1, 0]);
      for (const s of api.warnings) assert.ok(!s.includes(TOKEN), `token printed: ${s}`);
    } finally {
      await stop(plugin);
    }
  });
});

'use strict';
// The Node client against the real daemon (OCT_TEST_BIN): every transport
// and encoding, rows read back from SQLite.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { createClient } = require('..');
const { startDaemon, waitFor, optional } = require('../../testkit/daemon.js');

const CLIENT = path.join(__dirname, '..');

function clientFor(d, opts) {
  return createClient({
    socketPath: d.socketPath,
    udpPort: d.udpPort,
    httpUrl: d.httpUrl,
    statsIntervalMs: 0,
    ...opts,
  });
}

function count(d, table, where = '1') {
  return d.query(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)[0].n;
}

// deps returns the optional modules a case needs, or null when it is skipped.
function deps(t, transport, encoding) {
  const out = {};
  if (transport === 'unix' && !(out.ud = optional('unix-dgram', t))) return null;
  if (encoding === 'msgpack' && !(out.mp = optional('@msgpack/msgpack', t))) return null;
  return out;
}

for (const transport of ['unix', 'udp']) {
  for (const encoding of ['json', 'msgpack']) {
    test(`traces and errors arrive over ${transport} in ${encoding}`, async (t) => {
      if (!deps(t, transport, encoding)) return;
      const d = await startDaemon();
      t.after(() => d.stop());
      const c = clientFor(d, { transport, encoding });
      assert.equal(c.transport, transport);
      assert.equal(c.encoding, encoding);
      const model = `m-${transport}-${encoding}`;
      for (let i = 0; i < 20; i++) {
        c.trace({
          provider: 'anthropic',
          model,
          prompt_tokens: 100 + i,
          completion_tokens: 7,
          cache_read_tokens: 3,
          cost_usd: 0.25,
          latency_ms: 812,
          ttft_ms: 120,
          input_text: 'hé ✓',
          metadata: { i },
          session: 's1',
        });
      }
      c.error({ error_type: 'llm_error', code: 'rate_limit', message: `429 ${model}`, severity: 'warning' });
      await c.close();
      assert.deepEqual(c.stats().dropped, { unix: 0, udp: 0, http: 0 });
      assert.equal(c.stats().sent[transport], 21);
      await waitFor('21 rows', () => count(d, 'llm_traces', `model='${model}'`) === 20 && count(d, 'error_events') === 1);
      const rows = d.query(`SELECT * FROM llm_traces WHERE model='${model}' ORDER BY prompt_tokens`);
      const r = rows[5];
      assert.equal(r.provider, 'anthropic');
      assert.equal(r.prompt_tokens, 105);
      assert.equal(r.total_tokens, 112);
      assert.equal(r.cache_read_tokens, 3);
      assert.equal(r.cost_usd, 0.25);
      assert.equal(r.ttft_ms, 120);
      assert.equal(r.input_text, 'hé ✓');
      assert.equal(r.status, 'ok');
      const md = JSON.parse(r.metadata);
      assert.equal(md.i, 5);
      assert.equal(md.session, 's1', 'unknown fields are kept in metadata');
      assert.ok(Math.abs(r.created_at - Date.now()) < 60000, `created_at ${r.created_at} is the client's ts`);
      const e = d.query('SELECT * FROM error_events')[0];
      assert.deepEqual([e.error_type, e.code, e.message, e.severity], ['llm_error', 'rate_limit', `429 ${model}`, 'warning']);
    });
  }
}

test('an event over 8 KiB encoded goes over HTTP', async (t) => {
  const d = await startDaemon({ unix: false });
  t.after(() => d.stop());
  const c = clientFor(d, { transport: 'udp' });
  const big = 'x'.repeat(12000);
  c.trace({ provider: 'openai', model: 'big', output_text: big, metadata: { k: 'v' } });
  c.error({ error_type: 'crash', message: 'boom', stack_trace: big });
  await c.close();
  assert.equal(c.stats().sent.http, 2);
  assert.equal(c.stats().sent.udp, 0);
  await waitFor('2 rows', () => count(d, 'llm_traces') === 1 && count(d, 'error_events') === 1);
  const r = d.query('SELECT output_text, metadata FROM llm_traces')[0];
  assert.equal(r.output_text, big);
  assert.deepEqual(JSON.parse(r.metadata), { k: 'v' }, 'no "type" field lands in metadata');
  assert.equal(d.query('SELECT stack_trace FROM error_events')[0].stack_trace, big);
  const h = await d.health();
  assert.equal(h.counters.transports.http.written, 2);
});

test('a burst of 1,000 events in one tick over the unix socket arrives complete', async (t) => {
  if (!deps(t, 'unix', 'json')) return;
  const d = await startDaemon({ udp: false });
  t.after(() => d.stop());
  const c = clientFor(d, { transport: 'unix' });
  for (let i = 0; i < 1000; i++) c.trace({ provider: 'p', model: 'burst', prompt_tokens: i });
  // net.unix.max_dgram_qlen (10 by default) cannot hold the burst: the
  // retry queue must have taken the rest.
  const queued = c.stats().queued;
  await c.close();
  assert.deepEqual(c.stats().dropped, { unix: 0, udp: 0, http: 0 });
  assert.equal(c.stats().sent.unix, 1000);
  await waitFor('1000 rows', () => count(d, 'llm_traces') === 1000, 20000);
  const n = d.query('SELECT count(DISTINCT prompt_tokens) AS n FROM llm_traces')[0].n;
  assert.equal(n, 1000);
  t.diagnostic(`events waiting in the retry queue right after the burst: ${queued}`);
  const h = await d.health();
  assert.equal(h.counters.transports.unixgram.written, 1000, JSON.stringify(h.counters.transports.unixgram));
});

for (const transport of ['unix', 'udp']) {
  test(`over ${transport}, with the daemon stopped calls return at once and drops are counted; after a restart it delivers and reports them`, async (t) => {
    if (!deps(t, transport, 'json')) return;
    const d = await startDaemon();
    const c = clientFor(d, { transport, reconnectMs: 50 });
    t.after(() => c.close());
    c.trace({ provider: 'p', model: 'before' });
    await c.flush();
    await waitFor('row before stop', () => count(d, 'llm_traces') === 1);
    await d.stop();

    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) {
      c.trace({ provider: 'p', model: 'lost' });
      // UDP only learns of the absent port from the ICMP answer to an
      // earlier datagram: give it a moment now and then.
      if (transport === 'udp' && i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    await c.flush();
    const dropped = c.stats().dropped[transport];
    if (transport === 'unix') {
      assert.ok(ms < 200, `200 calls took ${ms} ms`);
      assert.equal(dropped, 200);
    } else {
      assert.ok(dropped > 0, `udp drops counted: ${dropped}`);
    }

    const d2 = await startDaemon({ dir: d.dir, socketPath: d.socketPath, udpPort: d.udpPort });
    t.after(() => d2.stop());
    await new Promise((r) => setTimeout(r, 100)); // past reconnectMs
    for (let i = 0; i < 5; i++) c.trace({ provider: 'p', model: 'after' });
    await c.flush();
    await waitFor('rows after restart', () => count(d2, 'llm_traces', "model='after'") === 5);
    // flush reported the drops in a client_stats datagram
    // Over UDP losses are learnt from ICMP answers, one datagram late, and
    // a report sent while the sidecar was away may be lost with it: only
    // the unix socket's count is exact.
    const total = c.stats().dropped[transport];
    assert.ok(total >= dropped);
    await waitFor('client_reported_drops', async () => {
      const got = (await d2.health()).counters.client_reported_drops;
      return transport === 'unix' ? got === total : got > 0;
    });
  });
}

test('without unix-dgram the client falls back to UDP', async (t) => {
  const d = await startDaemon();
  t.after(() => d.stop());
  const c = clientFor(d, { unixDgram: null }); // as if require('unix-dgram') failed
  assert.equal(c.transport, 'udp');
  c.trace({ provider: 'p', model: 'fallback' });
  await c.close();
  // the same through the environment, in a process of its own
  const script = `
    const c = require(${JSON.stringify(CLIENT)}).createClient({socketPath: ${JSON.stringify(d.socketPath)}, udpPort: ${d.udpPort}});
    c.trace({provider: 'p', model: 'fallback-env'});
    c.close().then(() => console.log(JSON.stringify(c.stats())));`;
  const r = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, OCT_CLIENT_NO_UNIX_DGRAM: '1' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const st = JSON.parse(r.stdout);
  assert.equal(st.transport, 'udp');
  assert.equal(st.sent.udp, 1);
  await waitFor('2 rows over udp', () => count(d, 'llm_traces', "model LIKE 'fallback%'") === 2);
  const h = await d.health();
  assert.equal(h.counters.transports.udp.written, 2);
});

test('the client never keeps the process alive', async (t) => {
  const d = await startDaemon();
  t.after(() => d.stop());
  for (const transport of ['unix', 'udp']) {
    if (transport === 'unix' && !optional('unix-dgram', t)) continue;
    // no close(), a pending stats timer, a background HTTP post
    const script = `
      const c = require(${JSON.stringify(CLIENT)}).createClient({transport: '${transport}', socketPath: ${JSON.stringify(d.socketPath)}, udpPort: ${d.udpPort}, httpUrl: '${d.httpUrl}'});
      for (let i = 0; i < 100; i++) c.trace({provider: 'p', model: 'exit-${transport}'});
      c.trace({provider: 'p', model: 'exit-${transport}', input_text: 'y'.repeat(9000)});`;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10000 });
    const ms = Date.now() - t0;
    assert.equal(r.status, 0, `${transport}: ${r.stderr} ${r.signal || ''}`);
    assert.ok(ms < 3000, `${transport}: the process took ${ms} ms to exit`);
  }
});

test('bad input is counted, never thrown', async (t) => {
  const d = await startDaemon();
  t.after(() => d.stop());
  const c = clientFor(d, { transport: 'udp' });
  const cyc = { provider: 'p', model: 'm' };
  cyc.self = cyc;
  assert.doesNotThrow(() => {
    c.trace(null);
    c.trace('nope');
    c.trace(cyc);
    c.error({ error_type: 'crash', message: 'x', n: 10n });
  });
  await c.close();
  assert.equal(c.stats().dropped.udp, 4);
  c.trace({ provider: 'p', model: 'after-close' });
  assert.equal(c.stats().dropped.udp, 5);
});

test('default httpUrl follows the HTTP port (OCT_PORT), not the UDP port', () => {
  const { spawnSync } = require('node:child_process');
  const code = `const c = require(${JSON.stringify(require.resolve('..'))}).createClient({udpPort: 9999, unixDgram: null, statsIntervalMs: 0});
    console.log(JSON.stringify([c.httpUrl, c.fallback, require(${JSON.stringify(require.resolve('..'))}).createClient({httpPort: 7000, unixDgram: null, statsIntervalMs: 0}).httpUrl]));`;
  const run = (env) => JSON.parse(spawnSync(process.execPath, ['-e', code], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' }).stdout);
  const cases = [
    [{ OCT_PORT: '19092' }, 'http://127.0.0.1:19092'],
    [{}, 'http://127.0.0.1:9090'],
  ];
  for (const [env, want] of cases) {
    const [got, fallback, explicit] = run(env);
    assert.equal(got, want, JSON.stringify(env));
    assert.equal(explicit, 'http://127.0.0.1:7000', 'httpPort option wins');
    assert.deepEqual([fallback.from, fallback.to], ['unix', 'udp'], 'says it fell back');
    assert.match(fallback.reason, /^unix-dgram: /);
  }
});

'use strict';
// The Node client against the real daemon run with OCT_TOKEN: events over
// 8 KiB go over HTTP, which needs the token; datagrams carry none. A missing
// or wrong token is a drop counted by reason, never thrown, and the token
// shows nowhere the client prints or returns.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');
const util = require('node:util');
const path = require('node:path');
const { createClient } = require('..');
const { authHeader } = require('../auth.js');
const { startDaemon, waitFor } = require('../../testkit/daemon.js');

const CLIENT = path.join(__dirname, '..');
const BIG = 'x'.repeat(9000); // over the 8 KiB datagram cap: goes over HTTP
const NO_HTTP_DROPS = { unauthorized: 0, status: 0, network: 0, busy: 0, no_address: 0, bad_token: 0 };

// withoutEnvToken runs make with OCT_TOKEN unset, whatever the shell has.
function withoutEnvToken(make) {
  const saved = process.env.OCT_TOKEN;
  delete process.env.OCT_TOKEN;
  try {
    return make();
  } finally {
    if (saved !== undefined) process.env.OCT_TOKEN = saved;
  }
}

// shown is everything a caller or a log line can get out of the client.
function shown(c) {
  return [JSON.stringify(c.stats()), JSON.stringify(c.opts), util.inspect(c, { showHidden: true, depth: null })].join('\n');
}

test('authHeader: the option, else OCT_TOKEN; a token no header can carry is null', () => {
  const cases = [
    ['none', undefined, {}, ''],
    ['env', undefined, { OCT_TOKEN: 'e1' }, 'Bearer e1'],
    ['option wins', 'o1', { OCT_TOKEN: 'e1' }, 'Bearer o1'],
    ["'' turns the env token off", '', { OCT_TOKEN: 'e1' }, ''],
    ['null is not given', null, { OCT_TOKEN: 'e1' }, 'Bearer e1'],
    ['empty env', undefined, { OCT_TOKEN: '' }, ''],
    ['newline', 'a\nb', {}, null],
    ['space', 'a b', {}, null],
    ['non-ASCII', 'tökén', {}, null],
  ];
  for (const [name, token, env, want] of cases) assert.equal(authHeader(token, env), want, name);
});

test('with OCT_TOKEN on the daemon, large events need the token; without it or with a wrong one they are dropped as unauthorized', async (t) => {
  const token = crypto.randomBytes(16).toString('hex');
  const d = await startDaemon({ unix: false, env: { OCT_TOKEN: token } });
  t.after(() => d.stop());
  const make = (opts) =>
    withoutEnvToken(() => createClient({ transport: 'udp', udpPort: d.udpPort, httpUrl: d.httpUrl, statsIntervalMs: 0, ...opts }));

  const cases = [
    // name, options, sent over HTTP, HTTP drops
    ['no-token', {}, 0, { ...NO_HTTP_DROPS, unauthorized: 2 }],
    ['wrong-token', { token: `${token}x` }, 0, { ...NO_HTTP_DROPS, unauthorized: 2 }],
    ['bad-token', { token: 'a\r\nX-Evil: 1' }, 0, { ...NO_HTTP_DROPS, bad_token: 2 }],
    ['right-token', { token }, 2, NO_HTTP_DROPS],
  ];
  for (const [name, opts, sent, httpDropped] of cases) {
    const c = make(opts);
    assert.doesNotThrow(() => {
      c.trace({ provider: 'p', model: name, output_text: BIG });
      c.error({ error_type: 'crash', message: name, stack_trace: BIG });
      c.trace({ provider: 'p', model: `${name}-small` }); // a datagram: no token needed
    });
    await c.close();
    const st = c.stats();
    assert.equal(st.sent.http, sent, name);
    assert.equal(st.sent.udp, 1, name);
    assert.deepEqual(st.httpDropped, httpDropped, name);
    assert.equal(st.dropped.http, 2 - sent, `${name}: dropped.http is the sum of httpDropped`);
    assert.equal(st.token, name === 'no-token' ? 'none' : name === 'bad-token' ? 'invalid' : 'set', name);
    assert.ok(!shown(c).includes(token), `${name}: the token shows in stats, opts or inspect`);
  }
  // Every answer came before close() resolved: once the last small trace
  // and the right token's rows are in, nothing refused is on its way.
  const rows = () =>
    d.query(`SELECT 'trace' AS t, model AS k, count(*) AS n, max(length(output_text)) AS len FROM llm_traces GROUP BY model
             UNION ALL SELECT 'error', message, count(*), max(length(stack_trace)) FROM error_events GROUP BY message ORDER BY 1, 2`);
  const want = [
    ['error', 'right-token', 1, BIG.length],
    ['trace', 'bad-token-small', 1, null],
    ['trace', 'no-token-small', 1, null],
    ['trace', 'right-token', 1, BIG.length],
    ['trace', 'right-token-small', 1, null],
    ['trace', 'wrong-token-small', 1, null],
  ];
  let got;
  await waitFor('the rows', () => (got = rows().map((r) => [r.t, r.k, r.n, r.len])).length === want.length, 20000);
  assert.deepEqual(got, want);
  // the daemon refused the posts without the token or with a wrong one; the
  // bad one never left the client
  const res = await fetch(`${d.httpUrl}/health`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const h = await res.json();
  assert.equal(h.counters.http.refused.token, 4, JSON.stringify(h.counters.http));
});

test('OCT_TOKEN from the environment is sent, and shows in nothing the process prints', async (t) => {
  const token = crypto.randomBytes(16).toString('hex');
  const d = await startDaemon({ unix: false, env: { OCT_TOKEN: token } });
  t.after(() => d.stop());
  const script = `
    const util = require('node:util');
    const c = require(${JSON.stringify(CLIENT)}).createClient({transport: 'udp', udpPort: ${d.udpPort}, httpUrl: '${d.httpUrl}', statsIntervalMs: 0});
    c.trace({provider: 'p', model: 'env-token', output_text: 'y'.repeat(9000)});
    const keep = setInterval(() => {}, 1000); // the client keeps nothing alive
    c.close().then(() => {
      clearInterval(keep);
      console.log(JSON.stringify(c.stats()));
      console.error(util.inspect(c, {showHidden: true, depth: null}));
    });`;
  const run = (env) =>
    spawnSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 20000 });
  const cases = [
    ['right', { OCT_TOKEN: token }, 1, 0],
    ['wrong', { OCT_TOKEN: `${token}-old` }, 0, 1],
  ];
  for (const [name, env, sent, unauthorized] of cases) {
    const r = run(env);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    const st = JSON.parse(r.stdout);
    assert.equal(st.sent.http, sent, name);
    assert.equal(st.httpDropped.unauthorized, unauthorized, name);
    assert.ok(!(r.stdout + r.stderr).includes(token), `${name}: the token was printed`);
  }
  await waitFor('the trace sent with the env token', () => d.query('SELECT model FROM llm_traces').length === 1, 20000);
  assert.deepEqual(d.query('SELECT model FROM llm_traces'), [{ model: 'env-token' }]);
});

'use strict';
// The client reaches only the sidecar it was told about: every path (unix
// socket, UDP fallback, HTTP for large events) follows the options, else the
// sidecar's own variables, else its defaults. Proven against the real daemon
// on non-default addresses with decoys listening where a wrong guess would go.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { createClient } = require('..');
const { resolveTargets } = require('../targets.js');
const { startDaemon, waitFor, freeUDPPort, tempDir } = require('../../testkit/daemon.js');
const { startDecoys } = require('../../testkit/decoys.js');

const ADDRESS_VARS = ['OCT_SOCKET_PATH', 'OCT_UDP_ADDR', 'OCT_PORT', 'OCT_BIND'];
const BIG = 'x'.repeat(9000); // over the 8 KiB datagram cap: goes over HTTP

test('resolveTargets: option, else the sidecar variable, else its default', () => {
  const def = { socketPath: '/run/openclaw-trace.sock', udpHost: '127.0.0.1', udpPort: 9090, httpUrl: 'http://127.0.0.1:9090' };
  const cases = [
    ['defaults', {}, {}, def],
    [
      'the sidecar variables',
      {},
      { OCT_SOCKET_PATH: '/tmp/a.sock', OCT_UDP_ADDR: '127.0.0.2:19091', OCT_PORT: '19092', OCT_BIND: '127.0.0.2' },
      { socketPath: '/tmp/a.sock', udpHost: '127.0.0.2', udpPort: 19091, httpUrl: 'http://127.0.0.2:19092' },
    ],
    [
      'options win over the variables',
      { socketPath: '/tmp/b.sock', udpPort: 7001, httpPort: 7002 },
      { OCT_SOCKET_PATH: '/tmp/a.sock', OCT_UDP_ADDR: '127.0.0.2:19091', OCT_PORT: '19092' },
      { socketPath: '/tmp/b.sock', udpHost: '127.0.0.2', udpPort: 7001, httpUrl: 'http://127.0.0.1:7002' },
    ],
    ['udpHost names the HTTP host too', { udpHost: 'sidecar' }, {}, { ...def, udpHost: 'sidecar', httpUrl: 'http://sidecar:9090' }],
    ['httpUrl as given', { httpUrl: 'http://h:1/' }, { OCT_PORT: '5' }, { ...def, httpUrl: 'http://h:1' }],
    ['wildcards are reached on loopback', {}, { OCT_UDP_ADDR: '0.0.0.0:5', OCT_BIND: '::' }, { ...def, udpPort: 5 }],
    ['":port" as Go reads it', {}, { OCT_UDP_ADDR: ':5', OCT_BIND: '' }, { ...def, udpPort: 5 }],
    ['IPv6', {}, { OCT_UDP_ADDR: '[::1]:5', OCT_BIND: '::1' }, { ...def, udpHost: '::1', udpPort: 5, httpUrl: 'http://[::1]:9090' }],
    [
      'empty variables: the sidecar does not listen there',
      {},
      { OCT_SOCKET_PATH: '', OCT_UDP_ADDR: '' },
      { ...def, socketPath: '', udpHost: null, udpPort: null },
    ],
    ['OCT_PORT=0: a port no client can know', {}, { OCT_PORT: '0' }, { ...def, httpUrl: '' }],
    [
      'values the sidecar would refuse',
      {},
      { OCT_UDP_ADDR: 'nonsense', OCT_PORT: '90900' },
      { ...def, udpHost: null, udpPort: null, httpUrl: '' },
    ],
  ];
  for (const [name, opts, env, want] of cases) assert.deepEqual(resolveTargets(opts, env), want, name);
});

// withEnv makes a client with exactly env as the sidecar variables.
function withEnv(env, make) {
  const saved = {};
  for (const k of ADDRESS_VARS) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
  Object.assign(process.env, env);
  try {
    return make();
  } finally {
    for (const k of ADDRESS_VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

// startWatched runs the daemon on 127.0.0.2 (HTTP and UDP, free ports) and
// its own socket, with decoys on the defaults (127.0.0.1:9090 UDP and HTTP,
// /run/openclaw-trace.sock), on the daemon's ports at 127.0.0.1 (a client
// that ignored OCT_BIND or the UDP host) and on envSock (a socket the
// environment names while options name the daemon).
async function startWatched(t) {
  const udpPort = await freeUDPPort();
  const d = await startDaemon({ env: { OCT_BIND: '127.0.0.2', OCT_UDP_ADDR: `127.0.0.2:${udpPort}` } });
  t.after(() => d.stop());
  const httpPort = Number(new URL(d.httpUrl).port);
  const envSock = path.join(tempDir(), 'env.sock');
  const specs = [
    'udp:127.0.0.1:9090',
    'http:127.0.0.1:9090',
    'unix:/run/openclaw-trace.sock',
    `udp:127.0.0.1:${udpPort}`,
    `http:127.0.0.1:${httpPort}`,
    `unix:${envSock}`,
  ];
  const decoys = await startDecoys(specs);
  t.after(() => decoys.close());
  for (const [spec, why] of Object.entries(decoys.skipped)) {
    if (spec === `unix:${envSock}`) assert.fail(`decoy ${why}`);
    // the default socket needs a writable /run; a port another process
    // holds cannot be watched: said here, and fatal in CI
    if (process.env.CI === 'true' && !spec.startsWith('unix:/run/')) assert.fail(`decoy ${why}`);
    t.diagnostic(`not watched: ${why}`);
  }
  t.diagnostic(`decoys: ${decoys.bound.join(', ')}`);
  const daemonEnv = {
    OCT_SOCKET_PATH: d.socketPath,
    OCT_UDP_ADDR: `127.0.0.2:${udpPort}`,
    OCT_PORT: String(httpPort),
    OCT_BIND: '127.0.0.2',
  };
  const decoyEnv = { OCT_SOCKET_PATH: envSock, OCT_UDP_ADDR: '127.0.0.1:9090', OCT_PORT: '9090', OCT_BIND: '127.0.0.1' };
  const daemonOpts = { socketPath: d.socketPath, udpHost: '127.0.0.2', udpPort, httpPort };
  return { d, decoys, daemonEnv, decoyEnv, daemonOpts };
}

function count(d, table, where) {
  return d.query(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)[0].n;
}

// sendFour sends a small and a large trace and error, and checks all four
// reached the daemon by the transport expected.
async function sendFour(w, c, name, transport) {
  c.trace({ provider: 'p', model: name, prompt_tokens: 1 });
  c.trace({ provider: 'p', model: name, output_text: BIG });
  c.error({ error_type: 'crash', message: name });
  c.error({ error_type: 'crash', message: name, stack_trace: BIG });
  await c.close();
  const st = c.stats();
  assert.equal(st.transport, transport, name);
  assert.deepEqual(st.dropped, { unix: 0, udp: 0, http: 0 }, name);
  assert.deepEqual(st.sent, { unix: 0, udp: 0, [transport]: 2, http: 2 }, name);
  const none = Object.fromEntries(w.decoys.bound.map((s) => [s, 0]));
  // sends are done once close() resolved: a stray one has arrived by now
  assert.deepEqual(await w.decoys.counts(), none, `${name}: decoys received`);
  await waitFor(`${name}: 4 rows`, () => count(w.d, 'llm_traces', `model='${name}'`) === 2 && count(w.d, 'error_events', `message='${name}'`) === 2);
  assert.deepEqual(await w.decoys.counts(), none, `${name}: decoys received`);
}

test('every path reaches only the daemon named by options or OCT_* variables, never a decoy on the defaults', async (t) => {
  const w = await startWatched(t);
  // without unix-dgram the unix cases are left out (said, and fatal when
  // OCT_REQUIRE_UNIX_DGRAM=1); the rest still run
  let ud = null;
  try {
    ud = require('unix-dgram');
  } catch (err) {
    if (process.env.OCT_REQUIRE_UNIX_DGRAM === '1') throw err;
    t.diagnostic(`unix-dgram does not load, unix cases left out: ${err.message.split('\n')[0]}`);
  }
  const cases = [
    // name, sidecar variables, options, transport used
    ['env-unix', w.daemonEnv, {}, 'unix'],
    ['env-no-unix-dgram', w.daemonEnv, { unixDgram: null }, 'udp'],
    ['env-socket-disabled', { ...w.daemonEnv, OCT_SOCKET_PATH: '' }, {}, 'udp'],
    ['opts-unix', w.decoyEnv, w.daemonOpts, 'unix'],
    ['opts-no-unix-dgram', w.decoyEnv, { ...w.daemonOpts, unixDgram: null }, 'udp'],
    ['opts-udp', w.decoyEnv, { ...w.daemonOpts, transport: 'udp' }, 'udp'],
    ['opts-no-env', {}, { ...w.daemonOpts, unixDgram: null }, 'udp'],
  ];
  for (const [name, env, opts, transport] of cases) {
    if (transport === 'unix' && !ud) continue;
    const c = withEnv(env, () => createClient({ statsIntervalMs: 0, ...opts }));
    await sendFour(w, c, name, transport);
  }
});

test('the OpenClaw plugin\'s config reaches only the daemon it names, and its fallback warning names that address', async (t) => {
  const w = await startWatched(t);
  const SHARED = Symbol.for('openclaw-trace.plugin.v1');
  const pluginPath = require.resolve('../../openclaw-plugin');
  delete globalThis[SHARED];
  delete require.cache[pluginPath];
  const plugin = require(pluginPath);
  t.after(() => delete globalThis[SHARED]);
  const warnings = [];
  const api = {
    id: 'openclaw-trace',
    registrationMode: 'full',
    pluginConfig: { ...w.daemonOpts, statsIntervalMs: 0 },
    config: { plugins: { entries: { 'openclaw-trace': { enabled: true, hooks: { allowConversationAccess: true } } } } },
    logger: { info() {}, warn: (l) => warnings.push(l), error() {} },
    on() {},
  };
  // the gateway's environment names the decoys, and unix-dgram is absent
  withEnv({ ...w.decoyEnv, OCT_CLIENT_NO_UNIX_DGRAM: '1' }, () => plugin.register(api));
  delete process.env.OCT_CLIENT_NO_UNIX_DGRAM;
  const c = plugin.tracerFor().client;
  assert.deepEqual(c.stats().targets, { unix: null, udp: `127.0.0.2:${w.daemonOpts.udpPort}`, http: `http://127.0.0.2:${w.daemonOpts.httpPort}` });
  assert.equal(warnings.filter((l) => l.includes(`sending over UDP 127.0.0.2:${w.daemonOpts.udpPort}`)).length, 1, warnings.join('\n'));
  await sendFour(w, c, 'plugin', 'udp');
});

test('attribution fields go top-level on the wire, over datagrams and HTTP', async (t) => {
  const attribution = {
    agent_id: 'main',
    channel: 'telegram',
    trigger: 'cron',
    cron_job_id: 'job-7',
    session_key: 'agent:main:cron:job-7',
    run_id: 'run-1',
    call_kind: 'compaction',
  };
  let mp = null; // msgpack is checked too when it is installed
  try {
    mp = require('@msgpack/msgpack');
  } catch {
    t.diagnostic('@msgpack/msgpack is not installed: JSON only');
  }
  const decode = (enc, buf) => (enc === 'msgpack' ? mp.decode(buf) : JSON.parse(buf));
  // a receiver that keeps what arrives, so the wire itself is checked
  const dgram = require('node:dgram');
  const http = require('node:http');
  const got = [];
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m) => got.push(m));
  await new Promise((r) => udp.bind(0, '127.0.0.1', r));
  const srv = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (b) => parts.push(b));
    req.on('end', () => {
      got.push(Buffer.concat(parts));
      res.writeHead(202).end('{"accepted":1}');
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => {
    udp.close();
    srv.close();
  });
  for (const encoding of mp ? ['json', 'msgpack'] : ['json']) {
    got.length = 0;
    const c = createClient({ transport: 'udp', udpPort: udp.address().port, httpPort: srv.address().port, encoding, statsIntervalMs: 0 });
    c.trace({ provider: 'p', model: 'small', ...attribution });
    c.trace({ provider: 'p', model: 'big', output_text: BIG, ...attribution });
    await c.close();
    await waitFor('2 events received', () => got.length === 2);
    for (const buf of got) {
      const ev = decode(encoding, buf);
      for (const [k, v] of Object.entries(attribution)) assert.equal(ev[k], v, `${encoding} ${ev.model}: ${k}`);
      assert.equal(ev.metadata, undefined, 'nothing moved into metadata by the client');
    }
  }

  // and the daemon keeps them: as columns where it has them, else in metadata
  const d = await startDaemon({ unix: false });
  t.after(() => d.stop());
  const c = createClient({ transport: 'udp', udpPort: d.udpPort, httpUrl: d.httpUrl, statsIntervalMs: 0 });
  c.trace({ provider: 'p', model: 'attr-small', ...attribution });
  c.trace({ provider: 'p', model: 'attr-big', output_text: BIG, ...attribution });
  await c.close();
  await waitFor('2 rows', () => count(d, 'llm_traces', "model LIKE 'attr-%'") === 2);
  for (const r of d.query("SELECT * FROM llm_traces WHERE model LIKE 'attr-%'")) {
    const md = JSON.parse(r.metadata || '{}');
    for (const [k, v] of Object.entries(attribution)) assert.equal(r[k] ?? md[k], v, `${r.model}: ${k}`);
  }
});

test('with no UDP address and no HTTP port known, events are counted as drops, not sent to a default', () => {
  const c = withEnv({ OCT_SOCKET_PATH: '', OCT_UDP_ADDR: '', OCT_PORT: '0' }, () => createClient({ statsIntervalMs: 0 }));
  c.trace({ provider: 'p', model: 'nowhere' });
  c.trace({ provider: 'p', model: 'nowhere', output_text: BIG });
  const st = c.stats();
  assert.deepEqual(st.targets, { unix: null, udp: null, http: null });
  assert.deepEqual(st.dropped, { unix: 0, udp: 1, http: 1 });
  assert.equal(st.transport, 'udp');
});

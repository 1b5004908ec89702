'use strict';
// Test kit for the Node client and plugin tests: runs the real daemon
// binary (env OCT_TEST_BIN) on temp paths and reads its SQLite file.

const { spawn, spawnSync } = require('node:child_process');
const dgram = require('node:dgram');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const BIN = process.env.OCT_TEST_BIN;

// freeUDPPort asks the kernel for a free UDP port on loopback.
function freeUDPPort() {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'oct-client-'));
}

// startDaemon runs the binary with a temp DB, HTTP on a free port, the unix
// socket and UDP on the given (or new) paths, and resolves once every
// configured transport has logged that it listens. Reuse dir, socketPath
// and udpPort to restart the same sidecar.
async function startDaemon({ dir, unix = true, udp = true, socketPath, udpPort, env = {} } = {}) {
  if (!BIN) throw new Error('OCT_TEST_BIN is not set: the path of the openclaw-trace binary');
  dir = dir || tempDir();
  socketPath = socketPath || path.join(dir, 'trace.sock');
  udpPort = udpPort || (await freeUDPPort());
  const d = {
    dir,
    dbPath: path.join(dir, 'trace.db'),
    socketPath: unix ? socketPath : '',
    udpPort: udp ? udpPort : 0,
    httpUrl: '',
    logs: [],
  };
  const child = spawn(BIN, [], {
    env: {
      PATH: process.env.PATH,
      OCT_DB_PATH: d.dbPath,
      OCT_PORT: '0',
      OCT_SOCKET_PATH: d.socketPath,
      OCT_UDP_ADDR: udp ? `127.0.0.1:${udpPort}` : '',
      OCT_METRICS_INTERVAL: '0',
      OCT_BATCH_WINDOW: '50ms',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  d.child = child;
  d.exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
  const want = new Set(['http']);
  if (unix) want.add('unixgram');
  if (udp) want.add('udp');
  const ready = new Promise((resolve, reject) => {
    const onLine = (line) => {
      d.logs.push(line);
      let rec;
      try {
        rec = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof rec.msg !== 'string' || !rec.msg.includes('listening')) return;
      // {"msg":"listening","transport":"unixgram"} (main) or the dgram
      // branch's {"msg":"unix datagram socket listening","component":"unixgram"}
      const t = rec.transport || rec.component;
      if (t === 'http' && rec.addr) d.httpUrl = `http://${rec.addr}`;
      want.delete(t);
      if (want.size === 0) resolve();
    };
    readline.createInterface({ input: child.stdout }).on('line', onLine);
    readline.createInterface({ input: child.stderr }).on('line', onLine);
    d.exited.then(({ code }) =>
      reject(new Error(`daemon exited at start (status ${code})\n${d.logs.join('\n')}`)),
    );
    setTimeout(() => {
      const missing = [...want].join(', ');
      reject(
        new Error(
          `daemon did not report listening on: ${missing} within 10s` +
            (want.has('unixgram') || want.has('udp')
              ? ' (are the datagram listeners merged into this branch?)'
              : '') +
            `\n${d.logs.join('\n')}`,
        ),
      );
    }, 10000).unref();
  });
  try {
    await ready;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  // stop sends SIGTERM and waits for the exit; the rows are then on disk.
  d.stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return d.exited;
  };
  d.query = (sql) => query(d.dbPath, sql);
  d.health = async () => (await fetch(`${d.httpUrl}/health`)).json();
  return d;
}

const QUERY_PY = path.join(__dirname, 'query.py');

// query runs sql on the database at dbPath and returns the rows.
function query(dbPath, sql) {
  const r = spawnSync('python3', [QUERY_PY, dbPath, sql], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`query failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// waitFor polls cond (sync or async) until it is truthy or timeoutMs passes.
async function waitFor(what, cond, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await cond();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// optional loads an optional dependency of the client for a test, or says
// why the test is skipped. With OCT_REQUIRE_UNIX_DGRAM=1 (CI, where they are
// installed) a missing one fails the test instead.
function optional(name, t) {
  try {
    return require(require.resolve(name, { paths: [path.join(__dirname, '..', 'node')] }));
  } catch (err) {
    if (process.env.OCT_REQUIRE_UNIX_DGRAM === '1') {
      throw new Error(`${name} is required (OCT_REQUIRE_UNIX_DGRAM=1) but does not load: ${err.message}`);
    }
    t.skip(`${name} is not installed (cd clients/node && npm install && npm rebuild)`);
    return null;
  }
}

module.exports = { startDaemon, query, waitFor, freeUDPPort, tempDir, optional };

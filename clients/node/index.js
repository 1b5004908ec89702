'use strict';

// Over HTTP the path gives the event type.
const PATHS = { trace: '/v1/traces', error: '/v1/errors', log: '/v1/logs' };
// Fire-and-forget client for the openclaw-trace sidecar (wire protocol v1).
//
// trace(obj) and error(obj) encode the event and hand it to the kernel at
// once: over the unix datagram socket when the optional native package
// `unix-dgram` is installed, else over UDP on loopback; events larger than a
// datagram should be (8 KiB encoded) go over HTTP POST in the background.
// Nothing here throws into the caller, blocks the event loop or keeps the
// process alive. What cannot be delivered is counted in stats() and reported
// to the sidecar in client_stats datagrams.
//
// A sidecar run with OCT_TOKEN refuses HTTP requests without it: the token
// (option `token`, else OCT_TOKEN) goes on every HTTP request as
// Authorization: Bearer. Datagrams carry none; the sidecar takes them as
// they come (the socket's file mode and a loopback UDP address guard them).

const dgram = require('node:dgram');
const http = require('node:http');
const net = require('node:net');
const { resolveTargets, hostPort, ADDRESS_DEFAULTS } = require('./targets.js');
const { authHeader, HTTP_DROP_REASONS, httpDropReason } = require('./auth.js');

// The addresses (socketPath, udpHost, udpPort, httpPort, httpUrl) are not
// here: each is the option, else the sidecar's OCT_* variable read when the
// client is made, else the sidecar's default (targets.js).
const DEFAULTS = {
  transport: 'auto', // 'auto' (unix when unix-dgram loads, else udp), 'unix', 'udp'
  encoding: 'json', // 'json', 'msgpack', 'auto' (msgpack when installed)
  maxQueue: 1000, // events waiting for the unix socket to drain (EAGAIN)
  maxDatagramBytes: 8192, // larger events go over HTTP
  maxHttpInflight: 16,
  httpTimeoutMs: 5000,
  statsIntervalMs: 10000, // client_stats report period; 0 disables the timer
  reconnectMs: 200, // least time between connect attempts while the sidecar is absent
  idleCloseMs: 250, // unix socket closed after this long idle (see below)
  stallMs: 2000, // a retry queue that makes no progress this long is dropped
  unixDgram: undefined, // the unix-dgram module, or null to act as if absent
  msgpack: undefined, // the @msgpack/msgpack module, or null to act as if absent
};

// optionalRequire loads an optional package; why it did not load is kept
// in loadErrors, so the client can say why it fell back to UDP.
const loadErrors = {};
function optionalRequire(name) {
  if (process.env.OCT_CLIENT_NO_UNIX_DGRAM === '1' && name === 'unix-dgram') {
    loadErrors[name] = 'OCT_CLIENT_NO_UNIX_DGRAM=1';
    return null;
  }
  try {
    return require(name);
  } catch (err) {
    // first line only: "Cannot find module …", or the native ABI mismatch
    loadErrors[name] = String((err && err.message) || err).split('\n')[0];
    return null;
  }
}

const ENOENT = -2;
const ECONNREFUSED = -111;
const EMSGSIZE = -90;

class Client {
  // "Bearer <token>", '' without one, null when the token cannot be sent in
  // a header. Private: it never shows in opts, stats(), inspect or JSON.
  #auth;

  constructor(opts = {}) {
    // Where to send: explicit options win over the environment.
    const o = { ...DEFAULTS, ...opts, ...resolveTargets(opts, process.env) };
    this.#auth = authHeader(opts.token, process.env);
    delete o.token;
    this.opts = o;
    this._sent = { unix: 0, udp: 0, http: 0 };
    this._dropped = { unix: 0, udp: 0, http: 0 };
    // HTTP drops by reason (they add up to dropped.http)
    this._httpDropped = Object.fromEntries(HTTP_DROP_REASONS.map((r) => [r, 0]));
    this._unreported = 0; // drops not yet told to the sidecar
    this._closed = false;
    this._httpInflight = 0;
    this._waiters = []; // flush() promises waiting for idle
    this.httpUrl = o.httpUrl; // '' when the sidecar's HTTP port is unknown (OCT_PORT=0)

    const mp = o.msgpack === undefined ? optionalRequire('@msgpack/msgpack') : o.msgpack;
    this.encoding = 'json';
    if ((o.encoding === 'msgpack' || o.encoding === 'auto') && mp) {
      this.encoding = 'msgpack';
      this._mp = new mp.Encoder({ ignoreUndefined: true });
    }

    const ud = o.unixDgram === undefined ? optionalRequire('unix-dgram') : o.unixDgram;
    if (o.transport === 'unix' || (o.transport === 'auto' && ud && o.socketPath)) {
      this.transport = ud ? 'unix' : 'udp';
    } else {
      this.transport = 'udp';
    }
    // fallback says why a unix socket was wanted but UDP is used
    this.fallback = null;
    if (this.transport === 'udp' && o.transport !== 'udp' && o.socketPath && !ud) {
      const why = o.unixDgram === null ? 'disabled (unixDgram: null)' : loadErrors['unix-dgram'] || 'not loaded';
      let reason = `unix-dgram: ${why}`;
      if (o.udpPort === null) reason += '; and no UDP address (OCT_UDP_ADDR is empty or invalid): events are dropped';
      this.fallback = { from: 'unix', to: 'udp', reason };
    }
    this._dg = this.transport === 'unix' ? new UnixSender(this, ud) : new UDPSender(this);

    if (o.statsIntervalMs > 0) {
      this._statsTimer = setInterval(() => this._reportStats(), o.statsIntervalMs);
      this._statsTimer.unref();
    }
  }

  trace(obj) {
    this._emit('trace', obj);
  }

  error(obj) {
    this._emit('error', obj);
  }

  // log sends a gateway event (kind channel_in, channel_out, …) to log_events.
  log(obj) {
    this._emit('log', obj);
  }

  _emit(type, obj) {
    const tr = this.transport;
    try {
      if (this._closed || obj === null || typeof obj !== 'object') {
        this._drop(tr);
        return;
      }
      const ev = { type, ...obj };
      if (ev.ts === undefined) ev.ts = Date.now();
      const buf = this._encode(ev);
      if (buf.length > this.opts.maxDatagramBytes) {
        delete ev.type; // the path gives the type over HTTP
        this._post(PATHS[type], this._encode(ev));
        return;
      }
      this._dg.send(buf);
    } catch {
      this._drop(tr); // unencodable (cycles, BigInt) or a bug: counted, never thrown
    }
  }

  _encode(v) {
    if (this.encoding === 'msgpack') {
      // encodeSharedRef reuses the encoder's buffer: copy before it is kept
      return Buffer.from(this._mp.encodeSharedRef(v));
    }
    return Buffer.from(JSON.stringify(v));
  }

  _post(path, body) {
    if (!this.httpUrl) return this._dropHttp('no_address');
    if (this.#auth === null) return this._dropHttp('bad_token');
    if (this._httpInflight >= this.opts.maxHttpInflight) return this._dropHttp('busy');
    this._httpInflight++;
    let done = false;
    const finish = (reason) => {
      if (done) return;
      done = true;
      this._httpInflight--;
      if (reason === null) this._sent.http++;
      else this._dropHttp(reason);
      this._checkIdle();
    };
    const headers = {
      'Content-Type': this.encoding === 'msgpack' ? 'application/msgpack' : 'application/json',
      'Content-Length': body.length,
    };
    if (this.#auth) headers.Authorization = this.#auth;
    let req;
    try {
      req = http.request(this.httpUrl + path, { method: 'POST', headers, timeout: this.opts.httpTimeoutMs });
    } catch {
      finish('network'); // an httpUrl Node cannot use; the message is not kept
      return;
    }
    req.on('socket', (s) => s.unref());
    req.on('response', (res) => {
      res.resume();
      finish(httpDropReason(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => finish('network'));
    req.end(body);
  }

  _dropHttp(reason) {
    this._httpDropped[reason]++;
    this._drop('http');
  }

  _drop(transport, n = 1) {
    this._dropped[transport] += n;
    this._unreported += n;
  }

  // _reportStats sends the drops counted since the last report. A report
  // that cannot be sent is kept for the next one.
  _reportStats() {
    const n = this._unreported;
    if (n === 0 || this._closed) return;
    let buf;
    try {
      buf = this._encode({ type: 'client_stats', client: 'node', dropped: n });
    } catch {
      return;
    }
    // a report the sender refuses or that fails is kept for the next one
    const onFail = () => (this._unreported += n);
    onFail.n = n;
    if (this._dg.sendStats(buf, onFail)) this._unreported -= n;
  }

  _idle() {
    return this._dg.idle() && this._httpInflight === 0;
  }

  _checkIdle() {
    if (this._waiters.length === 0 || !this._idle()) return;
    const ws = this._waiters;
    this._waiters = [];
    for (const w of ws) w();
  }

  // flush resolves once queued datagrams and background HTTP posts are done
  // (delivered or dropped) and the drop count has been reported, or after
  // timeoutMs. It never rejects.
  flush(timeoutMs = 5000) {
    return new Promise((resolve) => {
      const t = setTimeout(done, timeoutMs);
      t.unref();
      let finished = false;
      const self = this;
      function done() {
        if (finished) return;
        finished = true;
        clearTimeout(t);
        try {
          self._reportStats();
        } catch {
          /* never thrown */
        }
        resolve();
      }
      if (this._idle()) done();
      else this._waiters.push(done);
    });
  }

  async close(timeoutMs = 5000) {
    if (this._closed) return;
    await this.flush(timeoutMs);
    this._closed = true;
    if (this._statsTimer) clearInterval(this._statsTimer);
    this._dg.close();
  }

  // stats returns what was sent and dropped, by transport, since creation,
  // the HTTP drops by reason, and where each transport sends (null: nowhere;
  // its events are dropped). It says whether a token is sent, never which.
  stats() {
    const o = this.opts;
    return {
      transport: this.transport,
      fallback: this.fallback,
      targets: {
        unix: this.transport === 'unix' ? o.socketPath || null : null,
        udp: o.udpPort === null ? null : hostPort(o.udpHost, o.udpPort),
        http: this.httpUrl || null,
      },
      encoding: this.encoding,
      sent: { ...this._sent },
      dropped: { ...this._dropped },
      httpDropped: { ...this._httpDropped },
      token: this.#auth === null ? 'invalid' : this.#auth ? 'set' : 'none',
      queued: this._dg.queued(),
    };
  }
}

// UnixSender writes datagrams to a connected unix socket. unix-dgram reports
// EAGAIN as "congestion" and then emits 'writable' when the sidecar's queue
// has room; meanwhile events wait in a bounded queue, in order. Its poll
// handle cannot be unref'd, so the socket is closed after idleCloseMs without
// traffic and opened again on the next send: a process that is done exits at
// most idleCloseMs later.
class UnixSender {
  constructor(client, ud) {
    this.c = client;
    this.ud = ud;
    this.sock = null;
    this.q = [];
    this.congested = false;
    this.nextConnect = 0;
    this.lastProgress = 0;
    this.idleTimer = null;
    this.stallTimer = null;
  }

  _connect() {
    if (this.sock) return true;
    const now = Date.now();
    if (now < this.nextConnect) return false;
    let s;
    try {
      s = this.ud.createSocket('unix_dgram');
    } catch {
      this.nextConnect = now + this.c.opts.reconnectMs;
      return false;
    }
    let failed = false;
    s.on('error', () => {
      failed = true; // connect errors arrive here, synchronously
    });
    s.on('writable', () => this._writable());
    try {
      s.connect(this.c.opts.socketPath);
    } catch {
      failed = true;
    }
    if (failed || !s.connected) {
      safeClose(s);
      this.nextConnect = now + this.c.opts.reconnectMs;
      return false;
    }
    this.sock = s;
    this.congested = false;
    return true;
  }

  _disconnect() {
    if (this.sock) safeClose(this.sock);
    this.sock = null;
    this.congested = false;
  }

  send(buf) {
    if (this.q.length > 0 || this.congested) {
      this._enqueue(buf);
      return;
    }
    const r = this._write(buf);
    if (r === 'again') this._enqueue(buf);
    else if (r === 'fail') this.c._drop('unix');
    else this.c._sent.unix++;
    this._armIdle();
  }

  // sendStats writes a client_stats datagram only when nothing waits, so
  // reports never take a queued event's place.
  sendStats(buf) {
    if (this.q.length > 0 || this.congested) return false;
    const ok = this._write(buf) === 'ok';
    this._armIdle();
    return ok;
  }

  // _write returns 'ok', 'again' (EAGAIN: retry later) or 'fail' (dropped).
  // A socket still connected to a sidecar that restarted answers
  // ECONNREFUSED once: connect afresh and send again at once.
  _write(buf) {
    const wasOpen = this.sock !== null;
    const r = this._write1(buf);
    if (r === 'refused' && wasOpen) {
      this.nextConnect = 0;
      const r2 = this._write1(buf);
      return r2 === 'refused' ? 'fail' : r2;
    }
    return r === 'refused' ? 'fail' : r;
  }

  _write1(buf) {
    if (!this._connect()) return 'fail';
    let res = 'ok';
    this.sock.send(buf, (err) => {
      if (!err) return;
      if (err.code === 1) {
        res = 'again';
        this.congested = true;
        return;
      }
      res = 'fail';
      if (err.code === ECONNREFUSED || err.code === ENOENT) {
        // the sidecar went away (or restarted): connect afresh later
        res = 'refused';
        this._disconnect();
        this.nextConnect = Date.now() + this.c.opts.reconnectMs;
      } else if (err.code !== EMSGSIZE) {
        this._disconnect();
      }
    });
    return res;
  }

  _enqueue(buf) {
    if (this.q.length >= this.c.opts.maxQueue) {
      this.c._drop('unix');
      return;
    }
    if (this.q.length === 0) this.lastProgress = Date.now();
    this.q.push(buf);
    this._armStall();
  }

  _writable() {
    this.congested = false;
    this._drain();
  }

  _drain() {
    let sent = 0;
    while (this.q.length > 0) {
      const r = this._write(this.q[0]);
      if (r === 'again') break;
      this.q.shift();
      if (r === 'ok') {
        this.c._sent.unix++;
        sent++;
      } else {
        this.c._drop('unix');
      }
    }
    if (sent > 0) this.lastProgress = Date.now();
    if (this.q.length === 0) this.c._checkIdle();
    this._armIdle();
  }

  // _armStall checks a waiting queue now and then: it drains it if no
  // 'writable' came (belt and braces), and drops it whole when the sidecar
  // has accepted nothing for stallMs, so a hung sidecar cannot hold memory
  // or the process.
  _armStall() {
    if (this.stallTimer) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      if (this.q.length === 0) return;
      if (Date.now() - this.lastProgress > this.c.opts.stallMs) {
        this.c._drop('unix', this.q.length);
        this.q = [];
        this._disconnect();
        this.c._checkIdle();
        return;
      }
      this.congested = false;
      this._drain();
      if (this.q.length > 0) this._armStall();
    }, 50);
    this.stallTimer.unref();
  }

  _armIdle() {
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.q.length > 0) {
        this._armIdle();
        return;
      }
      this._disconnect();
    }, this.c.opts.idleCloseMs);
    this.idleTimer.unref();
  }

  idle() {
    return this.q.length === 0;
  }

  queued() {
    return this.q.length;
  }

  close() {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.stallTimer) clearTimeout(this.stallTimer);
    if (this.q.length > 0) this.c._drop('unix', this.q.length);
    this.q = [];
    this._disconnect();
  }
}

function safeClose(s) {
  try {
    s.close();
  } catch {
    /* already closed */
  }
}

// UDPSender writes datagrams to a connected UDP socket, so that an absent
// sidecar shows up as ECONNREFUSED (from the second send on) and is counted.
// Node queues sends itself; inflight bounds that queue at maxQueue.
class UDPSender {
  constructor(client) {
    this.c = client;
    this.sock = null;
    this.ready = false;
    this.pending = []; // sends made before connect completed
    this.inflight = 0;
    // drops in the last datagram sent, when it was a client_stats report:
    // an ICMP error for it puts them back
    this.lastReport = 0;
  }

  _open() {
    if (this.sock) return;
    const s = dgram.createSocket(net.isIPv6(this.c.opts.udpHost) ? 'udp6' : 'udp4');
    s.unref();
    s.on('error', () => this._reset());
    this.sock = s;
    this.ready = false;
    s.connect(this.c.opts.udpPort, this.c.opts.udpHost, (err) => {
      if (this.sock !== s) return;
      if (err) {
        for (const p of this.pending) if (p.stats) p.stats(); else this.c._drop('udp');
        this.pending = [];
        this._reset();
        return;
      }
      this.ready = true;
      const p = this.pending;
      this.pending = [];
      for (const item of p) this._write(item.buf, item.stats);
      this.c._checkIdle();
    });
  }

  _reset() {
    if (this.sock) safeClose(this.sock);
    this.sock = null;
    this.ready = false;
  }

  send(buf) {
    this._submit(buf, false);
  }

  sendStats(buf, onFail) {
    if (this.c.opts.udpPort === null || this.inflight + this.pending.length >= this.c.opts.maxQueue) return false;
    this._submit(buf, onFail);
    return true;
  }

  // stats, when set, marks a client_stats report: its failure calls it
  // instead of counting a drop.
  _submit(buf, stats) {
    if (this.c.opts.udpPort === null || this.inflight + this.pending.length >= this.c.opts.maxQueue) {
      if (!stats) this.c._drop('udp');
      return;
    }
    this._open();
    if (!this.ready) this.pending.push({ buf, stats });
    else this._write(buf, stats);
  }

  _write(buf, stats, retried) {
    this.inflight++;
    const s = this.sock;
    try {
      s.send(buf, (err) => {
        this.inflight--;
        if (err && err.code === 'ECONNREFUSED' && !retried) {
          // The ICMP error belongs to an earlier datagram, which was lost;
          // this one was not sent yet.
          if (this.lastReport) {
            this.c._unreported += this.lastReport; // it was a report: report those again
            this.lastReport = 0;
          } else if (this.c._sent.udp > 0) {
            this.c._sent.udp--;
            this.c._drop('udp');
          }
          if (this.sock === s) {
            this._write(buf, stats, true);
            return;
          }
        }
        if (err) {
          if (stats) stats();
          else this.c._drop('udp');
        } else if (!stats) {
          this.c._sent.udp++;
          this.lastReport = 0;
        } else {
          this.lastReport = stats.n;
        }
        this.c._checkIdle();
      });
    } catch {
      this.inflight--;
      if (stats) stats();
      else this.c._drop('udp');
      this._reset();
    }
  }

  idle() {
    return this.inflight === 0 && this.pending.length === 0;
  }

  queued() {
    return this.inflight + this.pending.length;
  }

  close() {
    this.c._drop('udp', this.pending.filter((p) => !p.stats).length);
    this.pending = [];
    this._reset();
  }
}

function createClient(opts) {
  return new Client(opts);
}

module.exports = { createClient, Client, DEFAULTS, ADDRESS_DEFAULTS };

'use strict';
// Budgets: refreshes the guard's state from the sidecar's GET /v1/budgets
// in the background: every pollMs, and afterCallMs after each call the
// plugin sends (the sidecar has it by then: its writer commits within its
// batch window). Never on a hook: soon() only moves a timer. One request
// at a time, each bounded by timeoutMs; timers and sockets are unref'd so
// a one-shot `openclaw agent --local` exits when its turn is done.
//
// The address is the Node client's (targets.js: httpUrl, else OCT_PORT and
// OCT_BIND); the token is the plugin's `token` option, else OCT_TOKEN,
// sent as Authorization: Bearer. Node sets Host to the address's
// host:port, which the sidecar accepts.

const http = require('node:http');
const https = require('node:https');

const MAX_BODY = 1 << 20;

class BudgetPoller {
  constructor(guard, { url, token, pollMs = 2000, afterCallMs = 600, timeoutMs = 2000 } = {}) {
    this.guard = guard;
    this.url = url ? `${url}/v1/budgets` : '';
    // visible ASCII only, as the sidecar compares it (and the Node client sends it)
    this.badToken = Boolean(token) && !/^[\x21-\x7e]+$/.test(token);
    this.headers = token && !this.badToken ? { authorization: `Bearer ${token}`, accept: 'application/json' } : { accept: 'application/json' };
    this.pollMs = pollMs;
    this.afterCallMs = afterCallMs;
    this.timeoutMs = timeoutMs;
    this.timer = null;
    this.dueAt = 0;
    this.inflight = false;
    this.again = false; // a call was sent while a request was out
    this.stopped = true;
    this.lastMs = null; // duration of the last request
    this._run = () => this.run();
  }

  start() {
    this.stopped = false;
    if (!this.url) {
      this.guard.fail('no sidecar HTTP address (httpUrl, or OCT_PORT=0)');
      return;
    }
    if (this.badToken) {
      this.guard.fail('the token (plugin option token, or OCT_TOKEN) cannot be sent in a header: visible ASCII only');
      return;
    }
    this.schedule(0);
  }

  stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  // soon asks for a refresh shortly: a call was just sent.
  soon() {
    if (this.stopped || !this.url || this.badToken) return;
    if (this.inflight) this.again = true;
    else this.schedule(this.afterCallMs);
  }

  schedule(ms) {
    const at = Date.now() + ms;
    if (this.timer && this.dueAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.dueAt = at;
    this.timer = setTimeout(this._run, ms);
    this.timer.unref();
  }

  run() {
    this.timer = null;
    if (this.stopped || this.inflight) return;
    this.inflight = true;
    this.again = false;
    const started = Date.now();
    this.get((err, doc) => {
      this.inflight = false;
      this.lastMs = Date.now() - started;
      if (err) this.guard.fail(err);
      else this.guard.update(doc, started);
      if (this.stopped) return;
      this.schedule(this.again ? this.afterCallMs : this.pollMs);
    });
  }

  // get fetches the document; cb(reason) or cb(null, doc), exactly once.
  get(cb) {
    let done = false;
    const finish = (err, doc) => {
      if (done) return;
      done = true;
      cb(err, doc);
    };
    let req;
    try {
      const mod = this.url.startsWith('https:') ? https : http;
      req = mod.get(this.url, { agent: false, headers: this.headers, timeout: this.timeoutMs }, (res) => {
        const chunks = [];
        let size = 0;
        res.on('data', (c) => {
          size += c.length;
          if (size > MAX_BODY) return req.destroy(new Error('answer larger than 1 MiB'));
          chunks.push(c);
        });
        res.on('end', () => {
          if (res.statusCode !== 200) return finish(statusReason(res.statusCode));
          try {
            finish(null, JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            finish('answer is not JSON');
          }
        });
        res.on('error', (e) => finish(e.code || e.message));
      });
    } catch (e) {
      return finish(`bad sidecar address ${this.url}: ${e.message}`);
    }
    req.on('socket', (s) => s.unref());
    req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
    req.on('error', (e) => finish(`${this.url}: ${e.code || e.message}`));
  }
}

function statusReason(code) {
  if (code === 401 || code === 403) return `HTTP ${code}: the sidecar wants its token (plugin option token, or OCT_TOKEN)`;
  if (code === 404) return 'HTTP 404: this sidecar has no /v1/budgets (older than budgets, or OCT_BUDGETS unset)';
  return `HTTP ${code}`;
}

module.exports = { BudgetPoller };

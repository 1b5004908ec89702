'use strict';
// Intake takes what the hooks copied and works it off outside them.
//
// A hook runs on the gateway's time (before_message_write holds back the
// message being persisted), so it only copies the fields it needs and
// appends them to a queue; pairing, encoding and the socket send run from
// setImmediate, after the gateway's own work of that turn of the event
// loop, in batches of BATCH. Nothing waits there for long: the queue is
// worked off on the next turn, and a hook that finds MAX_QUEUED records
// waiting (an event loop that never turned) works it off itself rather
// than hold more.
//
// Nothing queued is lost at the end: flushAll runs the queue and sends
// every waiting half synchronously, from beforeExit, exit (on the unix
// socket a send completes inside the call) and gateway_stop.
//
// One Intake per process (index.js keeps it on globalThis): OpenClaw
// registers the plugin several times, and an event delivered to two
// registrations is handled once.

const fs = require('node:fs');

const BATCH = 64;
const MAX_QUEUED = 4096;
const SLOTS = 4; // kind, event copy, ctx copy, time of the hook

class Intake {
  constructor() {
    this.q = [];
    this.head = 0;
    this.scheduled = false;
    this.seen = new WeakSet();
    this.tracer = null;
    this.cfg = null;
    this.key = undefined;
    this.newTracer = null; // (cfg) => Tracer, from the registration that set cfg
    this.captureText = false;
    this.statsFile = '';
    this.hooks = {}; // per-hook timing, only with statsFile
    this.counts = { drainedOnHook: 0, failed: 0 };
    this.exitHooked = false;
    this._run = () => this.drain(BATCH);
  }

  // configure sets the configuration, once per registration. A full
  // registration with another configuration (a hot reload) replaces the
  // tracer; the other registration modes take it only when none is set.
  configure(cfg, key, full, newTracer) {
    if (key === this.key || (!full && this.key !== undefined)) return;
    const old = this.tracer;
    if (old) {
      this.drain(Infinity);
      old.flushPending();
      old.close().catch(() => {});
    }
    this.tracer = null;
    this.cfg = cfg;
    this.key = key;
    this.newTracer = newTracer;
    this.captureText = cfg.captureText === true;
    this.hookExit();
  }

  // first reports whether a hook sees event e for the first time.
  first(e) {
    if (this.seen.has(e)) return false;
    this.seen.add(e);
    return true;
  }

  push(kind, e, c) {
    const q = this.q;
    if (q.length - this.head >= MAX_QUEUED * SLOTS) {
      this.counts.drainedOnHook++;
      this.drain(Infinity);
    }
    q.push(kind, e, c, Date.now());
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this._run);
    }
  }

  // drain works off up to limit records.
  drain(limit) {
    this.scheduled = false;
    const q = this.q;
    let i = this.head;
    const end = Math.min(q.length, i + limit * SLOTS);
    const t = end > i ? this.ensureTracer() : null;
    for (; i < end; i += SLOTS) {
      const kind = q[i];
      const e = q[i + 1];
      const c = q[i + 2];
      q[i + 1] = q[i + 2] = undefined;
      try {
        if (!t) throw new Error('no tracer');
        if (kind === 'model_call_ended') t.onModelCallEnded(e, c, q[i + 3]);
        else if (kind === 'before_message_write') t.onMessageWrite(e, c, q[i + 3]);
        else if (kind === 'llm_output') t.onLlmOutput(e, c);
        else t.onMessage(kind === 'message_received' ? 'channel_in' : 'channel_out', e, c);
      } catch {
        this.counts.failed++; // a broken client, or a bug: counted, never thrown
      }
    }
    if (i >= q.length) {
      q.length = 0;
      this.head = 0;
    } else {
      this.head = i;
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this._run);
      }
    }
  }

  // ensureTracer returns the tracer, creating it (and its socket) when
  // there is none: at the full registration, or after gateway_stop.
  ensureTracer() {
    if (!this.tracer && this.newTracer) {
      try {
        this.tracer = this.newTracer(this.cfg || {});
      } catch {
        return null;
      }
    }
    return this.tracer;
  }

  // flushAll works off the queue and sends every waiting half now,
  // synchronously.
  flushAll() {
    this.drain(Infinity);
    if (this.tracer) this.tracer.flushPending();
  }

  // flush is flushAll, then the client's flush (datagrams queued for the
  // socket, background HTTP posts).
  flush() {
    this.flushAll();
    return this.tracer ? this.tracer.flush() : Promise.resolve();
  }

  // stop (gateway_stop) flushes, reports and closes the tracer; a later
  // hook event opens a new one.
  stop() {
    this.flushAll();
    const t = this.tracer;
    if (!t) return undefined;
    this.writeStats(t);
    this.tracer = null;
    return t.close().catch(() => {});
  }

  hookExit() {
    if (this.exitHooked) return;
    this.exitHooked = true;
    const flush = (report) => () => {
      try {
        const had = this.tracer !== null || this.q.length > this.head;
        this.flushAll();
        if (report && had && this.tracer) this.writeStats(this.tracer); // once, at the very end
      } catch {
        /* never thrown */
      }
    };
    process.once('beforeExit', flush(false));
    process.once('exit', flush(true));
  }

  // time wraps a hook: with a stats file each call is timed (performance.now
  // allocates nothing); without, only errors are kept from the gateway.
  time(name, fn) {
    if (!this.statsFile) {
      return (e, c) => {
        try {
          fn(e, c);
        } catch {
          /* tracing must never break the agent */
        }
      };
    }
    const h = this.hooks[name] || (this.hooks[name] = { n: 0, ms: 0, maxMs: 0 });
    return (e, c) => {
      const t0 = performance.now();
      try {
        fn(e, c);
      } catch {
        /* tracing must never break the agent */
      }
      const d = performance.now() - t0;
      h.n++;
      h.ms += d;
      if (d > h.maxMs) h.maxMs = d;
    };
  }

  // writeStats appends one line to the stats file (OCT_PLUGIN_STATS_FILE,
  // opt-in): per-hook calls, mean and max µs, and the counts.
  writeStats(t) {
    if (!this.statsFile) return;
    const hooks = {};
    for (const [name, h] of Object.entries(this.hooks)) {
      hooks[name] = { n: h.n, meanUs: h.n ? Math.round((h.ms / h.n) * 10000) / 10 : 0, maxUs: Math.round(h.maxMs * 10000) / 10 };
    }
    const line = { pid: process.pid, hooks, intake: this.counts, counts: t.counts, client: t.client.stats() };
    try {
      fs.appendFileSync(this.statsFile, JSON.stringify(line) + '\n');
    } catch {
      /* a stats file that cannot be written changes nothing else */
    }
  }
}

module.exports = { Intake, BATCH, MAX_QUEUED };

'use strict';
// Intake takes what the hooks copied and works it off outside them.
//
// A hook runs on the gateway's time (before_message_write holds back the
// message being persisted), so it only copies the fields it needs and
// appends them to a queue; pairing, encoding and the socket send run off
// the hooks, from a timer that ticks every tickMs (20 ms, as a buffered
// statsd client such as hot-shots flushes on an interval), BATCH records a
// tick, the rest of a backlog from setImmediate. A hook schedules nothing:
// scheduling is the costliest part of a hand-over (setImmediate, or
// starting a timer, measured 8–13 µs median on a loaded 2-core machine, a
// flag 0.5 µs), and an idle tick costs a few µs, 50 times a second. The
// timer is unref'd and stops at gateway_stop. A hook that finds MAX_QUEUED
// records waiting (an event loop that never turned) works them off itself
// rather than hold more.
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
const MAX_SAMPLES = 1000; // per-hook times kept for the stats file
const SLOTS = 4; // kind, event copy, ctx copy, time of the hook

class Intake {
  constructor() {
    this.q = []; // SLOTS per record, from head to len; kept, not shrunk, when worked off
    this.head = 0;
    this.len = 0;
    this.scheduled = false; // a setImmediate for a backlog is pending
    this.tickMs = 20;
    this.timer = null;
    this.seen = new WeakSet();
    this.tracer = null;
    this.cfg = null;
    this.key = undefined;
    this.newTracer = null; // (cfg) => Tracer, from the registration that set cfg
    this.captureText = false;
    this.statsFile = '';
    this.hooks = {}; // per-hook timing, only with statsFile
    this.counts = { drainedOnHook: 0, failed: 0 };
    this.registrations = {}; // registrationMode -> registrations seen
    this.guardStats = null; // () => the guard's counts, for the stats file
    this.exitHooked = false;
    this._run = () => this.drain(BATCH);
    this._tick = () => {
      if (this.len > this.head && !this.scheduled) this.drain(BATCH);
    };
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
    if (this.len - this.head >= MAX_QUEUED * SLOTS) {
      this.counts.drainedOnHook++;
      this.drain(Infinity);
    }
    const q = this.q;
    const n = this.len;
    q[n] = kind;
    q[n + 1] = e;
    q[n + 2] = c;
    q[n + 3] = Date.now();
    this.len = n + SLOTS;
    if (this.timer === null) {
      this.timer = setInterval(this._tick, this.tickMs);
      this.timer.unref(); // the exit handlers flush: the timer keeps no process alive
    }
  }

  stopTimer() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  // drain works off up to limit records.
  drain(limit) {
    this.scheduled = false;
    const q = this.q;
    let i = this.head;
    const end = Math.min(this.len, i + limit * SLOTS);
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
        else if (kind === 'message_received') t.onMessage('channel_in', e, c);
        else if (kind === 'message_sent') t.onMessage('channel_out', e, c);
      } catch {
        this.counts.failed++; // a broken client, or a bug: counted, never thrown
      }
    }
    if (i >= this.len) {
      this.head = 0;
      this.len = 0;
    } else {
      this.head = i;
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this._run);
      }
    }
  }

  // warm runs the hand-over once and takes the record back, so that it is
  // not compiled inside the first hook (and the timer starts now). The
  // drain runs off the hooks: it is compiled at its first tick.
  warm() {
    this.first({});
    this.push('warm', null, null);
    this.len -= SLOTS;
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
    this.stopTimer();
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
        const had = this.tracer !== null || this.len > this.head;
        this.flushAll();
        if (report && had && this.tracer) this.writeStats(this.tracer); // once, at the very end
      } catch {
        /* never thrown */
      }
    };
    process.once('beforeExit', flush(false));
    process.once('exit', flush(true));
  }

  // time wraps a hook and returns its result: with a stats file each call
  // is timed (performance.now allocates nothing); without, only errors are
  // kept from the gateway.
  time(name, fn) {
    if (!this.statsFile) {
      return (e, c) => {
        try {
          return fn(e, c);
        } catch {
          return undefined; /* tracing must never break the agent */
        }
      };
    }
    const h = this.hooks[name] || (this.hooks[name] = { n: 0, ms: 0, maxMs: 0, samples: [] });
    return (e, c) => {
      const t0 = performance.now();
      let r;
      try {
        r = fn(e, c);
      } catch {
        /* tracing must never break the agent */
      }
      const d = performance.now() - t0;
      h.n++;
      h.ms += d;
      if (d > h.maxMs) h.maxMs = d;
      if (h.samples.length < MAX_SAMPLES) h.samples.push(d);
      return r;
    };
  }

  // writeStats appends one line to the stats file (OCT_PLUGIN_STATS_FILE,
  // opt-in): per-hook calls, mean, median and max µs, the first
  // MAX_SAMPLES calls' µs, and the counts.
  writeStats(t) {
    if (!this.statsFile) return;
    const hooks = {};
    const us = (ms) => Math.round(ms * 10000) / 10;
    for (const [name, h] of Object.entries(this.hooks)) {
      const sorted = [...h.samples].sort((a, b) => a - b);
      hooks[name] = { n: h.n, meanUs: h.n ? us(h.ms / h.n) : 0, p50Us: sorted.length ? us(sorted[sorted.length >> 1]) : 0, maxUs: us(h.maxMs), us: h.samples.map(us) };
    }
    const line = { pid: process.pid, registrations: this.registrations, hooks, intake: this.counts, counts: t.counts, client: t.client.stats(), guard: this.guardStats ? this.guardStats() : undefined };
    try {
      fs.appendFileSync(this.statsFile, JSON.stringify(line) + '\n');
    } catch {
      /* a stats file that cannot be written changes nothing else */
    }
  }
}

module.exports = { Intake, BATCH, MAX_QUEUED };

'use strict';
// Intake takes what the hooks hand over and works it off outside them.
//
// A hook runs on the gateway's time (before_message_write holds back the
// message being persisted), so it appends OpenClaw's own event and context
// objects to a queue, with the time it ran, and returns: nothing is read,
// copied or allocated on it. OpenClaw 2026.9.6 builds both afresh for each
// hook call (dist: runLlmOutput({...}), runSyncMessageHookStep's
// {...event, message}, toPluginMessage*Event, a frozen model_call_ended)
// and does not change them after; the tracer reads them at the next tick
// and keeps only the fields it needs of what waits longer (keep.js). Inside
// the real gateway, where a hook's code and data are cold (an `openclaw
// agent --local` process makes a handful of calls), copying the fields on
// the hook measured 25-50 µs a call and a WeakSet lookup 10 µs.
//
// Pairing, encoding and the socket send run off the hooks, from a timer
// that ticks every tickMs (20 ms, as a buffered statsd client such as
// hot-shots flushes on an interval), BATCH records a tick, the rest of a
// backlog from setImmediate. A hook schedules nothing: scheduling is the
// costliest part of a hand-over (setImmediate, or starting a timer,
// measured 8–13 µs median on a loaded 2-core machine, a flag 0.5 µs); an
// idle timer slows down (IDLE_TICK_MS). The timer is unref'd and stops at
// gateway_stop. A hook that finds MAX_QUEUED records waiting (an
// event loop that never turned) works them off itself rather than hold
// more.
//
// Nothing queued is lost at the end: flushAll runs the queue and sends
// every waiting half synchronously, from beforeExit, exit (on the unix
// socket a send completes inside the call) and gateway_stop.
//
// One Intake per process (index.js keeps it on globalThis): OpenClaw
// registers the plugin several times, and an event delivered to two
// registrations is handled once: OpenClaw calls a hook's handlers one after
// another with the same event (before_message_write: the same message), so
// each hook remembers the last one it took.

const fs = require('node:fs');

const BATCH = 64;
const MAX_QUEUED = 4096;
const MAX_SAMPLES = 1000; // per-hook times kept for the stats file
// Idle, the timer ticks every IDLE_TICK_MS, from the IDLE_AFTER-th tick
// that found nothing: Node spends ~0.25 ms of CPU on each tick of a timer
// (an empty 20 ms interval: 122.8 ms of CPU in 10 s; no timer: 2.1 ms),
// 1.2% of a core at 50 ticks a second; 0.1% at 5. The first tick that
// finds work goes back to tickMs: a call waits at most IDLE_TICK_MS more.
const IDLE_TICK_MS = 200;
const IDLE_AFTER = 5;
const SLOTS = 5; // kind, event, ctx, time of the hook, when the guard counted the call at it (0: not)
// each hook's slot in last (an index, not a key: see rehearse)
const SEEN = Object.freeze({ model_call_ended: 0, before_message_write: 1, llm_output: 2, message_received: 3, message_sent: 4, before_model_resolve: 5 });

class Intake {
  constructor() {
    // SLOTS per record, from head to len; BATCH records' room made now and
    // kept, not shrunk, when worked off (a hook stores into it, not grows it)
    this.q = Array.from({ length: BATCH * SLOTS }, () => null);
    this.head = 0;
    this.len = 0;
    this.scheduled = false; // a setImmediate for a backlog is pending
    this.tickMs = 20;
    this.timer = null;
    this.timerMs = 0; // the timer's interval: tickMs, or IDLE_TICK_MS when idle
    this.last = [null, null, null, null, null, null]; // SEEN slot -> the last event its hook took
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
    this.rehearsals = []; // [hook, event, ctx]: the live (full) registration's hooks
    this.rehearsing = false;
    this.saved = [null, null, null, null, null, null];
    this.idleTicks = 0; // ticks in a row that found nothing queued
    this._tick = () => {
      if (this.len > this.head) {
        this.idleTicks = 0;
        if (this.timerMs !== this.tickMs) this.startTimer(this.tickMs);
        if (!this.scheduled) this.drain(BATCH);
        return;
      }
      if (this.timerMs === this.tickMs && ++this.idleTicks < IDLE_AFTER) return;
      if (this.timerMs !== IDLE_TICK_MS) this.startTimer(IDLE_TICK_MS);
      for (const r of this.rehearsals) this.rehearse(r[0], r[1], r[2]);
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

  // first reports whether the hook of SEEN slot i takes event e
  // (before_message_write: its message), not just handed to another
  // registration's handler.
  first(i, e) {
    const last = this.last;
    if (last[i] === e) return false;
    last[i] = e;
    return true;
  }

  push(kind, e, c, counted) {
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
    q[n + 4] = counted;
    this.len = n + SLOTS;
    if (this.timer === null) this.startTimer(this.tickMs);
  }

  startTimer(ms) {
    this.stopTimer();
    this.timer = setInterval(this._tick, ms);
    this.timer.unref(); // the exit handlers flush: the timer keeps no process alive
    this.timerMs = ms;
  }

  stopTimer() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.timerMs = 0;
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
        else if (kind === 'before_message_write') t.onMessageWrite(e, c, q[i + 3], q[i + 4]);
        else if (kind === 'llm_output') t.onLlmOutput(e, c);
        else if (kind === 'message_received') t.onMessage('channel_in', e, c);
        else if (kind === 'message_sent') t.onMessage('channel_out', e, c);
        else if (kind === 'before_model_resolve') t.onRunStart(c);
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

  // rehearse runs hook fn (as registered, wrapped by time) with an event
  // that takes its whole way through the hook, and takes back what it
  // queued and remembered. Each hook is rehearsed at its registration and
  // then on every idle tick, 5 times a second (an idle process's CPU
  // showed no difference: 41-48 ms in 20 s with and without).
  //
  // Why: V8 compiles a function at its first call, each property access
  // of a registration's fresh copy of the code meets its first object
  // there, and during the agent's 10-40 s of start-up V8 drops the
  // bytecode of code not run since (bytecode flushing). Inside the real
  // gateway the first hook of an `openclaw agent --local` run, where later
  // hooks took 10-20 µs, took 84-303 µs (5 runs) with the hooks rehearsed
  // at registration only, 45-65 µs with first() and push() also run on
  // every tick, and 39-52 µs with every hook rehearsed on idle ticks.
  rehearse(fn, e, c) {
    const { head, len, last, saved } = this;
    for (let i = 0; i < last.length; i++) saved[i] = last[i];
    this.rehearsing = true;
    try {
      fn(e, c);
    } catch {
      /* a rehearsal never breaks anything */
    }
    this.rehearsing = false;
    if (this.head === head && this.len > len) {
      for (let i = len; i < this.len; i++) this.q[i] = null;
      this.len = len;
    }
    for (let i = 0; i < last.length; i++) last[i] = saved[i];
  }

  // keep rehearses hook fn now and, when live, on idle ticks from now on
  // (OpenClaw calls the hooks of the "full" registration; "discovery"
  // ones are a read-only snapshot; a live registration starts with
  // rehearsals emptied, index.js).
  keep(fn, e, c, live) {
    this.rehearse(fn, e, c);
    if (live) this.rehearsals.push([fn, e, c]);
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
      if (this.rehearsing) return fn(e, c); // not a call of OpenClaw's: not timed
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

module.exports = { Intake, BATCH, MAX_QUEUED, SEEN, IDLE_TICK_MS };

'use strict';
// OpenClaw plugin: one trace per model call, an llm_error for each failed
// call, and channel_in / channel_out log events for chat messages, sent
// fire-and-forget to the openclaw-trace sidecar. tracer.js says how calls
// are assembled from the hooks.
//
// OpenClaw registers a plugin several times per process (registrationMode
// "full", then "discovery" passes), each time from a fresh copy of this
// module. One Tracer and one socket per process are kept on globalThis and
// created at the first hook event; gateway_stop and process exit flush it.

let clientModule;
try {
  clientModule = require('openclaw-trace-client');
} catch {
  clientModule = require('../node'); // the repository layout
}
const { Tracer } = require('./tracer');
const { compact } = require('./fields');

const ID = 'openclaw-trace';
const SHARED = Symbol.for('openclaw-trace.plugin.v1');
const TRACER_OPTS = ['settleMs', 'maxPending', 'captureText'];

function shared() {
  if (!globalThis[SHARED]) {
    globalThis[SHARED] = { tracer: null, cfgKey: '', warned: {}, hooks: {}, exitHooked: false };
  }
  return globalThis[SHARED];
}

function conversationAccess(api) {
  const entry = api && api.config && api.config.plugins && api.config.plugins.entries && api.config.plugins.entries[api.id || ID];
  return Boolean(entry && entry.hooks && entry.hooks.allowConversationAccess === true);
}

function warnOnce(api, key, line) {
  const s = shared();
  if (s.warned[key]) return;
  s.warned[key] = true;
  try {
    if (api && api.logger && typeof api.logger.warn === 'function') api.logger.warn(line);
  } catch {
    /* logging must not break registration */
  }
}

// tracerFor returns the process's tracer for this config, creating it (and
// its socket) on first use. A changed config (hot reload) replaces it.
function tracerFor(api) {
  const s = shared();
  const cfg = (api && api.pluginConfig) || {};
  const key = JSON.stringify(cfg);
  if (s.tracer && s.cfgKey === key) return s.tracer;
  if (s.tracer) s.tracer.close().catch(() => {});
  const tracerOpts = {};
  const clientOpts = {};
  for (const [k, v] of Object.entries(cfg)) (TRACER_OPTS.includes(k) ? tracerOpts : clientOpts)[k] = v;
  delete clientOpts.matchTimeoutMs; // accepted for old configs; calls no longer wait for a match
  const client = clientModule.createClient(clientOpts);
  s.tracer = new Tracer(client, compact(tracerOpts));
  s.cfgKey = key;
  const fb = client.fallback;
  if (fb) {
    warnOnce(
      api,
      'fallback',
      `openclaw-trace: unix socket unavailable (${fb.reason}); sending over UDP ${client.opts.udpHost}:${client.opts.udpPort}. ` +
        `unix-dgram must be built for this Node (${process.version}): see clients/README.md, OpenClaw plugin, Install`,
    );
  }
  hookExit(s);
  return s.tracer;
}

// hookExit flushes waiting halves when the process ends without gateway_stop
// (openclaw agent --local): on the unix socket the sends are synchronous.
function hookExit(s) {
  if (s.exitHooked) return;
  s.exitHooked = true;
  const flush = (report) => () => {
    try {
      if (!s.tracer) return; // gateway_stop already flushed and reported
      s.tracer.flushPending();
      if (report) writeStats(s); // once, at the very end
    } catch {
      /* never thrown */
    }
  };
  process.once('beforeExit', flush(false));
  process.once('exit', flush(true));
}

// writeStats writes the per-hook cost and the tracer's counts to the file
// named by OCT_PLUGIN_STATS_FILE (for the end-to-end test and BENCHMARKS).
function writeStats(s) {
  const file = process.env.OCT_PLUGIN_STATS_FILE;
  if (!file) return;
  const hooks = {};
  for (const [name, h] of Object.entries(s.hooks)) {
    hooks[name] = { n: h.n, meanUs: h.n ? Math.round(h.ns / h.n / 100) / 10 : 0, maxUs: Math.round(h.maxNs / 100) / 10 };
  }
  const t = s.tracer;
  const stats = { pid: process.pid, hooks, counts: t ? t.counts : null, client: t ? t.client.stats() : null };
  require('node:fs').appendFileSync(file, JSON.stringify(stats) + '\n');
}

// guard keeps a hook from ever throwing into the gateway and times it.
function guard(name, fn) {
  const s = shared();
  const h = s.hooks[name] || (s.hooks[name] = { n: 0, ns: 0, maxNs: 0 });
  return (event, ctx) => {
    const t0 = process.hrtime.bigint();
    try {
      fn(event, ctx);
    } catch {
      /* tracing must never break the agent */
    }
    const d = Number(process.hrtime.bigint() - t0);
    h.n++;
    h.ns += d;
    if (d > h.maxNs) h.maxNs = d;
  };
}

function register(api) {
  const access = conversationAccess(api);
  if (!access) {
    warnOnce(
      api,
      'access',
      'openclaw-trace: conversation hooks not granted, so harness/resolved_ref are not recorded and llm_output cannot stand in for a missing message ' +
        '(tokens, cost, latency and errors per call still are); to enable: openclaw config set ' +
        'plugins.entries.openclaw-trace.hooks.allowConversationAccess true',
    );
  }
  // The full registration opens the socket now, at start-up, so that
  // loading the native module is not paid inside the first model call.
  if (!api.registrationMode || api.registrationMode === 'full') {
    try {
      tracerFor(api);
    } catch {
      /* a broken client must not stop the gateway: hooks retry lazily */
    }
  }
  const on = (name, fn) => api.on(name, guard(name, fn));
  on('model_call_ended', (e, c) => tracerFor(api).onModelCallEnded(e, c));
  // returns nothing: the message is written unchanged
  on('before_message_write', (e, c) => {
    if (e && e.message && e.message.role === 'assistant') tracerFor(api).onMessageWrite(e, c);
  });
  if (access) on('llm_output', (e, c) => tracerFor(api).onLlmOutput(e, c));
  on('message_received', (e, c) => tracerFor(api).onMessage('channel_in', e, c));
  on('message_sent', (e, c) => tracerFor(api).onMessage('channel_out', e, c));
  api.on('gateway_stop', () => {
    const s = shared();
    const t = s.tracer;
    s.tracer = null;
    s.cfgKey = '';
    if (!t) return undefined;
    writeStats({ ...s, tracer: t });
    return t.close().catch(() => {});
  });
}

module.exports = {
  id: ID,
  name: ID,
  description: 'Every model call and model error to the openclaw-trace sidecar',
  register,
  Tracer,
  tracerFor: () => shared().tracer,
};

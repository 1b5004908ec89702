'use strict';
// OpenClaw plugin: one trace per model call, an llm_error for each failed
// call, and channel_in / channel_out log events for chat messages, sent
// fire-and-forget to the openclaw-trace sidecar. tracer.js says how calls
// are assembled from the hooks; intake.js how the hooks stay cheap (they
// queue OpenClaw's event and return; the rest runs off them).
//
// OpenClaw registers a plugin several times per process (registrationMode
// "full", then "discovery" passes), each time from a fresh copy of this
// module. One Intake, one Tracer, one socket, the runs' attributions
// (attrib.js) and the budget guard (guard.js, gate.js, budgets.js) per
// process are kept on globalThis; the configuration is read once per
// registration; gateway_stop and process exit flush.

let clientModule;
let targets;
try {
  clientModule = require('openclaw-trace-client');
  targets = require('openclaw-trace-client/targets.js');
} catch {
  clientModule = require('../node'); // the repository layout
  targets = require('../node/targets.js');
}
const { Tracer } = require('./tracer');
const { Intake, SEEN } = require('./intake');
const { compact } = require('./fields');
const { Runs } = require('./attrib');
const { Guard, guardConfig } = require('./guard');
const { Gate } = require('./gate');
const { BudgetPoller } = require('./budgets');

const ID = 'openclaw-trace';
const SHARED = Symbol.for('openclaw-trace.plugin.v2');
const TRACER_OPTS = ['settleMs', 'maxPending', 'captureText'];
const GUARD_OPTS = ['guard', 'downgradeTo', 'failClosed', 'staleMs', 'budgetsPollMs', 'token'];

function shared() {
  if (!globalThis[SHARED]) {
    const s = { intake: new Intake(), warned: {}, runs: new Runs(), guard: null, gate: null, poller: null, guardKey: undefined, log: null };
    // the guard's lines are written after the hook that decided them
    // returns: a logger's first line cost 146-153 ms inside
    // before_model_resolve of an `openclaw agent --local` turn
    s.lines = [];
    s.guard = new Guard(guardConfig({}), (line) => {
      if (s.lines.length >= MAX_LINES) return;
      if (s.lines.push(line) === 1) setImmediate(() => writeLines(s));
    });
    s.gate = new Gate(s.guard, s.runs);
    // each trace sent: counted by the guard unless its message was, at its hook
    s.onSent = (ev, endAt, counted) => {
      if (s.guard.cfg.mode === 'off') return;
      s.guard.noteCall(ev, endAt, Date.now(), counted);
      if (s.poller) s.poller.soon();
    };
    s.intake.guardStats = () => (s.guard.cfg.mode === 'off' ? undefined : { ...s.guard.counts, budgets: s.guard.budgets.length, know: s.guard.know, lastPollMs: s.poller && s.poller.lastMs });
    globalThis[SHARED] = s;
  }
  return globalThis[SHARED];
}

const MAX_LINES = 64; // guard lines waiting for the logger (each is said once per budget window)

function writeLines(s) {
  for (const line of s.lines.splice(0)) {
    try {
      if (s.log) s.log(line);
    } catch {
      /* logging never breaks the plugin */
    }
  }
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

// tracerMaker returns what creates the tracer and its client for a
// configuration (at the full registration, or lazily off the hooks).
function tracerMaker(api) {
  return (cfg) => {
    const tracerOpts = {};
    const clientOpts = {};
    for (const [k, v] of Object.entries(cfg)) if (!GUARD_OPTS.includes(k)) (TRACER_OPTS.includes(k) ? tracerOpts : clientOpts)[k] = v;
    delete clientOpts.matchTimeoutMs; // accepted for old configs; calls no longer wait for a match
    // the sidecar's OCT_TOKEN for the client's HTTP fallback; unset, the
    // client reads OCT_TOKEN itself (an undefined here would hide that);
    // '' sends none, as with the client
    if (typeof cfg.token === 'string') clientOpts.token = cfg.token;
    const client = clientModule.createClient(clientOpts);
    const fb = client.fallback;
    if (fb) {
      warnOnce(
        api,
        'fallback',
        `openclaw-trace: unix socket unavailable (${fb.reason}); sending over UDP ${client.opts.udpHost}:${client.opts.udpPort}. ` +
          `unix-dgram must be built for this Node (${process.version}): see clients/README.md, OpenClaw plugin, Install`,
      );
    }
    const s = shared();
    return new Tracer(client, compact(tracerOpts), { runs: s.runs, onSent: s.onSent });
  };
}

// configureGuard applies the guard options of a registration's
// configuration (once per configuration) and starts or stops the budget
// refresh. Returns the guard's configuration.
function configureGuard(api, cfg, key, full, access) {
  const s = shared();
  if (key === s.guardKey || (!full && s.guardKey !== undefined)) return s.guard.cfg;
  s.guardKey = key;
  s.log = (line) => api.logger.warn(line);
  let gcfg;
  try {
    gcfg = guardConfig(cfg);
  } catch (e) {
    gcfg = guardConfig({});
    warnOnce(api, `guard-config:${key}`, `openclaw-trace: guard off: bad option ${e.message}`);
  }
  s.guard.cfg = gcfg;
  if (s.poller) s.poller.stop();
  s.poller = null;
  if (gcfg.mode === 'off') return gcfg;
  if (!access) {
    warnOnce(
      api,
      'guard-access',
      `openclaw-trace: guard is "${gcfg.mode}" but cannot act: its hooks (before_agent_run, before_model_resolve) need conversation access; to enable: openclaw config set ` +
        'plugins.entries.openclaw-trace.hooks.allowConversationAccess true',
    );
    s.guard.cfg = { ...gcfg, mode: 'off' };
    return s.guard.cfg;
  }
  const t = targets.resolveTargets(cfg, process.env);
  const token = typeof cfg.token === 'string' ? cfg.token : process.env.OCT_TOKEN; // '' sends none, as the client
  s.poller = new BudgetPoller(s.guard, { url: t.httpUrl, token, pollMs: gcfg.pollMs });
  s.poller.start();
  return gcfg;
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
  const intake = shared().intake;
  const cfg = (api && api.pluginConfig) || {};
  const full = !api.registrationMode || api.registrationMode === 'full';
  const mode = api.registrationMode || 'full';
  intake.registrations[mode] = (intake.registrations[mode] || 0) + 1;
  intake.statsFile = process.env.OCT_PLUGIN_STATS_FILE || '';
  const key = JSON.stringify(cfg);
  intake.configure(cfg, key, full, tracerMaker(api));
  const gcfg = configureGuard(api, cfg, key, full, access);
  const gate = shared().gate;
  // The full registration opens the socket now, at start-up, so that
  // loading the native module is not paid while the agent runs.
  if (full) intake.ensureTracer();

  // on registers a hook, rehearsed with an event of the shape OpenClaw
  // passes (intake.rehearse says why), here without a context where one
  // would make the guard count or decide something.
  if (full) intake.rehearsals = []; // a new live registration's hooks replace the old ones
  const on = (name, fn, e, c) => {
    const hook = intake.time(name, fn);
    intake.keep(hook, e, c, full);
    api.on(name, hook);
  };
  const NONE = Object.freeze({});
  // the run's attribution, which the guard's hooks note on the hook
  if (gcfg.mode !== 'off') intake.keep(() => gate.warm(), undefined, undefined, full);
  // Each hook queues OpenClaw's event and context as they are (intake.js
  // says why that is safe and what copying cost).
  on(
    'model_call_ended',
    (e, c) => {
      if (e && typeof e === 'object' && intake.first(SEEN.model_call_ended, e)) intake.push('model_call_ended', e, c, 0);
    },
    Object.freeze({}),
    NONE,
  );
  // returns nothing: the message is written unchanged
  on(
    'before_message_write',
    (e, c) => {
      const m = e && e.message;
      if (!m || m.role !== 'assistant' || !intake.first(SEEN.before_message_write, m)) return;
      // the guard counts the call's cost now, so the next tool call of the run knows it
      intake.push('before_message_write', e, c, gcfg.mode !== 'off' ? gate.noteMessage(m, c) : 0);
    },
    { message: { role: 'assistant' } },
    undefined,
  );
  if (access) {
    on(
      'llm_output',
      (e, c) => {
        if (e && typeof e === 'object' && intake.first(SEEN.llm_output, e)) intake.push('llm_output', e, c, 0);
      },
      {},
      NONE,
    );
  }
  if (access) {
    // the run's attribution (agent, channel, trigger, cron job), from its
    // first hook: queued, and noted before the run's calls are sent; with a
    // guard, noted at once (its hooks read it), and the cheaper model for a
    // run over budget
    if (gcfg.mode === 'off') {
      on(
        'before_model_resolve',
        (e, c) => {
          if (c && typeof c === 'object' && intake.first(SEEN.before_model_resolve, c)) intake.push('before_model_resolve', null, c, 0);
        },
        NONE,
        {},
      );
    } else on('before_model_resolve', (e, c) => gate.modelResolve(c)); // gate.warm runs its way
  }
  if (access && gcfg.mode !== 'off') {
    on('before_agent_run', (e, c) => gate.agentRun(c));
    on('before_tool_call', (e, c) => gate.toolCall(c));
    if (gcfg.mode === 'block' && typeof api.registerAgentToolResultMiddleware === 'function') {
      try {
        api.registerAgentToolResultMiddleware(intake.time('tool_result_middleware', (e, c) => gate.toolResult(c)), { runtimes: ['openclaw'] });
      } catch {
        /* an older OpenClaw: tool loops end at the first blocked tool call's answer */
      }
    }
  }
  for (const name of ['message_received', 'message_sent']) {
    const slot = SEEN[name];
    on(
      name,
      (e, c) => {
        if (e && typeof e === 'object' && intake.first(slot, e)) intake.push(name, e, c, 0);
      },
      {},
      NONE,
    );
  }
  api.on('gateway_stop', () => {
    const s = shared();
    if (s.poller) s.poller.stop();
    return s.intake.stop();
  });
}

module.exports = {
  id: ID,
  name: ID,
  description: 'Every model call and model error to the openclaw-trace sidecar',
  register,
  Tracer,
  // tracerFor returns the process's tracer (null before the first one).
  tracerFor: () => shared().intake.tracer,
  // flush sends everything the hooks handed over, and resolves when the
  // client is done with it.
  flush: () => shared().intake.flush(),
};

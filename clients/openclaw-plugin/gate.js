'use strict';
// Gate: the guard's answer in each hook that can act on a run (index.js
// registers them with conversation access and a guard on). Each reads the
// guard's memory and returns at once; none waits on the network.
//
// In 2026.9.6 no hook vetoes one model call inside a run's tool loop:
// before_agent_run runs once per attempt, before_model_resolve once per
// run, and a before_tool_call block only becomes the tool's result, which
// the model reads in one more call (recorded: a model that kept calling
// tools after each block made 527 calls in 120 s). What ends a loop is a
// tool result with terminate: true, which only tool-result middleware can
// set (manifest contracts.agentToolResultMiddleware; it sees tools that
// ran, not blocked ones). So: the first tool call of a run after its
// budget is over is blocked with the budget's message (the model answers
// with it: one more call); if the model calls tools again, they run and
// the middleware ends the loop on their results: no further model call.

const { matches } = require('./guard');

const NO_WHO = Object.freeze({});
const WARM = '\0openclaw-trace-warm';

class Gate {
  constructor(guard, runs) {
    this.guard = guard;
    this.runs = runs;
  }

  get cfg() {
    return this.guard.cfg;
  }

  // who is the run's attribution, or what the context itself says.
  who(c) {
    const a = c && typeof c === 'object' ? this.runs.note(c) : undefined;
    if (a) return a;
    if (!c || typeof c !== 'object') return NO_WHO;
    return { agentId: c.agentId, sessionKey: c.sessionKey, channel: c.channel || c.messageProvider, trigger: c.trigger, cronJobId: c.jobId, provider: c.modelProviderId, model: c.modelId };
  }

  // over returns the budget over for run a: for a downgraded run only a
  // budget of the model it was switched to.
  over(a, now) {
    const g = this.guard;
    if (a.downgraded) return g.overFor({ provider: this.cfg.downProvider, model: this.cfg.downModel }, now, true);
    return g.overFor(a, now);
  }

  // warm runs what the guard's hooks run for a run's attribution, and
  // forgets the run (index.js rehearses it with the hooks: intake.js's
  // rehearse says why). Nothing is decided, counted or said.
  warm() {
    const c = { runId: WARM, agentId: WARM, sessionKey: WARM, channel: WARM, trigger: WARM, jobId: WARM, modelProviderId: WARM, modelId: WARM };
    const a = this.who(c);
    const now = Date.now();
    this.guard.known(now);
    this.guard.overFor(a, now);
    for (const kind of ['all', 'agent', 'model']) matches({ kind, value: WARM }, a);
    this.runs.forget(WARM);
  }

  // modelResolve (before_model_resolve): the cheaper model for a run under
  // a budget that is over, when downgradeTo is set.
  modelResolve(c) {
    if (!c) return undefined;
    const cfg = this.cfg;
    const a = this.who(c);
    if (cfg.mode === 'off' || !cfg.downgradeTo) return undefined;
    const g = this.guard;
    const now = Date.now();
    if (!g.known(now)) return undefined; // before_agent_run says it, and fails closed if asked
    const b = g.overFor(a, now);
    if (!b) return undefined;
    if (cfg.mode === 'warn') {
      g.once(b, `openclaw-trace guard (warn): budget "${b.id}" is over; a run in its scope would use ${cfg.downgradeTo} (guard: warn only logs)`);
      return undefined;
    }
    if (g.overFor({ provider: cfg.downProvider, model: cfg.downModel }, now, true)) return undefined; // that model is over too: blocked next
    if (a !== NO_WHO && a.runId) a.downgraded = true;
    g.counts.downgraded++;
    g.once(b, `openclaw-trace guard: budget "${b.id}" is over; runs in its scope use ${cfg.downgradeTo} until it resets`);
    return { providerOverride: cfg.downProvider, modelOverride: cfg.downModel };
  }

  // agentRun (before_agent_run): block a run under a budget that is over.
  agentRun(c) {
    if (!c) return undefined;
    const cfg = this.cfg;
    const a = this.who(c);
    if (cfg.mode === 'off') return undefined;
    const g = this.guard;
    const now = Date.now();
    if (!g.known(now)) {
      g.sayUnknown(now);
      if (!cfg.failClosed || cfg.mode !== 'block') return undefined;
      g.counts.failedClosed++;
      return {
        outcome: 'block',
        reason: 'openclaw-trace: budget state unknown, failClosed',
        message: 'Stopped: the spend budgets cannot be checked right now (the openclaw-trace sidecar does not answer), and this gateway is set to stop runs then.',
        category: 'cost_limit',
      };
    }
    const b = this.over(a, now);
    if (!b) return undefined;
    if (cfg.mode === 'warn') {
      g.once(b, `openclaw-trace guard (warn): budget "${b.id}" is over; runs in its scope go on (guard: warn only logs). ${g.message(b)}`);
      return undefined;
    }
    g.counts.blocked++;
    g.once(b, `openclaw-trace guard: budget "${b.id}" is over; runs in its scope are blocked until it resets. ${g.message(b)}`);
    return { outcome: 'block', reason: `openclaw-trace budget ${b.id} over`, message: g.message(b), category: 'cost_limit', metadata: { budget: b.id } };
  }

  // noteMessage (before_message_write, on the hook): counts the cost of
  // the call that wrote assistant message m (the hook's copy) in the
  // budgets its run falls in, so the run's next tool call is judged with
  // it. Returns when it counted (unix ms; the trace is then not counted
  // again), or 0.
  noteMessage(m, c) {
    if (!m || m.role !== 'assistant' || !c || typeof c !== 'object') return 0;
    const g = this.guard;
    if (g.budgets.length === 0) return 0;
    const u = m.usage;
    const cost = u && u.cost && typeof u.cost === 'object' ? u.cost.total : undefined;
    const r = this.runs.bySession.get(c.sessionKey);
    const who = {
      agentId: (r && r.agentId) || c.agentId,
      channel: r && r.channel,
      trigger: r && r.trigger,
      cronJobId: r && r.cronJobId,
      sessionKey: c.sessionKey,
      provider: m.provider,
      model: m.model,
    };
    const now = Date.now();
    g.count(who, typeof cost === 'number' && cost > 0 && Number.isFinite(cost) ? Math.round(cost * 1e9) : 0, now);
    return now;
  }

  // toolCall (before_tool_call): in a run whose budget went over, block the
  // first tool call; let later ones run for the middleware to end the loop.
  toolCall(c) {
    if (this.cfg.mode !== 'block' || !c || typeof c !== 'object') return undefined;
    const g = this.guard;
    const now = Date.now();
    if (!g.known(now)) return undefined;
    const a = this.runs.run(c.runId);
    const b = a ? this.over(a, now) : g.overFor({ agentId: c.agentId, sessionKey: c.sessionKey }, now);
    if (!b) return undefined;
    if (a && a.toolBlocked) {
      a.endLoop = b.id;
      return undefined;
    }
    if (a) a.toolBlocked = true;
    g.counts.toolBlocked++;
    return { block: true, blockReason: `${g.message(b)} Do not call more tools: tell the user this and stop.` };
  }

  // toolResult (tool-result middleware): end the loop of a run that called
  // tools after its budget went over and its first tool call was blocked.
  toolResult(ctx) {
    const a = ctx && typeof ctx === 'object' ? this.runs.run(ctx.runId) : undefined;
    if (!a || !a.endLoop) return undefined;
    const g = this.guard;
    const b = g.budgets.find((x) => x.id === a.endLoop);
    g.counts.loopsEnded++;
    const text = `${b ? g.message(b) : `Stopped by the spend budget "${a.endLoop}".`} openclaw-trace ended this run here.`;
    return { result: { content: [{ type: 'text', text }], details: { status: 'stopped', reason: 'budget', budget: a.endLoop }, terminate: true } };
  }
}

module.exports = { Gate, matches };

'use strict';
// Guard: the sidecar's budgets (GET /v1/budgets), kept in memory, and what
// a run may do under them. Nothing here waits: budgets.js refreshes the
// state in the background; the hooks (index.js) ask synchronously.
//
// The state is the sidecar's last answer plus this process's own calls
// since: each call is added to the budgets it falls in (its cost as
// OpenClaw priced it) at its assistant message's hook (gate.noteMessage;
// else when its trace is sent), until the sidecar's count of calls in
// that budget has grown past it, so a call counts at once, not a batch
// window and a poll later. A budget is over when the sidecar says so or
// when its spend and these pending costs reach its limit; after its window
// ends it counts as not over until the next answer.
//
// Decisions (mode "block"; "warn" logs each once per budget window; "off"
// never gets here):
//   before_model_resolve  over, downgradeTo set: the run uses that model
//   before_agent_run      over (and not downgraded): block, with a message
//                         naming the budget, the spend and the reset
//   before_tool_call      over in a running loop: the first tool call is
//                         blocked (the model reads why and answers); a
//                         later one runs and the tool-result middleware
//                         ends the loop there (terminate), so a model that
//                         ignores the block gets no further call
// State unknown (no answer yet, sidecar down, answer older than staleMs):
// runs pass (one warning line), or are blocked with failClosed.

const { fmtUSD, fmtTime } = require('./money');

const NANOS = 1e9;
const MAX_PENDING_AGE_MS = 5000; // a call the sidecar never counted stops counting here
const LAG_MS = 1000; // without calls counts (older sidecars): the sidecar has a call after this

const MODES = ['off', 'warn', 'block'];

// guardConfig validates the guard's plugin options; throws naming the option.
function guardConfig(cfg) {
  const mode = cfg.guard === undefined ? 'off' : cfg.guard;
  if (!MODES.includes(mode)) throw new Error(`guard: "${mode}" is not one of off, warn, block`);
  const down = cfg.downgradeTo;
  if (down !== undefined && (typeof down !== 'string' || !/^[^/\s]+\/\S+$/.test(down))) throw new Error('downgradeTo: want provider/model');
  const stale = cfg.staleMs === undefined ? 15000 : cfg.staleMs;
  if (!Number.isInteger(stale) || stale < 1000) throw new Error('staleMs: want an integer >= 1000');
  const poll = cfg.budgetsPollMs === undefined ? 2000 : cfg.budgetsPollMs;
  if (!Number.isInteger(poll) || poll < 100) throw new Error('budgetsPollMs: want an integer >= 100');
  return {
    mode,
    downgradeTo: down,
    downProvider: down && down.slice(0, down.indexOf('/')),
    downModel: down && down.slice(down.indexOf('/') + 1),
    failClosed: cfg.failClosed === true,
    staleMs: stale,
    pollMs: poll,
  };
}

// matches reports whether a run or call (who) is in budget b's scope.
function matches(b, who) {
  switch (b.kind) {
    case 'all':
      return true;
    case 'agent':
      return who.agentId === b.value;
    case 'channel':
      return who.channel === b.value;
    case 'trigger':
      return who.trigger === b.value;
    case 'cron':
      return who.cronJobId === b.value;
    case 'session':
      return who.sessionKey === b.value;
    case 'model':
      return who.provider !== undefined && b.value.length === who.provider.length + 1 + (who.model || '').length && b.value === `${who.provider}/${who.model}`;
    default:
      return false;
  }
}

function nanos(usd) {
  return typeof usd === 'number' && Number.isFinite(usd) && usd > 0 ? Math.round(usd * NANOS) : 0;
}

// budget reads one entry of /v1/budgets; null when it cannot be used.
function budget(s) {
  if (!s || typeof s !== 'object' || typeof s.id !== 'string') return null;
  let kind = typeof s.scope_kind === 'string' ? s.scope_kind : undefined;
  let value = typeof s.scope_value === 'string' ? s.scope_value : '';
  if (kind === undefined && typeof s.scope === 'string') {
    const i = s.scope.indexOf('=');
    kind = i > 0 ? s.scope.slice(0, i) : s.scope;
    value = i > 0 ? s.scope.slice(i + 1) : '';
  }
  const limit = nanos(s.limit_usd);
  if (!kind || limit <= 0) return null;
  return {
    id: s.id,
    kind,
    value,
    window: typeof s.window === 'string' ? s.window : '',
    windowStart: Number(s.window_start) || 0,
    resetsAt: Number(s.resets_at) || Number(s.window_end) || 0,
    limitN: limit,
    spentN: nanos(s.spent_usd),
    calls: Number.isInteger(s.calls) ? s.calls : undefined,
    lowerBound: s.lower_bound === true || s.unpriced_calls > 0,
    over: s.state === 'over',
    resets: '', // resetsAt in the budgets' zone, for messages
    pending: [], // [call end, nanos] pairs: this process's calls the sidecar has not counted yet
    pendingN: 0,
  };
}

class Guard {
  constructor(cfg, warn = () => {}) {
    this.cfg = cfg;
    this.warn = warn; // one line to the gateway log
    this.budgets = [];
    this.zone = 'UTC';
    this.okAt = 0; // when the last answer arrived
    this.reason = 'no answer from the sidecar yet';
    this.warned = new Set(); // "<budget id>@<window start>" and state keys said once
    this.counts = { polls: 0, pollFailures: 0, blocked: 0, downgraded: 0, toolBlocked: 0, loopsEnded: 0, failedClosed: 0, warned: 0 };
    this.know = { localMs: [], sidecarMs: [] }; // call end -> counted here / in the sidecar's answer
  }

  known(now = Date.now()) {
    return this.okAt > 0 && now - this.okAt <= this.cfg.staleMs;
  }

  // update takes an answer of GET /v1/budgets; startedAt is when it was asked.
  update(doc, startedAt, now = Date.now()) {
    const list = doc && Array.isArray(doc.budgets) ? doc.budgets : null;
    if (!list) return this.fail('answer without a budgets list', now);
    const old = new Map(this.budgets.map((b) => [b.id, b]));
    const next = [];
    for (const s of list) {
      const b = budget(s);
      if (!b) continue;
      const o = old.get(b.id);
      if (o && o.windowStart === b.windowStart) this.reconcile(o, b, startedAt, now);
      next.push(b);
    }
    if (typeof doc.zone === 'string' && doc.zone) this.zone = doc.zone;
    for (const b of next) b.resets = b.resetsAt ? fmtTime(b.resetsAt, this.zone) : ''; // formatted here, not in a hook
    this.budgets = next;
    this.counts.polls++;
    this.okAt = now;
    this.reason = '';
    this.warned.delete('unknown');
    return true;
  }

  // reconcile carries o's pending calls over to b, less those the
  // sidecar has counted since (its calls count grew) and those too old.
  reconcile(o, b, startedAt, now) {
    let drop = o.calls !== undefined && b.calls !== undefined ? Math.max(0, b.calls - o.calls) : 0;
    for (let i = 0; i < o.pending.length; i += 2) {
      const at = o.pending[i];
      const byCount = drop > 0;
      const byAge = now - at > MAX_PENDING_AGE_MS || (b.calls === undefined && at < startedAt - LAG_MS);
      if (byCount) {
        drop--;
        if (this.know.sidecarMs.length < 1000) this.know.sidecarMs.push(now - at);
      }
      if (byCount || byAge) continue;
      b.pending.push(at, o.pending[i + 1]);
      b.pendingN += o.pending[i + 1];
    }
  }

  // fail records a failed refresh; the state turns unknown once older than staleMs.
  fail(reason, now = Date.now()) {
    this.counts.pollFailures++;
    this.reason = reason;
    if (!this.known(now)) this.sayUnknown(now);
    return false;
  }

  sayUnknown(now = Date.now()) {
    if (this.warned.has('unknown')) return;
    this.warned.add('unknown');
    const since = this.okAt ? `; last answer ${new Date(this.okAt).toISOString()}` : '';
    const what = this.cfg.failClosed
      ? 'failing closed (failClosed: true): runs are blocked until it answers'
      : 'failing open: runs go unchecked until it answers (set failClosed: true to block them instead)';
    this.say(`openclaw-trace guard: budget state unknown (${this.reason || `no answer within staleMs ${this.cfg.staleMs}`}${since}); ${what}`);
    return now;
  }

  say(line) {
    this.counts.warned++;
    try {
      this.warn(line);
    } catch {
      /* logging never breaks a hook */
    }
  }

  // noteCall is told of each trace the plugin sent (off the hooks): it
  // counts it in the budgets it falls in, unless its cost was counted at
  // its message's hook (counted: when, unix ms); endAt is when the call
  // ended (its model_call_ended hook). know.localMs gets the time from the
  // call's end to the guard counting it.
  noteCall(ev, endAt, now = Date.now(), counted = 0) {
    if (endAt !== undefined && this.know.localMs.length < 1000) this.know.localMs.push(Math.max(0, (counted || now) - endAt));
    if (counted || this.budgets.length === 0) return;
    const who = {
      agentId: ev.agent_id,
      channel: ev.channel,
      trigger: ev.trigger,
      cronJobId: ev.cron_job_id,
      sessionKey: ev.session_key,
      provider: ev.provider,
      model: ev.model,
    };
    this.count(who, nanos(ev.cost_usd), endAt === undefined ? now : endAt);
  }

  // count adds a call of cost n (nano-dollars) ended at at to the budgets
  // who falls in.
  count(who, n, at) {
    for (const b of this.budgets) {
      if (!matches(b, who)) continue;
      b.pending.push(at, n);
      b.pendingN += n;
    }
  }

  // overFor returns the first budget over that covers who, or null.
  overFor(who, now = Date.now(), onlyModel = false) {
    for (const b of this.budgets) {
      if (onlyModel && b.kind !== 'model') continue;
      if (b.resetsAt && now >= b.resetsAt) continue; // its window ended: a new one starts at 0
      if (!(b.over || b.spentN + b.pendingN >= b.limitN)) continue;
      if (matches(b, who)) return b;
    }
    return null;
  }

  // message is what the user reads when a run is stopped by budget b.
  message(b) {
    const spent = fmtUSD((b.spentN + b.pendingN) / NANOS);
    const limit = fmtUSD(b.limitN / NANOS);
    const at = b.lowerBound ? 'at least ' : '';
    const win = b.window ? ` this ${b.window}` : '';
    const reset = b.resets ? ` It resets at ${b.resets}.` : '';
    return `Stopped by the spend budget "${b.id}": ${at}${spent} of ${limit} spent${win}.${reset}`;
  }

  // once logs line once per budget window (warn mode, and the first block).
  once(b, line) {
    const key = `${b.id}@${b.windowStart}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.say(line);
  }
}

module.exports = { Guard, guardConfig, matches, budget, nanos };

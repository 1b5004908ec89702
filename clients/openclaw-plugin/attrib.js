'use strict';
// Attribution: who and what made a model call (agent, channel, trigger,
// cron job, session, run, call kind), sent as top-level trace fields.
//
// OpenClaw 2026.9.6 spreads these over its hooks (recorded in
// test/testdata/hooks-attribution-2026.9.6.jsonl):
//   before_model_resolve, before_agent_run, llm_output (conversation access):
//     ctx {runId, agentId, sessionKey, trigger: user|heartbeat|cron|memory|
//     overflow|manual, jobId (cron runs), channel/messageProvider (channel
//     runs)}; before_model_resolve is the first hook of a run.
//   model_call_started/ended: ctx {runId, sessionKey, sessionId, model},
//     no agent, channel or trigger.
//   before_message_write: ctx {agentId, sessionKey}.
//   message_received/sent: ctx {channelId: the channel, sessionKey}.
// So a run's attribution is noted at its first hook, kept by run id (and
// the latest run of each session), bounded, and read when its calls are
// sent. Without conversation access only the session key is known: it
// names the agent ("agent:main:…") and, for an isolated cron run
// ("agent:main:cron:<jobId>:run:<sessionId>"), the trigger and the job.
//
// call_kind: a compaction's model call has a run id of its own,
// "<runId>:compaction:<id>" (2026.9.6: manual `sessions compact` and
// auto-compaction alike); every other call reported by model_call_ended
// is a turn's ("turn"). The settled-turn finalization that OpenClaw runs
// after a tool batch ended without an answer makes model calls that no
// plugin hook reports in 2026.9.6 (no model_call_*, no message write).

const COMPACTION = ':compaction:';

function str(v) {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

// fromSessionKey reads the agent, and for an isolated cron run the job,
// from a session key.
function fromSessionKey(key) {
  if (typeof key !== 'string' || !key.startsWith('agent:')) return {};
  const parts = key.split(':');
  const out = { agentId: str(parts[1]) };
  if (parts[2] === 'cron' && str(parts[3])) {
    out.trigger = 'cron';
    out.cronJobId = parts[3];
  }
  return out;
}

// parentRun is the run a compaction's run id belongs to, else the id.
function parentRun(runId) {
  if (typeof runId !== 'string') return undefined;
  const i = runId.indexOf(COMPACTION);
  return i > 0 ? runId.slice(0, i) : runId;
}

function callKind(runId, callId) {
  if ((typeof runId === 'string' && runId.includes(COMPACTION)) || (typeof callId === 'string' && callId.includes(COMPACTION))) return 'compaction';
  return 'turn';
}

class Runs {
  constructor(max = 1000) {
    this.max = max;
    this.byRun = new Map(); // runId -> attribution
    this.bySession = new Map(); // sessionKey -> attribution of its latest run
  }

  // note records an agent hook's context (PluginHookAgentContext) for its
  // run; the first value of each field wins, later hooks fill the gaps.
  // Runs on the hook: reads primitives, one small object per run.
  note(c) {
    if (!c || typeof c !== 'object') return undefined;
    const runId = str(c.runId);
    if (!runId) return undefined;
    let a = this.byRun.get(runId);
    if (!a) {
      a = { runId, agentId: undefined, sessionKey: undefined, channel: undefined, trigger: undefined, cronJobId: undefined, provider: undefined, model: undefined };
      this.byRun.set(runId, a);
      if (this.byRun.size > this.max) this.byRun.delete(this.byRun.keys().next().value);
    }
    if (a.agentId === undefined) a.agentId = str(c.agentId);
    if (a.sessionKey === undefined) a.sessionKey = str(c.sessionKey);
    if (a.channel === undefined) a.channel = str(c.channel) || str(c.messageProvider);
    if (a.trigger === undefined) a.trigger = str(c.trigger);
    if (a.cronJobId === undefined) a.cronJobId = str(c.jobId);
    if (a.provider === undefined) a.provider = str(c.modelProviderId);
    if (a.model === undefined) a.model = str(c.modelId);
    if (a.sessionKey !== undefined && this.bySession.get(a.sessionKey) !== a) {
      this.bySession.delete(a.sessionKey);
      this.bySession.set(a.sessionKey, a);
      if (this.bySession.size > this.max) this.bySession.delete(this.bySession.keys().next().value);
    }
    return a;
  }

  // forget drops run runId (and its session's entry, when it is that run's).
  forget(runId) {
    const a = this.byRun.get(runId);
    if (!a) return;
    this.byRun.delete(runId);
    if (this.bySession.get(a.sessionKey) === a) this.bySession.delete(a.sessionKey);
  }

  run(runId) {
    return typeof runId === 'string' ? this.byRun.get(runId) : undefined;
  }

  // resolve returns the attribution fields of a call: its run's (a
  // compaction's parent run's), the session key's, then what the call's
  // own hooks said (agentId from before_message_write, a channel from the
  // message hooks).
  resolve(runId, callId, sessionKey, own) {
    const kind = callKind(runId, callId);
    const r = this.run(parentRun(runId)) || {};
    const key = str(sessionKey) || r.sessionKey;
    const k = fromSessionKey(key);
    return {
      agent_id: r.agentId || own.agentId || k.agentId,
      channel: r.channel || own.channel,
      trigger: r.trigger || k.trigger,
      cron_job_id: r.cronJobId || k.cronJobId,
      session_key: key,
      run_id: str(runId),
      call_kind: kind,
    };
  }
}

module.exports = { Runs, fromSessionKey, parentRun, callKind };

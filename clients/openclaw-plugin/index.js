'use strict';
// OpenClaw plugin: one trace per model call, and an llm_error for each failed
// call, sent fire-and-forget to the openclaw-trace sidecar.
//
// OpenClaw reports a model call in two halves: llm_output (provider, model,
// usage, cost) and model_call_ended (duration, outcome, time to first
// byte). They are matched by runId, oldest first, and sent as one trace;
// a half still unmatched after matchTimeoutMs is sent alone, so nothing
// waits forever and the map of waiting halves stays bounded.
//
// message_received / message_sent are sent as log events (kind channel_in /
// channel_out, stored in log_events), not as traces or errors: a chat message
// is neither an LLM call nor a failure. Message text is sent only with
// captureText. A message_sent that failed is also an error: error_type
// system_error, code channel_send_failed, severity warning.

let clientModule;
try {
  clientModule = require('openclaw-trace-client');
} catch {
  clientModule = require('../node'); // the repository layout
}

const DEFAULTS = { matchTimeoutMs: 30000, maxPending: 1000, captureText: false };

const tracers = new WeakMap();

function count(v) {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
}

function money(v) {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function str(v) {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

// compact drops undefined fields so the event stays small and valid.
function compact(o) {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

class Tracer {
  constructor(client, opts = {}) {
    this.client = client;
    this.opts = { ...DEFAULTS, ...opts };
    this.pending = new Map(); // runId -> {outputs: [], ends: []}
    this.npending = 0;
    this.counts = { calls: 0, matched: 0, unmatched: 0, errors: 0, messagesIn: 0, messagesOut: 0 };
  }

  onLlmOutput(event, ctx) {
    const half = this._outputHalf(event || {}, ctx || {});
    this._match(half.runId, 'outputs', 'ends', half);
  }

  onModelCallEnded(event, ctx) {
    event = event || {};
    const half = this._endHalf(event, ctx || {});
    if (event.outcome === 'error') {
      // a failed call produces no llm_output: send it now
      this._send(null, half);
      this._sendError(half);
      return;
    }
    this._match(half.runId, 'ends', 'outputs', half);
  }

  onMessageReceived(event, ctx) {
    this.counts.messagesIn++;
    this._channelEvent('channel_in', event, ctx);
  }

  onMessageSent(event, ctx) {
    this.counts.messagesOut++;
    this._channelEvent('channel_out', event, ctx);
    if (!event || event.success !== false) return;
    ctx = ctx || {};
    this.client.error(
      compact({
        error_type: 'system_error',
        code: 'channel_send_failed',
        severity: 'warning',
        message: str(event.error) || 'message could not be sent',
        metadata: compact({
          source: 'openclaw-plugin',
          channel: str(ctx.channelId) || str(ctx.channel),
          to: str(event.to),
          session_key: str(event.sessionKey) || str(ctx.sessionKey),
          run_id: str(event.runId),
        }),
      }),
    );
  }

  _channelEvent(kind, event, ctx) {
    event = event || {};
    ctx = ctx || {};
    const channel = str(ctx.channelId) || str(ctx.channel) || str(event.channel);
    this.client.log(
      compact({
        kind,
        channel,
        subsystem: channel ? `gateway/channels/${channel}` : undefined,
        level: event.success === false ? 'ERROR' : 'INFO',
        message: this.opts.captureText ? str(event.content) || str(event.text) : undefined,
        metadata: compact({
          source: 'openclaw-plugin',
          agent_id: str(ctx.agentId),
          from: str(event.from),
          to: str(event.to),
          session_key: str(event.sessionKey) || str(ctx.sessionKey),
          success: typeof event.success === 'boolean' ? event.success : undefined,
        }),
      }),
    );
  }

  _outputHalf(e, ctx) {
    const u = e.usage || {};
    const cost = (u.cost && u.cost.total) ?? e.lastAssistant?.usage?.cost?.total;
    return {
      runId: str(e.runId) || str(ctx.runId) || '',
      provider: str(e.provider) || str(ctx.modelProviderId),
      model: str(e.model) || str(ctx.modelId),
      input: count(u.input),
      output: count(u.output),
      cacheRead: count(u.cacheRead),
      cacheWrite: count(u.cacheWrite),
      total: count(u.total),
      cost: money(cost),
      texts: Array.isArray(e.assistantTexts) ? e.assistantTexts : undefined,
      prompt: e.prompt,
      agentId: str(ctx.agentId),
      channel: str(ctx.channel) || str(ctx.messageProvider) || str(ctx.channelId),
      sessionKey: str(ctx.sessionKey),
      at: Date.now(),
    };
  }

  _endHalf(e, ctx) {
    return {
      runId: str(e.runId) || str(ctx.runId) || '',
      callId: str(e.callId),
      provider: str(e.provider),
      model: str(e.model),
      durationMs: count(e.durationMs),
      ttftMs: count(e.timeToFirstByteMs),
      outcome: str(e.outcome),
      errorCategory: str(e.errorCategory),
      failureKind: str(e.failureKind),
      agentId: str(ctx.agentId),
      channel: str(ctx.channel) || str(ctx.messageProvider) || str(ctx.channelId),
      sessionKey: str(e.sessionKey) || str(ctx.sessionKey),
      at: Date.now(),
    };
  }

  // _match pairs half with the oldest waiting half of the other kind for the
  // same run, or parks it until one comes or matchTimeoutMs passes.
  _match(runId, mine, theirs, half) {
    const slot = this.pending.get(runId);
    if (slot && slot[theirs].length > 0) {
      const other = slot[theirs].shift();
      clearTimeout(other.timer);
      this.npending--;
      if (slot.outputs.length === 0 && slot.ends.length === 0) this.pending.delete(runId);
      this.counts.matched++;
      if (mine === 'outputs') this._send(half, other);
      else this._send(other, half);
      return;
    }
    if (this.npending >= this.opts.maxPending) this._evictOldest();
    const s = slot || { outputs: [], ends: [] };
    this.pending.set(runId, s);
    half.timer = setTimeout(() => this._expire(runId, mine, half), this.opts.matchTimeoutMs);
    half.timer.unref();
    s[mine].push(half);
    this.npending++;
  }

  _expire(runId, kind, half) {
    const s = this.pending.get(runId);
    if (!s) return;
    const i = s[kind].indexOf(half);
    if (i < 0) return;
    s[kind].splice(i, 1);
    this.npending--;
    if (s.outputs.length === 0 && s.ends.length === 0) this.pending.delete(runId);
    this.counts.unmatched++;
    if (kind === 'outputs') this._send(half, null);
    else this._send(null, half);
  }

  _evictOldest() {
    const [runId, s] = this.pending.entries().next().value;
    const kind = s.outputs.length > 0 ? 'outputs' : 'ends';
    const half = s[kind][0];
    clearTimeout(half.timer);
    this._expire(runId, kind, half);
  }

  // _send builds one trace from an llm_output half and/or a model_call_ended half.
  _send(out, end) {
    const o = out || {};
    const e = end || {};
    this.counts.calls++;
    const provider = o.provider || e.provider || 'unknown';
    const model = o.model || e.model || 'unknown';
    // OpenClaw's usage.input excludes cached tokens; the protocol's
    // prompt_tokens includes them (OpenTelemetry GenAI).
    const prompt =
      o.input === undefined && o.cacheRead === undefined && o.cacheWrite === undefined
        ? undefined
        : (o.input || 0) + (o.cacheRead || 0) + (o.cacheWrite || 0);
    let status;
    if (e.outcome === 'error') status = e.failureKind === 'timeout' || e.errorCategory === 'timeout' ? 'timeout' : 'error';
    const ev = compact({
      provider,
      model,
      prompt_tokens: prompt,
      completion_tokens: o.output,
      total_tokens: o.total,
      cache_read_tokens: o.cacheRead,
      cache_write_tokens: o.cacheWrite,
      cost_usd: o.cost,
      latency_ms: e.durationMs,
      ttft_ms: e.ttftMs,
      status,
      error_type: status ? e.errorCategory || e.failureKind || 'error' : undefined,
      metadata: compact({
        source: 'openclaw-plugin',
        agent_id: o.agentId || e.agentId,
        channel: o.channel || e.channel,
        session_key: o.sessionKey || e.sessionKey,
        run_id: o.runId || e.runId || undefined,
        call_id: e.callId,
        matched: out && end ? undefined : out ? 'llm_output_only' : 'model_call_ended_only',
      }),
    });
    if (this.opts.captureText) {
      if (typeof o.prompt === 'string') ev.input_text = o.prompt;
      if (o.texts) ev.output_text = o.texts.join('\n');
    }
    this.client.trace(ev);
  }

  _sendError(e) {
    this.counts.errors++;
    const kind = e.errorCategory || e.failureKind;
    this.client.error(
      compact({
        error_type: 'llm_error',
        code: kind || 'api_error',
        message: `${e.provider || 'unknown'}/${e.model || 'unknown'} call failed${kind ? `: ${kind}` : ''}`,
        metadata: compact({
          source: 'openclaw-plugin',
          provider: e.provider,
          model: e.model,
          agent_id: e.agentId,
          channel: e.channel,
          session_key: e.sessionKey,
          run_id: e.runId || undefined,
          call_id: e.callId,
          duration_ms: e.durationMs,
        }),
      }),
    );
  }

  // flush sends every waiting half alone, then flushes the client.
  flush() {
    for (const [runId, s] of [...this.pending]) {
      for (const kind of ['outputs', 'ends']) {
        for (const half of [...s[kind]]) {
          clearTimeout(half.timer);
          this._expire(runId, kind, half);
        }
      }
    }
    return this.client.flush();
  }

  async close() {
    await this.flush();
    await this.client.close();
  }
}

// guard keeps a hook from ever throwing into the gateway.
function guard(fn) {
  return (event, ctx) => {
    try {
      fn(event, ctx);
    } catch {
      /* tracing must never break the agent */
    }
  };
}

function register(api) {
  const cfg = (api && api.pluginConfig) || {};
  const { matchTimeoutMs, maxPending, captureText, ...clientOpts } = cfg;
  const client = clientModule.createClient(clientOpts);
  const tracer = new Tracer(client, compact({ matchTimeoutMs, maxPending, captureText }));
  tracers.set(api, tracer);
  api.on('llm_output', guard((e, c) => tracer.onLlmOutput(e, c)));
  api.on('model_call_ended', guard((e, c) => tracer.onModelCallEnded(e, c)));
  api.on('message_received', guard((e, c) => tracer.onMessageReceived(e, c)));
  api.on('message_sent', guard((e, c) => tracer.onMessageSent(e, c)));
  api.on('gateway_stop', () => tracer.close().catch(() => {}));
}

module.exports = {
  id: 'openclaw-trace',
  name: 'openclaw-trace',
  description: 'Every model call and model error to the openclaw-trace sidecar',
  register,
  Tracer,
  tracerFor: (api) => tracers.get(api),
};

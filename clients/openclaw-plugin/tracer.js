'use strict';
// Tracer turns OpenClaw hook events into one trace per model call.
//
// OpenClaw 2026.9.6 reports one model call in two places, both reachable
// without conversation access:
//   model_call_ended     latency, ttft, outcome, callId, runId, sessionKey
//   before_message_write the assistant message the call produced, with that
//                        call's usage, cost, stopReason and, for a failed
//                        call, errorMessage/errorCode/errorType
// Within one session calls run one after another, and the message is written
// a few milliseconds after model_call_ended (a retried failure too), so the
// two are paired oldest-first per session key and sent at once. A half left
// alone for settleMs is sent alone. llm_output (needs allowConversationAccess)
// is per attempt with usage summed over its calls: it is not a call. It only
// supplies the harness and resolved model ref for the session and stands in
// for a message that never came.
//
// Retries of one call share its callId ("<runId>:model:1"); each attempt is
// its own model_call_ended and its own row (metadata.attempt counts them).
//
// The tracer runs off the hooks (intake.js hands it OpenClaw's events, with
// the time each hook ran) and never sees an event twice; a message it keeps
// waiting is its own copy of the fields it reads (keep.js).

const { compact, count, str, usageFields, noUsage } = require('./fields');
const { classify, httpStatus } = require('./failure');
const { Runs } = require('./attrib');
const keep = require('./keep');

function isObject(v) {
  return v !== null && typeof v === 'object';
}

// failure gathers what a failed call left for classify: the message's
// error fields and model_call_ended's failureKind and errorCategory.
function failure(call, m) {
  return {
    errorMessage: str(m.errorMessage),
    errorCode: str(m.errorCode),
    errorType: str(m.errorType),
    stopReason: str(m.stopReason),
    failureKind: call.failureKind,
    errorCategory: call.errorCategory,
  };
}

// agentOf reads the agent id from a session key ("agent:main:telegram:direct:1001"):
// the message hooks' ctx has no agentId.
function agentOf(sessionKey) {
  const m = typeof sessionKey === 'string' ? /^agent:([^:]+):/.exec(sessionKey) : null;
  return m ? m[1] : undefined;
}

const DEFAULTS = { settleMs: 500, maxPending: 1000, captureText: false };

class Tracer {
  // shared: {runs, onSent}: the process's run attributions (attrib.js),
  // and what is told of each trace sent (the guard's own accounting).
  constructor(client, opts = {}, shared = {}) {
    this.client = client;
    this.opts = { ...DEFAULTS, ...compact({ ...opts }) };
    this.runs = shared.runs || new Runs(this.opts.maxPending);
    this.onSent = shared.onSent || null;
    this.ends = new Map(); // session key -> model_call_ended halves waiting, oldest first
    this.msgs = new Map(); // session key -> assistant messages waiting, oldest first
    this.order = new Set(); // every waiting half, oldest first (for eviction)
    this.attempts = new Map(); // callId -> attempts seen
    this.sessions = new Map(); // session key -> {channel, harness, resolvedRef}
    this.counts = {
      calls: 0,
      paired: 0,
      callOnly: 0,
      messageOnly: 0,
      skippedMessages: 0,
      errors: 0,
      messagesIn: 0,
      messagesOut: 0,
    };
  }

  get npending() {
    return this.order.size;
  }

  // onModelCallEnded takes one call's model_call_ended; at is when the
  // hook ran (the call's end).
  onModelCallEnded(e, ctx, at = Date.now()) {
    if (!isObject(e)) return;
    ctx = ctx || {};
    const callId = str(e.callId);
    let attempt;
    if (callId) {
      attempt = (this.attempts.get(callId) || 0) + 1;
      this.attempts.delete(callId); // re-insert: the map stays ordered by use
      this.attempts.set(callId, attempt);
      if (this.attempts.size > this.opts.maxPending) this.attempts.delete(this.attempts.keys().next().value);
    }
    const call = {
      kind: 'ends',
      runId: str(e.runId) || str(ctx.runId),
      callId,
      attempt,
      sessionKey: str(e.sessionKey) || str(ctx.sessionKey),
      sessionId: str(e.sessionId) || str(ctx.sessionId),
      provider: str(e.provider) || str(ctx.modelProviderId),
      model: str(e.model) || str(ctx.modelId),
      api: str(e.api),
      transport: str(e.transport),
      durationMs: count(e.durationMs),
      ttftMs: count(e.timeToFirstByteMs),
      outcome: str(e.outcome),
      errorCategory: str(e.errorCategory),
      failureKind: str(e.failureKind),
      requestBytes: count(e.requestPayloadBytes),
      responseBytes: count(e.responseStreamBytes),
      agentId: str(ctx.agentId),
      // in the agent hooks' ctx channelId is the chat id ("1001"), not the channel
      channel: str(ctx.channel) || str(ctx.messageProvider),
      trigger: str(ctx.trigger),
      at,
    };
    call.key = call.sessionKey || call.sessionId || call.runId || '';
    const msg = this._take('msgs', call.key);
    if (msg) this._send(call, msg);
    else this._park(call);
  }

  // counted is when the guard counted the call's cost at the hook (unix
  // ms), or 0.
  onMessageWrite(e, ctx, at = Date.now(), counted = 0) {
    if (!isObject(e) || !isObject(e.message) || e.message.role !== 'assistant') return;
    ctx = ctx || {};
    const m = keep.message(e.message, this.opts.captureText);
    m.counted = typeof counted === 'number' ? counted : 0;
    const key = str(ctx.sessionKey) || str(e.sessionKey) || '';
    const item = { kind: 'msgs', key, message: m, agentId: str(ctx.agentId) || str(e.agentId), at };
    const call = this._take('ends', key);
    if (call) this._send(call, item);
    else this._park(item);
  }

  // onRunStart notes a run's attribution from its first hook's context
  // (before_model_resolve, conversation access only).
  onRunStart(ctx) {
    this.runs.note(ctx);
  }

  // onLlmOutput (conversation access only) is one attempt. Its lastAssistant
  // is the attempt's last call: it completes that call when the message
  // itself was not seen.
  onLlmOutput(e, ctx) {
    if (!isObject(e)) return;
    ctx = ctx || {};
    this.runs.note(ctx);
    const key = str(ctx.sessionKey) || str(e.sessionId) || str(e.runId) || '';
    this._session(key, { harness: str(e.harnessId), resolvedRef: str(e.resolvedRef), channel: str(ctx.channel) || str(ctx.messageProvider) });
    const waiting = this.ends.get(key);
    const runId = str(e.runId);
    if (!waiting || !e.lastAssistant || typeof e.lastAssistant !== 'object') return;
    const last = waiting[waiting.length - 1];
    if (runId && last.runId && last.runId !== runId) return;
    this._unpark(last);
    this._send(last, { key, message: keep.message(e.lastAssistant, this.opts.captureText), agentId: str(ctx.agentId) });
  }

  // onMessage remembers a session's channel (model_call_ended's ctx has
  // none) and sends a channel_in / channel_out log event. Shapes, as the
  // 2026.9.6 gateway passes them for a Telegram DM (test/testdata/
  // hooks-telegram-2026.9.6.jsonl):
  //   message_received {from: "telegram:1001", content, timestamp, messageId,
  //     senderId, sessionKey, metadata: {provider, surface, ...}}
  //   message_sent {to: "telegram:1001", content, success, messageId, sessionKey}
  //   ctx {channelId: "telegram", accountId, conversationId, sessionKey,
  //     messageId, senderId}: here channelId is the channel.
  onMessage(kind, event, ctx) {
    if (!isObject(event)) return;
    ctx = ctx || {};
    if (kind === 'channel_in') this.counts.messagesIn++;
    else this.counts.messagesOut++;
    const md = isObject(event.metadata) ? event.metadata : {};
    const channel = str(ctx.channelId) || str(ctx.channel) || str(event.channel) || str(md.provider) || str(md.originatingChannel);
    const sessionKey = str(event.sessionKey) || str(ctx.sessionKey);
    if (sessionKey && channel) this._session(sessionKey, { channel });
    const meta = {
      source: 'openclaw-plugin',
      agent_id: str(ctx.agentId) || agentOf(sessionKey),
      account_id: str(ctx.accountId),
      conversation_id: str(ctx.conversationId),
      sender_id: str(event.senderId) || str(ctx.senderId),
      from: str(event.from),
      to: str(event.to),
      session_key: sessionKey,
      run_id: str(event.runId) || str(ctx.runId),
      message_id: str(event.messageId) || str(ctx.messageId),
      success: typeof event.success === 'boolean' ? event.success : undefined,
    };
    this.client.log(
      compact({
        kind,
        channel,
        subsystem: channel ? `gateway/channels/${channel}` : undefined,
        level: event.success === false ? 'ERROR' : 'INFO',
        message: this.opts.captureText ? str(event.content) || str(event.text) : undefined,
        metadata: compact(meta),
      }),
    );
    if (kind !== 'channel_out' || event.success !== false) return;
    this.client.error(
      compact({
        error_type: 'system_error',
        code: 'channel_send_failed',
        severity: 'warning',
        message: str(event.error) || 'message could not be sent',
        metadata: compact({ ...meta, channel, from: undefined, success: undefined }),
      }),
    );
  }

  _session(key, info) {
    if (!key) return;
    const s = { ...this.sessions.get(key), ...compact(info) };
    this.sessions.delete(key);
    this.sessions.set(key, s);
    if (this.sessions.size > this.opts.maxPending) this.sessions.delete(this.sessions.keys().next().value);
  }

  _take(kind, key) {
    const q = this[kind].get(key);
    if (!q || q.length === 0) return null;
    const item = q[0];
    this._unpark(item);
    return item;
  }

  _park(item) {
    if (this.order.size >= this.opts.maxPending) this._expire(this.order.values().next().value);
    const q = this[item.kind].get(item.key) || [];
    q.push(item);
    this[item.kind].set(item.key, q);
    this.order.add(item);
    item.timer = setTimeout(() => this._expire(item), this.opts.settleMs);
    item.timer.unref();
  }

  _unpark(item) {
    clearTimeout(item.timer);
    this.order.delete(item);
    const q = this[item.kind].get(item.key);
    if (!q) return;
    const i = q.indexOf(item);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) this[item.kind].delete(item.key);
  }

  _expire(item) {
    if (!this.order.has(item)) return;
    this._unpark(item);
    if (item.kind === 'ends') {
      this._send(item, null);
      return;
    }
    // A message with no call: a harness without model_call_* hooks, or a
    // message OpenClaw wrote itself (a synthetic reply has no usage).
    const u = usageFields(item.message.usage);
    if (!u.prompt_tokens && !u.completion_tokens && item.message.stopReason !== 'error') {
      this.counts.skippedMessages++;
      return;
    }
    this._send(null, item);
  }

  // _send builds one trace from a model_call_ended half and/or an assistant
  // message half, and an llm_error when the call failed.
  _send(call, msgItem) {
    const c = call || {};
    const mi = msgItem || {};
    const m = mi.message || {};
    this.counts.calls++;
    if (call && msgItem) this.counts.paired++;
    else if (call) this.counts.callOnly++;
    else this.counts.messageOnly++;
    const failed = call ? c.outcome === 'error' : m.stopReason === 'error';
    const why = failed ? failure(c, m) : undefined;
    const code = failed ? classify(why) : undefined;
    const status = failed ? (code === 'timeout' ? 'timeout' : 'error') : undefined;
    const httpCode = failed ? httpStatus(why.errorMessage, why.errorCode) : undefined;
    // A failed call writes a usage of zeros: that is no usage, not a free
    // call, so neither tokens nor cost are sent (the sidecar stores NULL,
    // no_usage). A failed call with tokens or a billed cost keeps them.
    const usage = usageFields(m.usage);
    const provider = c.provider || str(m.provider) || 'unknown';
    const model = c.model || str(m.model) || 'unknown';
    const key = c.key || mi.key;
    const s = this.sessions.get(key) || {};
    const who = this.runs.resolve(c.runId, c.callId, c.sessionKey || mi.key, { agentId: c.agentId || mi.agentId, channel: c.channel || s.channel });
    const ids = compact({
      source: 'openclaw-plugin',
      session_id: c.sessionId,
      call_id: c.callId,
      attempt: c.attempt,
    });
    const ts = c.at !== undefined && c.durationMs !== undefined ? c.at - c.durationMs : count(m.timestamp);
    const ev = compact({
      provider,
      model,
      ...compact(who),
      ...(failed && noUsage(usage) ? undefined : usage),
      latency_ms: c.durationMs,
      ttft_ms: c.ttftMs,
      status,
      error_type: code,
      ts,
      metadata: compact({
        ...ids,
        harness: s.harness,
        resolved_ref: s.resolvedRef,
        api: c.api || str(m.api),
        transport: c.transport,
        finish_reason: str(m.stopReason),
        response_id: str(m.responseId),
        response_model: str(m.responseModel),
        error_category: c.errorCategory,
        failure_kind: c.failureKind,
        http_status: httpCode,
        provider_error_code: str(m.errorCode),
        provider_error_type: str(m.errorType),
        request_bytes: c.requestBytes,
        response_bytes: c.responseBytes,
        matched: call && msgItem ? undefined : call ? 'model_call_ended_only' : 'message_only',
      }),
    });
    if (this.opts.captureText && Array.isArray(m.content)) {
      const text = m.content.filter((p) => p && p.type === 'text' && typeof p.text === 'string').map((p) => p.text);
      if (text.length > 0) ev.output_text = text.join('\n');
    }
    this.client.trace(ev);
    if (this.onSent) this.onSent(ev, c.at !== undefined ? c.at : mi.at, typeof m.counted === 'number' ? m.counted : 0);
    if (!failed) return;
    this.counts.errors++;
    const text = str(m.errorMessage) || c.failureKind || c.errorCategory || code;
    this.client.error({
      error_type: 'llm_error',
      code,
      message: `${provider}/${model} call failed: ${text}`,
      metadata: compact({ ...ids, ...compact(who), provider, model, duration_ms: c.durationMs, http_status: httpCode, failure_kind: c.failureKind, provider_error_code: str(m.errorCode), provider_error_type: str(m.errorType) }),
    });
  }

  // flushPending sends every waiting half now, synchronously (also usable
  // from a process 'exit' handler).
  flushPending() {
    for (const item of [...this.order]) this._expire(item);
  }

  flush() {
    this.flushPending();
    return this.client.flush();
  }

  async close() {
    this.flushPending();
    await this.client.close();
  }
}

module.exports = { Tracer, DEFAULTS };

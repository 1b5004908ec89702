'use strict';
// What each hook copies from OpenClaw's event, on the gateway's time: only
// the fields the tracer reads, as they are (checked later, off the hook),
// into objects of the same shape, so the event can change or be freed once
// the hook returns. Shapes: OpenClaw 2026.9.6's dist/*.d.ts
// (PluginHookModelCallEndedEvent, PluginHookAgentContext,
// PluginHookBeforeMessageWriteEvent, PluginHookLlmOutputEvent,
// PluginHookMessageReceived/SentEvent, PluginHookMessageContext) and the
// recordings in test/testdata.

const NONE = Object.freeze({});

// agentCtx copies PluginHookAgentContext (model_call_ended, llm_output,
// before_message_write).
function agentCtx(c) {
  if (!c || typeof c !== 'object') return NONE;
  return {
    runId: c.runId,
    jobId: c.jobId,
    agentId: c.agentId,
    sessionKey: c.sessionKey,
    sessionId: c.sessionId,
    modelProviderId: c.modelProviderId,
    modelId: c.modelId,
    messageProvider: c.messageProvider,
    channel: c.channel,
    channelId: c.channelId,
    trigger: c.trigger,
  };
}

// sessionCtx copies what before_message_write's context is read for.
function sessionCtx(c) {
  if (!c || typeof c !== 'object') return NONE;
  return { sessionKey: c.sessionKey, agentId: c.agentId };
}

function callEnded(e) {
  return {
    runId: e.runId,
    callId: e.callId,
    sessionKey: e.sessionKey,
    sessionId: e.sessionId,
    provider: e.provider,
    model: e.model,
    api: e.api,
    transport: e.transport,
    durationMs: e.durationMs,
    timeToFirstByteMs: e.timeToFirstByteMs,
    outcome: e.outcome,
    errorCategory: e.errorCategory,
    failureKind: e.failureKind,
    requestPayloadBytes: e.requestPayloadBytes,
    responseStreamBytes: e.responseStreamBytes,
  };
}

function usage(u) {
  if (!u || typeof u !== 'object') return undefined;
  const c = u.cost;
  return {
    input: u.input,
    output: u.output,
    cacheRead: u.cacheRead,
    cacheWrite: u.cacheWrite,
    totalTokens: u.totalTokens,
    total: u.total,
    reasoning: u.reasoning,
    reasoningTokens: u.reasoningTokens,
    cost: c && typeof c === 'object' ? { total: c.total, totalOrigin: c.totalOrigin } : c,
  };
}

// message copies an assistant message (AssistantMessage); its content
// only when the text is captured (the parts are not changed after the
// write, so the array is copied, not each part).
function message(m, text) {
  return {
    role: m.role,
    provider: m.provider,
    model: m.model,
    api: m.api,
    usage: usage(m.usage),
    stopReason: m.stopReason,
    errorMessage: m.errorMessage,
    errorCode: m.errorCode,
    errorType: m.errorType,
    responseId: m.responseId,
    responseModel: m.responseModel,
    timestamp: m.timestamp,
    content: text && Array.isArray(m.content) ? m.content.slice() : undefined,
    counted: 0, // when the guard counted its cost at the hook (unix ms)
  };
}

function messageWrite(e, text) {
  return { message: message(e.message, text), sessionKey: e.sessionKey, agentId: e.agentId };
}

function llmOutput(e, text) {
  const last = e.lastAssistant;
  return {
    runId: e.runId,
    sessionId: e.sessionId,
    harnessId: e.harnessId,
    resolvedRef: e.resolvedRef,
    lastAssistant: last && typeof last === 'object' ? message(last, text) : undefined,
  };
}

// channelMessage copies message_received / message_sent.
function channelMessage(e, text) {
  const md = e.metadata && typeof e.metadata === 'object' ? e.metadata : undefined;
  return {
    from: e.from,
    to: e.to,
    content: text ? e.content : undefined,
    text: text ? e.text : undefined,
    success: e.success,
    error: e.error,
    messageId: e.messageId,
    senderId: e.senderId,
    sessionKey: e.sessionKey,
    runId: e.runId,
    channel: e.channel,
    metadata: md && { provider: md.provider, originatingChannel: md.originatingChannel },
  };
}

// messageCtx copies PluginHookMessageContext.
function messageCtx(c) {
  if (!c || typeof c !== 'object') return NONE;
  return {
    channelId: c.channelId,
    channel: c.channel,
    accountId: c.accountId,
    conversationId: c.conversationId,
    sessionKey: c.sessionKey,
    agentId: c.agentId,
    senderId: c.senderId,
    runId: c.runId,
    messageId: c.messageId,
  };
}

// warm runs each copy once, at registration: V8 compiles a function at its
// first call, which measured 0.2–0.4 ms for these on a loaded machine, and
// the first hook of the process would pay it.
function warm() {
  const m = { role: 'assistant', usage: { cost: {} }, content: [] };
  messageWrite({ message: m }, true);
  llmOutput({ lastAssistant: m }, true);
  callEnded({});
  agentCtx({});
  sessionCtx({});
  channelMessage({ metadata: {} }, true);
  messageCtx({});
}

module.exports = { agentCtx, sessionCtx, callEnded, messageWrite, llmOutput, channelMessage, messageCtx, warm };

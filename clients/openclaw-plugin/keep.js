'use strict';
// What the tracer keeps of an assistant message (before_message_write's
// event.message, llm_output's lastAssistant) while it waits for its call:
// the fields it reads, so OpenClaw's message, and its content when text is
// not captured, is not held for settleMs. Runs off the hooks (intake.js).
// Shape: OpenClaw 2026.9.6's AssistantMessage (dist/*.d.ts) and the
// recordings in test/testdata.

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
    counted: 0, // when the guard counted its cost at the message's hook (unix ms)
  };
}

module.exports = { message };

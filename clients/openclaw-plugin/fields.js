'use strict';
// Field mapping from OpenClaw's hook payloads to wire protocol v1.
//
// Shapes, as OpenClaw 2026.9.6 passes them (dist/*.d.ts, checked at runtime):
// an assistant message (before_message_write's event.message, llm_output's
// lastAssistant) carries one model call's usage:
//   {input, output, cacheRead, cacheWrite, totalTokens,
//    cost: {input, output, cacheRead, cacheWrite, total}}
// where input excludes cached tokens, plus stopReason ("stop", "toolUse",
// "length", "error", "aborted"), and for failures errorMessage ("429 Rate
// limit exceeded"), errorCode ("rate_limit_exceeded"), errorType
// ("rate_limit_error"); failure.js reads those.

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

// usageFields maps an OpenClaw usage object to trace fields. prompt_tokens
// includes cached tokens (the protocol follows OpenTelemetry GenAI);
// OpenClaw's input does not.
function usageFields(u) {
  if (!u || typeof u !== 'object') return {};
  const input = count(u.input);
  const cacheRead = count(u.cacheRead);
  const cacheWrite = count(u.cacheWrite);
  const prompt =
    input === undefined && cacheRead === undefined && cacheWrite === undefined
      ? undefined
      : (input || 0) + (cacheRead || 0) + (cacheWrite || 0);
  const total = u.cost && typeof u.cost === 'object' ? money(u.cost.total) : money(u.cost);
  // OpenClaw prices a call from its model catalog; a model the catalog has
  // no rates for gets total 0 for any tokens. That is no price, so it is
  // sent as absent and the sidecar's price table (or "unpriced") decides.
  // A provider-billed total is the provider's word and is kept, 0 or not.
  const billed = u.cost && typeof u.cost === 'object' && u.cost.totalOrigin === 'provider-billed';
  const tokens = (input || 0) + (cacheRead || 0) + (cacheWrite || 0) + (count(u.output) || 0);
  const cost = total === 0 && tokens > 0 && !billed ? undefined : total;
  return compact({
    prompt_tokens: prompt,
    completion_tokens: count(u.output),
    total_tokens: count(u.totalTokens) ?? count(u.total),
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
    // not in 2026.9.6's Usage type; taken when a provider adapter adds it
    reasoning_tokens: count(u.reasoning) ?? count(u.reasoningTokens),
    cost_usd: cost,
  });
}

const USAGE_KEYS = ['prompt_tokens', 'completion_tokens', 'total_tokens', 'cache_read_tokens', 'cache_write_tokens', 'reasoning_tokens', 'cost_usd'];

// noUsage reports whether usage fields (usageFields' result) hold no token
// and no cost above 0: what OpenClaw writes for a call that failed.
function noUsage(f) {
  for (const k of USAGE_KEYS) if (f[k]) return false;
  return true;
}

module.exports = { count, money, str, compact, usageFields, noUsage };

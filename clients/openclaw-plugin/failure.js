'use strict';
// Failure classification: the wire protocol's error code for a failed model
// call, from every field OpenClaw 2026.9.6 leaves about it.
//
// The assistant message of a failed call (before_message_write, llm_output's
// lastAssistant) is built by @openclaw/ai's projectProviderError:
//   errorMessage  the provider's message, prefixed with the HTTP status when
//                 there is one ("429 Rate limit exceeded", "500: {...}"), or
//                 the transport's ("Connection error.", "Request timed out.")
//   errorCode     the error's code, its body's code, the code of its cause
//                 chain (fetch: "ECONNREFUSED", "ENOTFOUND", …) or else the
//                 status as a string ("503")
//   errorType     the body's type ("rate_limit_error", "overloaded_error", …)
//   stopReason    "error", or "aborted" when the run was aborted
// model_call_ended (dist/*.d.ts, diagnostic-error-metadata) adds
//   errorCategory the JavaScript class ("Error", "TypeError"): no kind at all
//   failureKind   "aborted" | "connection_closed" | "connection_reset" |
//                 "terminated" | "timeout", from the error's code or message
//                 (ECONNREFUSED and DNS errors get none)
// and the HTTP status is in no field but the message.
//
// Recorded from the real gateway (test/testdata/hooks-failures-2026.9.6.jsonl):
// a refused connection is errorMessage "Connection error." with no code;
// a DNS failure the same with errorCode "ENOTFOUND"; a reset before the
// answer "Connection error." with errorCode "***" (OpenClaw's redactor); a
// reset mid-stream "terminated", failureKind "terminated"; an idle timeout
// stopReason "aborted", failureKind "timeout", "LLM idle timeout (3s): no
// response from model"; HTTP errors "<status> <message>" with the body's
// code and type ("insufficient_quota" on a 429, "overloaded_error" on a 529),
// or the status as errorCode when the body has no code.

// Node and undici codes of a call that never got an answer.
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EHOSTUNREACH', 'EHOSTDOWN',
  'ENETUNREACH', 'ENETDOWN', 'EPIPE', 'EPROTO', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT',
  'ERR_STREAM_PREMATURE_CLOSE', 'ERR_SOCKET_CLOSED',
]);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT', 'ABORT_TIMEOUT',
]);
const ABORT_CODES = new Set(['ABORT_ERR', 'ERR_ABORTED', 'ECONNABORTED']);
const NETWORK_KINDS = new Set(['connection_closed', 'connection_reset', 'terminated']);

// The message text, when nothing better says what happened.
const NETWORK_TEXT = /connection (?:error|refused|reset|closed)|fetch failed|socket hang up|getaddrinfo|network|other side closed|premature close|\bterminated\b|econnrefused|econnreset|enotfound|eai_again/i;
const TIMEOUT_TEXT = /timed? ?out|timeout|deadline/i;

// httpStatus finds the HTTP status of a failed call: at the start of its
// errorMessage ("429 Rate limit exceeded", "500: {...}", "HTTP 503"), or
// as its errorCode when the error had no code of its own ("503").
function httpStatus(message, code) {
  let m = typeof message === 'string' ? /^\s*(?:HTTP\s*)?([1-5]\d\d)\b/.exec(message) : null;
  if (!m && typeof code === 'string') m = /^([1-5]\d\d)$/.exec(code.trim());
  return m ? Number(m[1]) : undefined;
}

// classify returns the error code (rate_limit, timeout, network,
// permission_denied, billing, overloaded, invalid_request, aborted or
// api_error) of a failed call from what its message and model_call_ended
// left: f has errorMessage, errorCode, errorType, stopReason (message) and
// failureKind, errorCategory (model_call_ended); any may be absent.
function classify(f) {
  const status = httpStatus(f.errorMessage, f.errorCode);
  const code = typeof f.errorCode === 'string' ? f.errorCode.trim().toUpperCase() : '';
  const words = [f.errorCode, f.errorType].filter((x) => typeof x === 'string').join(' ').toLowerCase();
  const kind = typeof f.failureKind === 'string' ? f.failureKind : '';
  const billing = /insufficient.?quota|billing|credit|payment/.test(words);
  if (status !== undefined) {
    if (status === 429) return billing ? 'billing' : 'rate_limit';
    if (status === 401 || status === 403) return 'permission_denied';
    if (status === 402) return 'billing';
    if (status === 408 || status === 504) return 'timeout';
    if (status === 529 || /overload/.test(words)) return 'overloaded';
    if (status >= 500) return 'api_error';
    if (status >= 400) return 'invalid_request';
  }
  // an idle timeout is written as stopReason "aborted" with failureKind
  // "timeout": the deadline is what happened
  if (TIMEOUT_CODES.has(code) || kind === 'timeout') return 'timeout';
  if (ABORT_CODES.has(code) || kind === 'aborted') return 'aborted';
  if (NETWORK_CODES.has(code) || NETWORK_KINDS.has(kind)) return 'network';
  if (/rate.?limit|too.?many/.test(words)) return 'rate_limit';
  if (billing) return 'billing';
  if (/auth|permission|api.?key|forbidden/.test(words)) return 'permission_denied';
  if (/overload/.test(words)) return 'overloaded';
  if (/invalid.?request|context.?length/.test(words)) return 'invalid_request';
  const text = typeof f.errorMessage === 'string' ? f.errorMessage : '';
  if (TIMEOUT_TEXT.test(text) || TIMEOUT_TEXT.test(words)) return 'timeout';
  if (NETWORK_TEXT.test(text) || NETWORK_TEXT.test(words)) return 'network';
  if (f.stopReason === 'aborted' || /abort/i.test(text)) return 'aborted';
  return 'api_error';
}

module.exports = { classify, httpStatus };

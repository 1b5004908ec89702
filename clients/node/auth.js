'use strict';
// The sidecar's HTTP token, and why an HTTP post was not taken.

// HTTP_DROP_REASONS: an event over HTTP that the sidecar did not take was
// dropped because its answer was 401 (unauthorized: no token, or another
// than the sidecar's OCT_TOKEN), another status than 202 (status: 400 bad
// event, 413 too large, 429 queue full, 503 …), the connection failed or
// timed out (network), maxHttpInflight posts were already on the way (busy),
// no HTTP address is known (no_address), or the token cannot be sent in a
// header (bad_token: control characters, spaces, non-ASCII).
const HTTP_DROP_REASONS = Object.freeze(['unauthorized', 'status', 'network', 'busy', 'no_address', 'bad_token']);

// httpDropReason is null for the sidecar's 202 (taken), else the reason.
function httpDropReason(status) {
  if (status === 202) return null;
  return status === 401 ? 'unauthorized' : 'status';
}

// authHeader returns the Authorization value for the token (the option,
// else OCT_TOKEN from env): "Bearer <token>", '' without a token, null for
// one no header can carry (visible ASCII only, as the sidecar compares it).
function authHeader(token, env) {
  const t = token !== undefined && token !== null ? String(token) : env.OCT_TOKEN || '';
  if (t === '') return '';
  return /^[\x21-\x7e]+$/.test(t) ? `Bearer ${t}` : null;
}

module.exports = { authHeader, httpDropReason, HTTP_DROP_REASONS };

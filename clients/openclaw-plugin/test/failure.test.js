'use strict';
// Failure classification, over the shapes a real OpenClaw 2026.9.6 gateway
// wrote (testdata/hooks-failures-2026.9.6.jsonl: two `openclaw agent
// --local` turns, retries off, whose model fallback chain walked through
// providers that each fail one way: a closed port, an unresolvable host,
// HTTP 401/403/429/429 quota/500/503/529/400 with OpenAI- and
// Anthropic-style bodies, a socket reset before and during the answer, a
// provider that never answers (timeoutSeconds 3), then one that answers;
// recorded by a scratch plugin that wrote each hook's event and context).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Tracer } = require('../tracer');
const { classify, httpStatus } = require('../failure');

const RECORDED = path.join(__dirname, 'testdata', 'hooks-failures-2026.9.6.jsonl');

function fakeClient() {
  const c = { traces: [], errors: [] };
  Object.assign(c, { trace: (e) => c.traces.push(e), error: (e) => c.errors.push(e), log() {}, flush: async () => {}, close: async () => {} });
  return c;
}

// replay feeds the recording to a tracer as the intake does.
function replay(file) {
  const client = fakeClient();
  const tr = new Tracer(client, { settleMs: 60000 });
  for (const l of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const { hook, e, c } = JSON.parse(l);
    if (hook === 'model_call_ended') tr.onModelCallEnded(e, c);
    else if (hook === 'before_message_write') tr.onMessageWrite(e, c);
    else if (hook === 'llm_output') tr.onLlmOutput(e, c);
  }
  tr.flushPending();
  return { tr, client };
}

test('recorded failures: each provider\'s failure gets its code, and no usage is sent for it', () => {
  const { tr, client } = replay(RECORDED);
  const want = {
    // provider: [error_type, status, http_status]
    down: ['network', 'error', undefined], // ECONNREFUSED: "Connection error.", no code
    nodns: ['network', 'error', undefined], // errorCode ENOTFOUND
    ps401: ['permission_denied', 'error', 401],
    ps403: ['permission_denied', 'error', 403],
    ps429: ['rate_limit', 'error', 429],
    pquota: ['billing', 'error', 429], // insufficient_quota
    ps500: ['api_error', 'error', 500],
    ps503: ['api_error', 'error', 503],
    ps529: ['overloaded', 'error', 529],
    ps400: ['invalid_request', 'error', 400],
    preset: ['network', 'error', undefined], // reset before the answer
    pmidreset: ['network', 'error', undefined], // "terminated" mid-stream
    phang: ['timeout', 'timeout', undefined], // idle timeout: stopReason "aborted", failureKind "timeout"
    pok: [undefined, undefined, undefined],
  };
  const got = {};
  for (const t of client.traces) {
    got[t.provider] = [t.error_type, t.status, t.metadata.http_status];
    if (t.status === undefined) continue;
    // a failed call's zero usage is no usage: no token counts, no cost
    const usage = ['prompt_tokens', 'completion_tokens', 'total_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cost_usd'].filter((k) => k in t);
    assert.deepEqual(usage, [], `${t.provider}: usage fields sent for a failed call`);
  }
  assert.deepEqual(got, want);
  assert.equal(tr.counts.paired, Object.keys(want).length, 'every call paired with its message');
  assert.deepEqual(
    client.errors.map((e) => e.code),
    client.traces.filter((t) => t.status).map((t) => t.error_type),
    'one llm_error per failed call, with the trace\'s code',
  );
  const ok = client.traces.find((t) => t.provider === 'pok');
  assert.deepEqual([ok.prompt_tokens, ok.completion_tokens, ok.cost_usd], [100, 5, 0.00037499999999999995]);
});

test('classify: every field OpenClaw gives, one at a time', () => {
  const cases = [
    // [what the call left, code]
    [{ errorMessage: 'Connection error.' }, 'network'],
    [{ errorMessage: 'Connection error.', errorCode: 'ECONNREFUSED' }, 'network'],
    [{ errorMessage: 'Connection error.', errorCode: 'EAI_AGAIN' }, 'network'],
    [{ errorMessage: 'fetch failed', errorCode: 'ECONNRESET' }, 'network'],
    [{ errorMessage: 'other side closed', errorCode: 'UND_ERR_SOCKET' }, 'network'],
    [{ failureKind: 'connection_reset', errorCategory: 'Error' }, 'network'],
    [{ failureKind: 'connection_closed' }, 'network'],
    [{ errorMessage: 'Request timed out.' }, 'timeout'],
    [{ errorMessage: 'Connection error.', errorCode: 'UND_ERR_CONNECT_TIMEOUT' }, 'timeout'],
    [{ errorCode: 'ETIMEDOUT' }, 'timeout'],
    [{ failureKind: 'timeout', stopReason: 'aborted' }, 'timeout'],
    [{ errorMessage: '408 Request Timeout' }, 'timeout'],
    [{ errorMessage: '504 Gateway Timeout' }, 'timeout'],
    [{ errorMessage: '429 Rate limit exceeded', errorCode: 'rate_limit_exceeded' }, 'rate_limit'],
    [{ errorMessage: 'Too many requests', errorCode: '429' }, 'rate_limit'],
    [{ errorType: 'rate_limit_error' }, 'rate_limit'],
    [{ errorMessage: '429 You exceeded your current quota', errorCode: 'insufficient_quota' }, 'billing'],
    [{ errorMessage: '402 Payment Required' }, 'billing'],
    [{ errorMessage: '401 Unauthorized' }, 'permission_denied'],
    [{ errorMessage: '403: {"error":"forbidden"}' }, 'permission_denied'],
    [{ errorType: 'authentication_error' }, 'permission_denied'],
    [{ errorMessage: '500 internal boom', errorCode: 'internal_error' }, 'api_error'],
    [{ errorMessage: '502 Bad Gateway' }, 'api_error'],
    [{ errorMessage: 'HTTP 503 Service Unavailable' }, 'api_error'],
    [{ errorMessage: '529 Overloaded', errorType: 'overloaded_error' }, 'overloaded'],
    [{ errorType: 'overloaded_error' }, 'overloaded'],
    [{ errorMessage: '400 bad', errorCode: 'context_length_exceeded' }, 'invalid_request'],
    [{ errorMessage: '404 model not found' }, 'invalid_request'],
    [{ failureKind: 'aborted', stopReason: 'aborted' }, 'aborted'],
    [{ stopReason: 'aborted', errorMessage: 'Request was aborted.' }, 'aborted'],
    [{ errorCategory: 'Error' }, 'api_error'],
    [{}, 'api_error'],
  ];
  for (const [f, want] of cases) assert.equal(classify(f), want, JSON.stringify(f));
});

test('httpStatus: from the message\'s start, or an errorCode that is a status', () => {
  const cases = [
    ['429 Rate limit exceeded', undefined, 429],
    ['500: {"error":"x"}', undefined, 500],
    ['HTTP 503 down', undefined, 503],
    ['Connection error.', undefined, undefined],
    ['an error 500 inside', undefined, undefined],
    [undefined, '503', 503],
    ['Overloaded', ' 529 ', 529],
    [undefined, 'ECONNREFUSED', undefined],
    ['1234 tokens', undefined, undefined],
  ];
  for (const [msg, code, want] of cases) assert.equal(httpStatus(msg, code), want, `${msg} / ${code}`);
});

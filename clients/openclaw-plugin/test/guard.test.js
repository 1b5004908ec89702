'use strict';
// The guard's decisions, on the budget document GET /v1/budgets answers
// (docs/api.md) and the hook contexts a real OpenClaw 2026.9.6 passed
// (testdata/hooks-attribution-2026.9.6.jsonl).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Guard, guardConfig, matches, budget } = require('../guard.js');
const { Gate } = require('../gate.js');
const { Runs } = require('../attrib.js');

const RECORDED = path.join(__dirname, 'testdata', 'hooks-attribution-2026.9.6.jsonl');
const rec = fs
  .readFileSync(RECORDED, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const first = (hook, trigger) => rec.find((x) => x.hook === hook && (!trigger || x.c.trigger === trigger));

const DAY = 86400000;
// the budgets' day window began an hour ago (to the minute): the gate
// judges with the clock (a fixed date here made every run after it fail)
const START = Math.floor((Date.now() - 3600000) / 60000) * 60000;
const RESETS = `${new Date(START + DAY).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

// status is one entry of /v1/budgets.
function status(id, kind, value, limit, spent, extra = {}) {
  return {
    id,
    scope: kind === 'all' ? 'all' : `${kind}=${value}`,
    scope_kind: kind,
    scope_value: value,
    window: 'day',
    window_start: START,
    window_end: START + DAY,
    resets_at: START + DAY,
    limit_usd: limit,
    spent_usd: spent,
    used_pct: Math.round((spent / limit) * 1000) / 10,
    calls: 3,
    unpriced_calls: 0,
    lower_bound: false,
    state: spent >= limit ? 'over' : spent >= 0.8 * limit ? 'warn' : 'ok',
    alerted_pct: [],
    ...extra,
  };
}

function doc(...budgets) {
  return { generated_at: START + 3600000, zone: 'UTC', warn_pct: [80], budgets };
}

function setup(cfg, budgets, now = START + 3600000) {
  const lines = [];
  const guard = new Guard(guardConfig(cfg), (l) => lines.push(l));
  const runs = new Runs();
  const gate = new Gate(guard, runs);
  if (budgets) guard.update(doc(...budgets), now - 10, Date.now());
  return { guard, gate, runs, lines };
}

test('guard options: each wrong one is named', () => {
  const bad = [
    [{ guard: 'on' }, /guard: "on" is not one of off, warn, block/],
    [{ guard: 'block', downgradeTo: 'm2' }, /downgradeTo: want provider\/model/],
    [{ staleMs: 10 }, /staleMs/],
    [{ budgetsPollMs: 5 }, /budgetsPollMs/],
  ];
  for (const [cfg, re] of bad) assert.throws(() => guardConfig(cfg), re);
  const c = guardConfig({ guard: 'block', downgradeTo: 'openrouter/anthropic/claude-haiku', failClosed: true });
  assert.deepEqual([c.mode, c.downProvider, c.downModel, c.failClosed, c.staleMs], ['block', 'openrouter', 'anthropic/claude-haiku', true, 15000]);
  assert.equal(guardConfig({}).mode, 'off', 'off by default');
});

test('scopes: each kind matches its field; model is provider/model', () => {
  const who = { agentId: 'main', channel: 'telegram', trigger: 'cron', cronJobId: 'j1', sessionKey: 'agent:main:main', provider: 'mock', model: 'm1' };
  const cases = [
    ['all', '', true],
    ['agent', 'main', true],
    ['agent', 'ops', false],
    ['channel', 'telegram', true],
    ['trigger', 'cron', true],
    ['trigger', 'heartbeat', false],
    ['cron', 'j1', true],
    ['session', 'agent:main:main', true],
    ['model', 'mock/m1', true],
    ['model', 'mock/m', false],
    ['model', 'mock', false],
    ['unknown-kind', 'x', false],
  ];
  for (const [kind, value, w] of cases) assert.equal(matches(budget(status('b', kind, value, 1, 0)), who), w, `${kind}=${value}`);
  assert.equal(budget({ id: 'x', scope: 'agent=main', limit_usd: 2, spent_usd: 1 }).kind, 'agent', 'scope read when scope_kind is absent');
  assert.equal(budget({ id: 'x', scope: 'all', limit_usd: 0 }), null, 'a budget without a limit is not used');
});

test('block: before_agent_run of a run in an over budget gets a block naming the budget, the spend and the reset', () => {
  const { gate, guard, lines } = setup({ guard: 'block' }, [status('agent=main/day', 'agent', 'main', 2, 2.0412), status('trigger=cron/day', 'trigger', 'cron', 1, 0.1)]);
  const bar = first('before_agent_run', 'user');
  const r = gate.agentRun(bar.c);
  assert.equal(r.outcome, 'block');
  assert.equal(r.category, 'cost_limit');
  assert.equal(r.message, `Stopped by the spend budget "agent=main/day": $2.04 of $2.00 spent this day. It resets at ${RESETS}.`);
  assert.equal(guard.counts.blocked, 1);
  assert.equal(lines.length, 1, 'one line per budget window');
  gate.agentRun(first('before_agent_run', 'cron').c);
  assert.equal(lines.length, 1);
  assert.equal(gate.agentRun(undefined), undefined, 'no context: nothing to judge');
});

test('not over, other scopes, a window that ended: runs pass', () => {
  const now = Date.now();
  const { gate } = setup({ guard: 'block' }, [
    status('trigger=cron/day', 'trigger', 'cron', 1, 1.5),
    status('agent=main/day', 'agent', 'main', 2, 1.99),
    status('all/day', 'all', '', 5, 9, { window_start: now - 2 * DAY, window_end: now - DAY, resets_at: now - DAY }),
  ]);
  assert.equal(gate.agentRun(first('before_agent_run', 'user').c), undefined);
  assert.equal(gate.agentRun(first('before_agent_run', 'heartbeat').c), undefined);
  assert.equal(gate.agentRun(first('before_agent_run', 'cron').c).outcome, 'block', 'the cron run is in trigger=cron');
});

test('warn: runs go on, one line per budget window', () => {
  const { gate, lines } = setup({ guard: 'warn', downgradeTo: 'mock/m2' }, [status('agent=main/day', 'agent', 'main', 2, 3)]);
  assert.equal(gate.modelResolve(first('before_model_resolve', 'user').c), undefined);
  assert.equal(gate.agentRun(first('before_agent_run', 'user').c), undefined);
  assert.equal(gate.agentRun(first('before_agent_run', 'cron').c), undefined);
  assert.equal(gate.toolCall(first('before_tool_call').c), undefined);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /\(warn\): budget "agent=main\/day" is over; a run in its scope would use mock\/m2/);
});

test('downgradeTo: before_model_resolve switches the model; the run is not blocked then', () => {
  const { gate, guard, runs } = setup({ guard: 'block', downgradeTo: 'mock/m2' }, [status('agent=main/day', 'agent', 'main', 2, 3)]);
  const bmr = first('before_model_resolve', 'user');
  assert.deepEqual(gate.modelResolve(bmr.c), { providerOverride: 'mock', modelOverride: 'm2' });
  assert.equal(runs.run(bmr.c.runId).downgraded, true);
  assert.equal(gate.agentRun(first('before_agent_run', 'user').c), undefined, 'same run: goes on, on mock/m2');
  assert.equal(gate.toolCall(first('before_tool_call').c), undefined, 'nor are its tools blocked');
  assert.equal(guard.counts.downgraded, 1);
  // a budget of the model it would switch to that is over too: blocked
  const t = setup({ guard: 'block', downgradeTo: 'mock/m2' }, [status('agent=main/day', 'agent', 'main', 2, 3), status('model=mock/m2/day', 'model', 'mock/m2', 1, 1)]);
  assert.equal(t.gate.modelResolve(bmr.c), undefined);
  assert.equal(t.gate.agentRun(first('before_agent_run', 'user').c).outcome, 'block');
});

test('a tool loop that crosses its budget: the first tool call is blocked, later ones end the loop', () => {
  const { gate, guard, runs } = setup({ guard: 'block' }, [status('session=…/day', 'session', 'agent:main:explicit:rec1', 0.01, 0.008, { calls: 2 })]);
  const bmr = first('before_model_resolve', 'user');
  gate.modelResolve(bmr.c);
  assert.equal(gate.agentRun(first('before_agent_run', 'user').c), undefined, 'under its limit: the run starts');
  const tool = first('before_tool_call');
  assert.equal(gate.toolCall(tool.c), undefined, 'still under');
  // the call that just ended costs $0.003 (OpenClaw priced it): counted at once
  guard.noteCall({ provider: 'mock', model: 'm1', agent_id: 'main', session_key: 'agent:main:explicit:rec1', cost_usd: 0.003 }, Date.now() - 5);
  const blocked = gate.toolCall(tool.c);
  assert.equal(blocked.block, true);
  assert.match(blocked.blockReason, /^Stopped by the spend budget "session=…\/day": \$0\.011 of \$0\.01 spent this day\..* Do not call more tools/);
  assert.equal(gate.toolResult({ runId: bmr.c.runId }), undefined, 'nothing to end yet: the model reads the block');
  // the model calls a tool anyway: it runs, and its result ends the loop
  assert.equal(gate.toolCall(tool.c), undefined);
  const end = gate.toolResult({ runtime: 'openclaw', runId: bmr.c.runId, sessionKey: 'agent:main:explicit:rec1' });
  assert.equal(end.result.terminate, true);
  assert.equal(end.result.details.status, 'stopped', 'not an error status: OpenClaw runs no settled-turn finalization after an intentional end');
  assert.match(end.result.content[0].text, /openclaw-trace ended this run here/);
  assert.deepEqual([guard.counts.toolBlocked, guard.counts.loopsEnded], [1, 1]);
  assert.equal(runs.run(bmr.c.runId).toolBlocked, true);
});

test('local spend: counted at once, dropped as the sidecar counts the calls, or after 5 s', () => {
  const lines = [];
  const guard = new Guard(guardConfig({ guard: 'block' }), (l) => lines.push(l));
  const t0 = Date.now();
  guard.update(doc(status('all/day', 'all', '', 1, 0.5, { calls: 10 })), t0, t0);
  const call = { provider: 'p', model: 'm', cost_usd: 0.3 };
  guard.noteCall(call, t0);
  guard.noteCall(call, t0);
  assert.equal(guard.overFor({}, t0).id, 'all/day', '0.5 + 0.6 >= 1');
  // the sidecar counted one of them
  guard.update(doc(status('all/day', 'all', '', 1, 0.8, { calls: 11 })), t0 + 600, t0 + 700);
  assert.equal(guard.budgets[0].pendingN, 0.3e9);
  assert.equal(guard.overFor({}, t0 + 700).id, 'all/day', '0.8 + 0.3');
  assert.equal(guard.know.sidecarMs.length, 1);
  // never counted by the sidecar (lost): stops counting after 5 s
  guard.update(doc(status('all/day', 'all', '', 1, 0.8, { calls: 11 })), t0 + 6000, t0 + 6100);
  assert.equal(guard.budgets[0].pendingN, 0);
  assert.equal(guard.overFor({}, t0 + 6100), null);
  // a new window starts from the sidecar's sums alone
  guard.noteCall(call, t0 + 6200);
  guard.update(doc(status('all/day', 'all', '', 1, 0, { calls: 0, window_start: START + DAY })), t0 + 6300, t0 + 6300);
  assert.equal(guard.budgets[0].pendingN, 0);
});

test('state unknown: fail open with one warning line; failClosed blocks', () => {
  const now = Date.now();
  const open = setup({ guard: 'block', staleMs: 1000 });
  const bar = first('before_agent_run', 'user');
  open.guard.fail('http://127.0.0.1:9/v1/budgets: ECONNREFUSED', now);
  assert.equal(open.gate.agentRun(bar.c), undefined, 'no answer: open');
  assert.equal(open.gate.agentRun(bar.c), undefined);
  assert.equal(open.lines.length, 1);
  assert.match(open.lines[0], /budget state unknown \(http:\/\/127\.0\.0\.1:9\/v1\/budgets: ECONNREFUSED\); failing open/);
  // known again, then stale (older than staleMs): said again
  open.guard.update(doc(status('agent=main/day', 'agent', 'main', 2, 3)), now, now);
  assert.equal(open.gate.agentRun(bar.c).outcome, 'block', 'known: the budget acts');
  open.guard.okAt = now - 5000;
  assert.equal(open.gate.agentRun(bar.c), undefined, 'stale: open');
  assert.equal(open.lines.filter((l) => /unknown/.test(l)).length, 2);

  const closed = setup({ guard: 'block', failClosed: true });
  const r = closed.gate.agentRun(bar.c);
  assert.equal(r.outcome, 'block');
  assert.match(r.message, /cannot be checked right now/);
  assert.match(closed.lines[0], /failing closed/);
  assert.equal(setup({ guard: 'warn', failClosed: true }).gate.agentRun(bar.c), undefined, 'failClosed blocks only in block mode');
});

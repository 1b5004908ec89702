package main

import (
	"context"
	"net/http"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/listener"
	llmusage "github.com/openclaw/openclaw-trace/metrics/usage" // a test helper is named usage
	"github.com/openclaw/openclaw-trace/push"
	"github.com/openclaw/openclaw-trace/push/webhook"
	"github.com/openclaw/openclaw-trace/store/budget"
)

// budgets are the spend limits of OCT_BUDGETS: the Tracker (spend in
// memory, fed by the writer's Committed hook), the Alerter that raises
// what it decides, and the alert webhook (nil without
// OCT_ALERT_WEBHOOK_URL).
type budgets struct {
	Tracker *budget.Tracker
	Alerter *budget.Alerter
	Webhook *webhook.Sender
}

// restoreTimeout bounds reading the spend back at start (~40 ms on a
// million calls, BENCHMARKS.md).
const restoreTimeout = 30 * time.Second

// openBudgets restores each budget's spend in its current window before
// the writer commits anything (its Committed hook, committed, then feeds
// the tracker): no call is counted twice or missed. Alerts the restore finds due (crossed while the daemon
// was down, a budget just added) are raised now; those the webhook had not
// taken before the restart are sent again.
func (m *Main) openBudgets() error {
	cfg := m.Config
	specs := cfg.Budgets.Specs()
	if len(specs) == 0 {
		if cfg.AlertWebhookURL != "" {
			m.Logger.Warn("OCT_ALERT_WEBHOOK_URL is set but OCT_BUDGETS is empty: no alert will be sent")
		}
		return nil
	}
	b := &budgets{Tracker: budget.NewTracker(specs, cfg.BudgetWarn.Values(), cfg.BudgetTZ.Location())}
	b.Alerter = budget.NewAlerter(m.DB, m.Queue)
	b.Alerter.Logger = m.Logger.With("component", "budgets")
	m.account(codec.Budget, &b.Alerter.Counters)
	if cfg.AlertWebhookURL != "" {
		b.Webhook = webhook.New(cfg.AlertWebhookURL)
		b.Webhook.Logger = m.Logger.With("component", "alert_webhook")
		b.Webhook.Open()
		b.Alerter.Notify = func(a budget.Alert) { m.sendAlert(a) }
	}
	b.Tracker.OnAlert = b.Alerter.Alert
	m.Budgets = b
	ctx, cancel := context.WithTimeout(context.Background(), restoreTimeout)
	defer cancel()
	if _, err := m.DB.PruneBudgetAlerts(ctx, time.Now().Add(-cfg.RollupRetention.Duration()).UnixMilli()); err != nil {
		m.Logger.Warn("old budget alert records not pruned", "err", err)
	}
	r, err := b.Tracker.Restore(ctx, m.DB.Reader())
	if err != nil {
		return err
	}
	b.Alerter.Open()
	if b.Webhook != nil {
		for _, a := range r.Unsent {
			m.sendAlert(a)
		}
	}
	doc := b.Tracker.Doc() // raises what is due
	for _, s := range doc.Budgets {
		m.Logger.Info("budget", "id", s.ID, "spent_usd", s.SpentUSD, "limit_usd", s.LimitUSD, "state", s.State,
			"unpriced_calls", s.UnpricedCalls, "lower_bound", s.LowerBound, "resets_at", s.ResetsAt)
	}
	m.Logger.Info("budgets restored", "budgets", len(doc.Budgets), "zone", doc.Zone, "rollup_rows", r.RollupRows,
		"webhook_resends", len(r.Unsent), "took", r.Took.String())
	return nil
}

// sendAlert queues a's webhook POST; once delivered, the alert's record
// says so, and the next start will not send it again.
func (m *Main) sendAlert(a budget.Alert) {
	rec := a.Record()
	m.Budgets.Webhook.Send(webhook.Message{Body: a.WebhookBody(m.Config.AgentID), Delivered: func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := m.DB.MarkBudgetAlertSent(ctx, rec, time.Now().UnixMilli()); err != nil {
			m.Logger.Warn("budget alert delivered, not marked: it may be sent again after a restart", "err", err)
		}
	}})
}

// closeBudgets raises the alerts the writer's last commits decided (their
// events come too late for the closed queue: counted as shutdown drops),
// then gives the webhook a bounded turn to deliver what is queued.
func (m *Main) closeBudgets(ctx context.Context) {
	if m.Budgets == nil {
		return
	}
	actx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := m.Budgets.Alerter.Close(actx); err != nil {
		m.Logger.Warn("budget alerts not all raised at shutdown", "dropped", m.Budgets.Alerter.Dropped.Load())
	}
	if wh := m.Budgets.Webhook; wh != nil {
		wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		if err := wh.Close(wctx); err != nil {
			m.Logger.Warn("alert webhook messages not delivered at shutdown: the next start sends them again while their window lasts",
				"dropped", wh.Dropped.Load())
		}
	}
}

// budgetsDoc is GET /v1/budgets' body: every budget from memory (none
// configured: an empty list).
func (m *Main) budgetsDoc() budget.Doc {
	if m.Budgets == nil {
		return budget.Doc{GeneratedAt: time.Now().UnixMilli(), Zone: m.Config.BudgetTZ.Location().String(),
			WarnPct: append([]int{}, m.Config.BudgetWarn.Values()...), Budgets: []budget.Status{}}
	}
	return m.Budgets.Tracker.Doc()
}

func (m *Main) budgetsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		listener.WriteJSON(w, http.StatusOK, m.budgetsDoc())
	})
}

// budgetsHealth is /health's budgets section: null without budgets.
type budgetsHealth struct {
	Zone    string          `json:"zone"`
	Budgets []budget.Status `json:"budgets"`
	Alerts  group           `json:"alerts"`  // alertStats
	Webhook group           `json:"webhook"` // webhookStats; null without OCT_ALERT_WEBHOOK_URL
}

func (m *Main) budgetsHealth() *budgetsHealth {
	if m.Budgets == nil {
		return nil
	}
	d := m.Budgets.Tracker.Doc()
	h := &budgetsHealth{Zone: d.Zone, Budgets: d.Budgets, Alerts: readGroup(alertStats, m.Budgets.Alerter)}
	if wh := m.Budgets.Webhook; wh != nil {
		h.Webhook = readGroup(webhookStats, wh)
		status, at := wh.Status()
		h.Webhook["status"], h.Webhook["last_success"] = status, (*int64)(nil)
		if at != 0 {
			h.Webhook["last_success"] = at
		}
	}
	return h
}

// alertStats are the Alerter's counters: budgets.alerts on /health,
// openclaw_trace_budget_alert* on /metrics.
var alertStats = []stat[*budget.Alerter]{
	{key: "raised", name: "budget_alerts_total", typ: counter, help: "Budget alerts raised (a threshold crossed in a window; each once).",
		get: func(a *budget.Alerter) any { return a.Raised.Load() }},
	{key: "repeated", name: "budget_alerts_repeated_total", typ: counter, help: "Budget alerts decided again and not raised: recorded before a restart.",
		get: func(a *budget.Alerter) any { return a.Repeated.Load() }},
	{key: "dropped", name: "budget_alerts_dropped_total", typ: counter, help: "Budget alerts lost: the alert queue was full or closing.",
		get: func(a *budget.Alerter) any { return a.Dropped.Load() }},
	{key: "pending", name: "budget_alerts_pending", typ: gauge, help: "Budget alerts decided and waiting to be raised.",
		get: func(a *budget.Alerter) any { return int64(a.Pending()) }},
	{key: "record_errors", name: "budget_alert_record_errors_total", typ: counter, help: "Budget alerts whose record failed (raised anyway).",
		get: func(a *budget.Alerter) any { return a.RecordErrors.Load() }},
}

// webhookStats are the alert webhook's counters: budgets.webhook on
// /health, openclaw_trace_alert_webhook_* on /metrics.
var webhookStats = []stat[*webhook.Sender]{
	{key: "queued", name: "alert_webhook_queued_total", typ: counter, help: "Alert webhook messages queued.",
		get: func(s *webhook.Sender) any { return s.Queued.Load() }},
	{key: "sent", name: "alert_webhook_sent_total", typ: counter, help: "Alert webhook messages delivered (2xx).",
		get: func(s *webhook.Sender) any { return s.Sent.Load() }},
	{key: "gave_up", name: "alert_webhook_gave_up_total", typ: counter, help: "Alert webhook messages given up on (retries exhausted or refused).",
		get: func(s *webhook.Sender) any { return s.GaveUp.Load() }},
	{key: "dropped", name: "alert_webhook_dropped_total", typ: counter, help: "Alert webhook messages dropped (queue full, or unfinished at shutdown).",
		get: func(s *webhook.Sender) any { return s.Dropped.Load() }},
	{key: "attempts", name: "alert_webhook_attempts_total", typ: counter, help: "Alert webhook HTTP attempts, retries included.",
		get: func(s *webhook.Sender) any { return s.Attempts.Load() }},
	{key: "retries", name: "alert_webhook_retries_total", typ: counter, help: "Alert webhook attempts after a message's first.",
		get: func(s *webhook.Sender) any { return s.Retries.Load() }},
	{key: "failures", name: "alert_webhook_failures_total", typ: counter, help: "Failed alert webhook attempts, by class.", label: "class",
		get: func(s *webhook.Sender) any {
			m := make(map[string]int64, push.NumFailureClasses)
			for f := range push.NumFailureClasses {
				if f != push.FailStore { // a webhook has no store
					m[f.String()] = s.Failures[f].Load()
				}
			}
			return m
		}},
	{key: "pending", name: "alert_webhook_pending", typ: gauge, help: "Alert webhook messages waiting in the queue.",
		get: func(s *webhook.Sender) any { return int64(s.Pending()) }},
}

// budgetStates are the numbers openclaw_trace_budget_state takes.
var budgetStates = map[string]float64{budget.StateOK: 0, budget.StateWarn: 1, budget.StateOver: 2}

// budgetFamilies are each budget's gauges, labelled budget="<id>", and
// the alert and webhook counters; none without budgets.
func budgetFamilies(h *budgetsHealth) []*family {
	if h == nil {
		return nil
	}
	spent := &family{name: "budget_spent_usd", typ: gauge, help: "Spend of the priced calls in the budget's current window (a lower bound when unpriced_calls > 0)."}
	limit := &family{name: "budget_limit_usd", typ: gauge, help: "The budget's limit per window."}
	unpriced := &family{name: "budget_unpriced_calls", typ: gauge, help: "Calls in the budget's current window without a price."}
	state := &family{name: "budget_state", typ: gauge, help: "The budget's state: 0 ok, 1 warn (past a warning threshold), 2 over (at or past its limit)."}
	for _, s := range h.Budgets {
		l := llmusage.Labels("budget", s.ID)
		spent.addFloat(l, s.SpentUSD)
		limit.addFloat(l, s.LimitUSD)
		unpriced.add(l, s.UnpricedCalls)
		state.addFloat(l, budgetStates[s.State])
	}
	fams := []*family{spent, limit, unpriced, state}
	fams = append(fams, groupFamilies(alertStats, "", map[string]group{"": h.Alerts})...)
	return append(fams, groupFamilies(webhookStats, "", map[string]group{"": h.Webhook})...)
}

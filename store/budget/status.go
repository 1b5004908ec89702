package budget

import (
	"math"

	"github.com/openclaw/openclaw-trace/codec"
)

// States of a budget: under every warning threshold, at or past one, at
// or past its limit.
const (
	StateOK   = "ok"
	StateWarn = "warn"
	StateOver = "over"
)

// Status is one budget in its current window, as GET /v1/budgets shows
// it (docs/api.md). Times are unix ms; money is US dollars summed as whole
// nano-dollars.
type Status struct {
	ID          string `json:"id"`
	Scope       string `json:"scope"`       // "agent=main", or "all"
	ScopeKind   Kind   `json:"scope_kind"`  // all, agent, channel, trigger, model, cron, session
	ScopeValue  string `json:"scope_value"` // "" for all; provider/model for model
	Window      string `json:"window"`      // day, week, month
	WindowStart int64  `json:"window_start"`
	WindowEnd   int64  `json:"window_end"`
	ResetsAt    int64  `json:"resets_at"` // = window_end: when spend starts again at 0
	// LimitUSD and SpentUSD are the limit and the spend of the priced
	// calls; UsedPct is SpentUSD / LimitUSD × 100 (one decimal).
	LimitUSD float64 `json:"limit_usd"`
	SpentUSD float64 `json:"spent_usd"`
	UsedPct  float64 `json:"used_pct"`
	// Calls are the window's calls in scope; UnpricedCalls those without
	// a cost. LowerBound: the true spend may be higher (unpriced calls,
	// or calls Restore could not count).
	Calls         int64  `json:"calls"`
	UnpricedCalls int64  `json:"unpriced_calls"`
	LowerBound    bool   `json:"lower_bound"`
	State         string `json:"state"`
	AlertedPct    []int  `json:"alerted_pct"` // thresholds alerted in this window

	LimitNanos int64 `json:"-"`
	SpentNanos int64 `json:"-"`
}

// Doc is the body of GET /v1/budgets.
type Doc struct {
	GeneratedAt int64    `json:"generated_at"` // unix ms
	Zone        string   `json:"zone"`         // OCT_BUDGET_TZ: the windows' zone
	WarnPct     []int    `json:"warn_pct"`     // OCT_BUDGET_WARN; 100 always alerts
	Budgets     []Status `json:"budgets"`
}

// Doc rolls the windows over to now, raises any alert that causes, and
// returns every budget's status, in the order of OCT_BUDGETS.
func (t *Tracker) Doc() Doc {
	t.mu.Lock()
	now := t.Now().UnixMilli()
	for _, b := range t.budgets {
		b.setWindow(now, t.loc)
	}
	alerts := t.checkLocked(now)
	d := Doc{GeneratedAt: now, Zone: t.loc.String(), WarnPct: append([]int{}, t.warn...),
		Budgets: make([]Status, len(t.budgets))}
	for i, b := range t.budgets {
		d.Budgets[i] = t.statusLocked(b)
	}
	t.mu.Unlock()
	t.raise(alerts)
	return d
}

func (t *Tracker) statusLocked(b *tracked) Status {
	s := Status{
		ID: b.spec.ID, Scope: b.spec.Scope(), ScopeKind: b.spec.Kind, ScopeValue: b.spec.Value,
		Window: b.spec.Window.String(), WindowStart: b.start, WindowEnd: b.end, ResetsAt: b.end,
		LimitUSD: usd(b.spec.Limit), SpentUSD: usd(b.spent),
		UsedPct: math.Round(float64(b.spent)/float64(b.spec.Limit)*1000) / 10,
		Calls:   b.calls, UnpricedCalls: b.unpriced, LowerBound: b.unpriced > 0 || b.incomplete,
		State: StateOK, AlertedPct: []int{}, LimitNanos: b.spec.Limit, SpentNanos: b.spent,
	}
	if len(b.thresholds) > 1 && b.spent >= b.thresholds[0] {
		s.State = StateWarn
	}
	if b.spent >= b.spec.Limit {
		s.State = StateOver
	}
	for i, p := range b.pcts {
		if b.alerted&(1<<i) != 0 {
			s.AlertedPct = append(s.AlertedPct, p)
		}
	}
	return s
}

func usd(nanos int64) float64 { return float64(nanos) / nanosPerUSD }

// Matches reports whether the call t is in the budget's scope.
func (s *Spec) Matches(t *codec.Trace) bool {
	switch s.Kind {
	case Agent:
		return t.AgentID == s.Value
	case Channel:
		return t.Channel == s.Value
	case Trigger:
		return t.Trigger == s.Value
	case Cron:
		return t.CronJobID == s.Value
	case Session:
		return t.SessionKey == s.Value
	case Model:
		v, p := s.Value, t.Provider
		return len(v) == len(p)+1+len(t.Model) && v[:len(p)] == p && v[len(p)] == '/' && v[len(p)+1:] == t.Model
	}
	return true
}

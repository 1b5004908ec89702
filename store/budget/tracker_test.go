package budget

import (
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// call is a committed trace at at costing cost (nil: unpriced).
func call(at time.Time, cost *float64, a codec.Attribution, provider, model string) codec.Event {
	return codec.NewEvent(codec.HTTP, &codec.Trace{CreatedAt: at.UnixMilli(), Provider: provider, Model: model,
		CostUSD: cost, Status: "ok", Attribution: a})
}

func usdp(v float64) *float64 { return &v }

func mustParse(t testing.TB, s string) []Spec {
	t.Helper()
	specs, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return specs
}

// alerts collects what a Tracker raises.
type alerts struct {
	mu  sync.Mutex
	got []string
}

func (a *alerts) add(al Alert) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, al.ID+"@"+strconv.Itoa(al.ThresholdPct))
}

func (a *alerts) take() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.got
	a.got = nil
	return g
}

func spent(t *testing.T, tr *Tracker) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, s := range tr.Doc().Budgets {
		m[s.ID] = s.SpentNanos
	}
	return m
}

// Each scope counts the calls it names and no other.
func TestScopes(t *testing.T) {
	now := time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)
	tr := NewTracker(mustParse(t, "100usd/day; agent=main:100usd/day; channel=telegram:100usd/day; trigger=heartbeat:100usd/day;"+
		"model=openrouter/anthropic/claude-3:100usd/day; cron=digest:100usd/day; session=agent:main:main:100usd/day; model=openai/gpt-4o:100usd/day"), nil, nil)
	tr.Now = func() time.Time { return now }
	tr.Committed([]codec.Event{
		call(now, usdp(1), codec.Attribution{AgentID: "main", Channel: "telegram", SessionKey: "agent:main:main"}, "openai", "gpt-4o"),
		call(now, usdp(2), codec.Attribution{AgentID: "ops", Trigger: "heartbeat"}, "openrouter", "anthropic/claude-3"),
		call(now, usdp(4), codec.Attribution{Trigger: "cron", CronJobID: "digest"}, "openai", "gpt-4o-mini"),
		call(now, usdp(8), codec.Attribution{AgentID: "main", Channel: "slack"}, "openai", "gpt-4o"),
		// The model's name, not a prefix of it; nor the provider's name
		// without the model.
		call(now, usdp(16), codec.Attribution{}, "openai", "gpt-4o-2024"),
		call(now, usdp(32), codec.Attribution{}, "openai/gpt", "-4o"),
	})
	got := spent(t, tr)
	want := map[string]int64{
		"all/day": 63e9, "agent=main/day": 9e9, "channel=telegram/day": 1e9, "trigger=heartbeat/day": 2e9,
		"model=openrouter/anthropic/claude-3/day": 2e9, "cron=digest/day": 4e9, "session=agent:main:main/day": 1e9,
		"model=openai/gpt-4o/day": 9e9,
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s spent %d nanos, want %d", id, got[id], w)
		}
	}
}

// Thresholds alert once each per window, lowest first, also when one call
// crosses several; unpriced calls are counted beside the spend and make it
// a lower bound; the state follows the spend.
func TestAlertsOncePerThreshold(t *testing.T) {
	now := time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)
	var got alerts
	tr := NewTracker(mustParse(t, "agent=main:10usd/day"), []int{50, 80}, nil)
	tr.Now, tr.OnAlert = func() time.Time { return now }, got.add
	main := codec.Attribution{AgentID: "main"}
	steps := []struct {
		cost   *float64
		alerts []string
		state  string
	}{
		{usdp(4.99), nil, StateOK},
		{usdp(0.01), []string{"agent=main/day@50"}, StateWarn}, // exactly 50%
		{nil, nil, StateWarn},
		{nil, nil, StateWarn}, // no usage (below): a call, not unpriced
		{usdp(1), nil, StateWarn},
		{usdp(9), []string{"agent=main/day@80", "agent=main/day@100"}, StateOver},
		{usdp(5), nil, StateOver},
	}
	for i, st := range steps {
		ev := call(now, st.cost, main, "openai", "gpt-4o")
		if i == 3 {
			ev.Trace.CostSource, ev.Trace.Status = codec.CostNoUsage, "error"
		}
		tr.Committed([]codec.Event{ev})
		if a := got.take(); !slices.Equal(a, st.alerts) {
			t.Errorf("step %d: alerts %v, want %v", i, a, st.alerts)
		}
		s := tr.Doc().Budgets[0]
		if s.State != st.state {
			t.Errorf("step %d: state %s, want %s", i, s.State, st.state)
		}
	}
	s := tr.Doc().Budgets[0]
	if s.SpentUSD != 20 || s.UnpricedCalls != 1 || s.Calls != 7 || !s.LowerBound || s.UsedPct != 200 ||
		!slices.Equal(s.AlertedPct, []int{50, 80, 100}) {
		t.Errorf("status = %+v", s)
	}
}

// At the window's edge the spend starts again at 0, the thresholds may
// alert again, and a call dated in the window before counts nowhere; a
// call dated in a later window (a sender's clock ahead) counts once that
// window begins.
func TestRollover(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	c := &clock{t: time.Date(2026, 3, 28, 23, 59, 59, 0, berlin)}
	var got alerts
	tr := NewTracker(mustParse(t, "1usd/day; 10usd/month"), nil, berlin)
	tr.Now, tr.OnAlert = c.Now, got.add
	tr.Committed([]codec.Event{
		call(c.Now(), usdp(1), codec.Attribution{}, "p", "m"),
		call(c.Now().Add(2*time.Second), usdp(0.25), codec.Attribution{}, "p", "m"), // tomorrow, by its clock
	})
	if g := got.take(); !slices.Equal(g, []string{"all/day@100"}) {
		t.Errorf("alerts %v", g)
	}
	if s := spent(t, tr); s["all/day"] != 1e9 || s["all/month"] != 1.25e9 {
		t.Errorf("before midnight: %v", s)
	}
	c.Set(time.Date(2026, 3, 29, 0, 0, 0, 0, berlin)) // the edge itself belongs to the next day
	d := tr.Doc()
	if d.Budgets[0].SpentNanos != 0.25e9 || d.Budgets[0].State != StateOK || len(d.Budgets[0].AlertedPct) != 0 {
		t.Errorf("after midnight: %+v", d.Budgets[0])
	}
	if want := time.Date(2026, 3, 30, 0, 0, 0, 0, berlin).UnixMilli(); d.Budgets[0].WindowEnd != want ||
		d.Budgets[0].WindowEnd-d.Budgets[0].WindowStart != 23*3600*1000 {
		t.Errorf("window [%d, %d), want a 23-hour day ending %d", d.Budgets[0].WindowStart, d.Budgets[0].WindowEnd, want)
	}
	tr.Committed([]codec.Event{
		call(c.Now().Add(-time.Second), usdp(5), codec.Attribution{}, "p", "m"), // yesterday's, committed late
		call(c.Now(), usdp(0.75), codec.Attribution{}, "p", "m"),
	})
	if g := got.take(); !slices.Equal(g, []string{"all/day@100"}) {
		t.Errorf("second day's alerts %v", g)
	}
	if s := spent(t, tr); s["all/day"] != 1e9 || s["all/month"] != 7e9 {
		t.Errorf("second day: %v", s)
	}
	if tr.Late.Load() != 1 {
		t.Errorf("late = %d, want 1", tr.Late.Load())
	}
	c.Set(time.Date(2026, 4, 1, 0, 0, 0, 0, berlin))
	if s := spent(t, tr); s["all/month"] != 0 {
		t.Errorf("April: %v", s)
	}
}

// The hook's cost per committed batch, and GET /v1/budgets' document.
func BenchmarkCommitted(b *testing.B) {
	now := time.Now()
	tr := NewTracker(mustParse(b, "5usd/day; agent=main:2usd/day; trigger=heartbeat:0.50usd/day; model=anthropic/claude-opus-4:50usd/month;"+
		"channel=telegram:3usd/week; cron=digest:1usd/day; session=agent:main:main:1usd/day"), []int{50, 80}, nil)
	batch := make([]codec.Event, 50)
	for i := range batch {
		batch[i] = call(now, usdp(1e-6), codec.Attribution{AgentID: "main", Trigger: "user", Channel: "telegram",
			SessionKey: "agent:main:main"}, "anthropic", "claude-opus-4")
	}
	b.ReportAllocs()
	for b.Loop() {
		tr.Committed(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/call")
}

func BenchmarkDoc(b *testing.B) {
	tr := NewTracker(mustParse(b, "5usd/day; agent=main:2usd/day; trigger=heartbeat:0.50usd/day; model=anthropic/claude-opus-4:50usd/month;"+
		"channel=telegram:3usd/week; cron=digest:1usd/day; session=agent:main:main:1usd/day"), []int{80}, nil)
	b.ReportAllocs()
	for b.Loop() {
		tr.Doc()
	}
}

package budget

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
)

// openDB opens a database in a temp dir whose rollup days are dates in
// loc, closed at the end.
func openDB(t testing.TB, loc *time.Location) *store.DB {
	t.Helper()
	db := store.NewDB(filepath.Join(t.TempDir(), "trace.db"))
	db.Location = loc
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// write commits evs through the real writer, telling hook (may be nil).
func write(t testing.TB, db *store.DB, hook func([]codec.Event), evs []codec.Event) {
	t.Helper()
	in := make(chan codec.Event, len(evs))
	for _, ev := range evs {
		in <- ev
	}
	close(in)
	w := store.NewWriter(db, in)
	w.BatchSize, w.Committed = 7, hook
	if err := w.Run(); err != nil {
		t.Fatal(err)
	}
	if n := w.Counters[codec.HTTP].Written.Load(); n != int64(len(evs)) {
		t.Fatalf("wrote %d of %d", n, len(evs))
	}
}

// month of calls: one every 5 hours from from to to, rotating through
// agents, channels, triggers, models, cron jobs and sessions; one in 9
// unpriced, one in 11 failed without usage; costs in odd nano-dollars.
func monthOfCalls(from, to time.Time) []codec.Event {
	agents := []string{"main", "ops", ""}
	channels := []string{"telegram", "slack"}
	triggers := []string{"user", "heartbeat", "cron", "memory"}
	models := [][2]string{{"anthropic", "claude-opus-4"}, {"openai", "gpt-4o"}, {"openrouter", "anthropic/claude-3"}}
	sessions := []string{"agent:main:telegram:direct:1001", "agent:main:main", "agent:ops:slack:c1"}
	var evs []codec.Event
	for i, at := 0, from; at.Before(to); i, at = i+1, at.Add(5*time.Hour) {
		var cost *float64
		if i%9 != 4 {
			cost = usdp(float64(i%13)*0.123456789 + 0.000000007)
		}
		a := codec.Attribution{AgentID: agents[i%3], Channel: channels[i%2], Trigger: triggers[i%4], SessionKey: sessions[i%3]}
		if a.Trigger == "cron" {
			a.CronJobID = "digest"
		}
		m := models[i%3]
		ev := call(at, cost, a, m[0], m[1])
		if i%11 == 7 { // a failed call that reported no usage: neither priced nor unpriced
			ev.Trace.CostUSD, ev.Trace.CostSource, ev.Trace.Status = nil, codec.CostNoUsage, "error"
		} else if cost == nil {
			ev.Trace.CostSource = codec.CostUnpriced
		}
		evs = append(evs, ev)
	}
	return evs
}

const everyScope = "50usd/day; 300usd/week; 900usd/month; agent=main:20usd/day; agent=ops:100usd/month; channel=telegram:100usd/week;" +
	"trigger=heartbeat:100usd/month; model=openrouter/anthropic/claude-3:100usd/month; model=openai/gpt-4o:9usd/day;" +
	"cron=digest:100usd/month; session=agent:main:main:100usd/week; session=agent:ops:slack:c1:100usd/day"

type sum struct {
	spent, calls, unpriced int64
	lower                  bool
}

func sumsOf(tr *Tracker) map[string]sum {
	m := map[string]sum{}
	for _, s := range tr.Doc().Budgets {
		m[s.ID] = sum{s.SpentNanos, s.Calls, s.UnpricedCalls, s.LowerBound && s.UnpricedCalls == 0}
	}
	return m
}

func compare(t *testing.T, what string, got, want map[string]sum) {
	t.Helper()
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %s = %+v, want %+v", what, id, got[id], w)
		}
	}
}

// A restart restores, for every scope and window, the spend that the
// running daemon had followed: from the rollups, and a session's from its
// stored calls; calls dated in a later window count once it begins.
func TestRestoreMatchesLive(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	db := openDB(t, berlin)
	c := &clock{t: time.Date(2026, 3, 28, 21, 0, 0, 0, berlin)}
	live := NewTracker(mustParse(t, everyScope), []int{80}, berlin)
	live.Now = c.Now
	// From before the month to past tomorrow (a sender's clock ahead).
	write(t, db, live.Committed, monthOfCalls(time.Date(2026, 2, 20, 3, 0, 0, 0, berlin), time.Date(2026, 3, 30, 12, 0, 0, 0, berlin)))
	want := sumsOf(live)
	if want["all/month"].calls < 100 || want["all/day"].calls == 0 || want["session=agent:main:main/week"].calls == 0 {
		t.Fatalf("too few calls in the windows: %+v", want)
	}

	restored := NewTracker(mustParse(t, everyScope), []int{80}, berlin)
	restored.Now = c.Now
	r, err := restored.Restore(context.Background(), db.Reader())
	if err != nil {
		t.Fatal(err)
	}
	if r.RollupRows == 0 {
		t.Error("no rollup rows read")
	}
	compare(t, "restored", sumsOf(restored), want)

	// Across DST and the end of the week: both count tomorrow's calls.
	c.Set(time.Date(2026, 3, 30, 13, 0, 0, 0, berlin))
	compare(t, "next day", sumsOf(restored), sumsOf(live))
}

// A month window stays exact after the raw rows of its first weeks
// expire: it is summed from the rollups. A session's spend cannot be (the
// rollups have no sessions): it shrinks to the calls still stored, and
// says it is a lower bound.
func TestRestoreMonthAfterRawRowsExpire(t *testing.T) {
	db := openDB(t, time.UTC)
	c := &clock{t: time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC)}
	const specs = "900usd/month; agent=main:100usd/month; model=openai/gpt-4o:100usd/month; session=agent:main:main:100usd/month"
	live := NewTracker(mustParse(t, specs), nil, nil)
	live.Now = c.Now
	write(t, db, live.Committed, monthOfCalls(time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC), c.Now()))
	want := sumsOf(live)

	cl := store.NewCleaner(db)
	cl.Retention, cl.PushEnabled, cl.HighWatermark, cl.Now = 3*24*time.Hour, false, 0, c.Now
	res, err := cl.CleanOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var left int64
	db.Reader().QueryRow("SELECT count(*) FROM llm_traces").Scan(&left)
	if res.Expired["llm_traces"] < 80 || left > 20 {
		t.Fatalf("expired %d calls, %d left: want most of the month gone", res.Expired["llm_traces"], left)
	}

	restored := NewTracker(mustParse(t, specs), nil, nil)
	restored.Now = c.Now
	if _, err := restored.Restore(context.Background(), db.Reader()); err != nil {
		t.Fatal(err)
	}
	got := sumsOf(restored)
	for _, id := range []string{"all/month", "agent=main/month", "model=openai/gpt-4o/month"} {
		if got[id] != want[id] {
			t.Errorf("%s = %+v after expiry, want %+v", id, got[id], want[id])
		}
	}
	const session = "session=agent:main:main/month"
	if s := got[session]; s.calls >= want[session].calls || s.calls == 0 {
		t.Errorf("%s = %+v: want the calls still stored, fewer than %+v", session, s, want[session])
	}
	for _, s := range restored.Doc().Budgets {
		if s.ID == session && !s.LowerBound {
			t.Errorf("%s does not say it is a lower bound: %+v", session, s)
		}
	}
}

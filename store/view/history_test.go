package view

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
)

// historyDB holds a call every 7 hours for 10 days before sumNow, in a
// zone whose midnight is not UTC's, with rotating attribution, failures
// and unpriced calls.
func historyDB(t *testing.T) *store.DB {
	loc, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip(err)
	}
	db := store.NewDB(filepath.Join(t.TempDir(), "trace.db"))
	db.Location = loc
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var evs []codec.Event
	triggers := []string{"user", "heartbeat", "cron"}
	for i := range 10 * 24 / 7 {
		status := "ok"
		if i%5 == 0 {
			status = "error"
		}
		var cost *float64
		if i%4 != 0 {
			cost = ptr(float64(i) * 0.001)
		}
		ev := llmCall(time.Duration(i*7)*time.Hour+time.Minute, "openai", []string{"gpt-4o", "gpt-4o-mini"}[i%2], status,
			int64(100*i), int64(i), 0, cost, int64(100+i*50), nil)
		ev.Trace.Attribution = codec.Attribution{AgentID: []string{"main", "ops"}[i%2], Trigger: triggers[i%3],
			SessionKey: fmt.Sprintf("s%d", i%4)}
		evs = append(evs, ev)
	}
	writeEvents(t, db, evs...)
	return db
}

// totals renders what rollups must keep of a list of groups.
func totals(groups []Stats) []string {
	var out []string
	for _, g := range groups {
		cost := "-"
		if g.CostUSD != nil {
			cost = fmt.Sprintf("%.9f", *g.CostUSD)
		}
		out = append(out, fmt.Sprintf("%s/%s: %d calls %d errors %d in %d out %s %d unpriced", g.Provider, g.Key, g.Calls,
			g.Errors, g.PromptTokens, g.CompletionTokens, cost, g.UnpricedCalls))
	}
	return out
}

// TestSummaryBeyondRetention: once raw rows expire, a month's summary
// reads the days before from the rollups and shows the same calls, costs
// and tokens as when every row was there: none lost, none counted twice
// at the seam between rollup days and raw rows.
func TestSummaryBeyondRetention(t *testing.T) {
	db := historyDB(t)
	v := New(db.Reader())
	opts := SummaryOptions{Since: sumNow.Add(-30 * 24 * time.Hour), Until: sumNow}
	before, err := v.Summary(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if before.Coverage.RollupFrom != "" || before.Coverage.Zone != "Asia/Kolkata" {
		t.Fatalf("coverage before any delete: %+v", before.Coverage)
	}
	c := store.NewCleaner(db)
	c.Interval, c.HighWatermark, c.PushEnabled = 0, 0, false
	c.Retention = 3 * 24 * time.Hour
	c.Now = func() time.Time { return sumNow }
	if _, err := c.CleanOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, err := v.Summary(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	cov := after.Coverage
	if cov.RollupFrom != "2026-02-04" || cov.RollupTo != "2026-03-03" || cov.OldestRollupDay == nil || *cov.OldestRollupDay != "2026-02-25" {
		t.Errorf("coverage %+v", cov)
	}
	if raw, _ := store.DayStart("2026-03-04", time.FixedZone("IST", 5*3600+1800)); cov.RawFrom != raw {
		t.Errorf("raw rows read from %d, want %d (midnight after the newest deleted call)", cov.RawFrom, raw)
	}
	for name, pair := range map[string][2][]Stats{
		"totals": {{before.Totals}, {after.Totals}}, "models": {before.ByModel, after.ByModel},
		"agents": {before.ByAgent, after.ByAgent}, "triggers": {before.ByTrigger, after.ByTrigger},
		"days": {before.ByDay, after.ByDay}, "providers": {before.ByProvider, after.ByProvider},
	} {
		if b, a := totals(pair[0]), totals(pair[1]); !reflect.DeepEqual(b, a) {
			t.Errorf("%s with every row:\n%q\nwith rollups:\n%q", name, b, a)
		}
	}
	var seriesBefore, seriesAfter int64
	for i := range before.Series {
		seriesBefore += before.Series[i].Calls
		seriesAfter += after.Series[i].Calls
	}
	if seriesBefore != before.Totals.Calls || seriesAfter != after.Totals.Calls {
		t.Errorf("series holds %d and %d calls, want %d", seriesBefore, seriesAfter, before.Totals.Calls)
	}
	// Percentiles from the digests are near the exact ones.
	b, a := *before.Totals.LatencyP50MS, *after.Totals.LatencyP50MS
	if a < b/1.2 || a > b*1.2 {
		t.Errorf("p50 %v with rollups, %v exact", a, b)
	}
	// Sessions are raw rows' only: the top sessions hold the newest calls.
	var sessionCalls int64
	for _, s := range after.TopSessions {
		sessionCalls += s.Calls
	}
	if sessionCalls >= after.Totals.Calls || sessionCalls == 0 {
		t.Errorf("top sessions hold %d of %d calls after expiry", sessionCalls, after.Totals.Calls)
	}
	// A breakdown by session or hour names what rollups cannot tell.
	bd, err := v.Breakdown(context.Background(), BreakdownOptions{Since: opts.Since, Until: opts.Until, By: []Dim{DimSession}})
	if err != nil {
		t.Fatal(err)
	}
	var rolled int64
	for _, g := range bd.Groups {
		if g.Key == RolledUp {
			rolled = g.Calls
		}
	}
	if rolled == 0 || rolled+sessionCalls != after.Totals.Calls {
		t.Errorf("by session: %d calls %s, %d in sessions; %d in all", rolled, RolledUp, sessionCalls, after.Totals.Calls)
	}
	bh, err := v.Breakdown(context.Background(), BreakdownOptions{Since: opts.Since, Until: opts.Until, By: []Dim{DimHour}})
	if err != nil {
		t.Fatal(err)
	}
	if first := bh.Groups[0].Key; first != "2026-02-25 "+RolledUp {
		t.Errorf("by hour starts with %q", first)
	}
}

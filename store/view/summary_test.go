package view

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
)

var sumNow = time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)

func llmCall(at time.Duration, provider, model, status string, prompt, completion, cacheRead int64, cost *float64,
	latency int64, md map[string]any) codec.Event {
	// Attribution as the parser lifts it from metadata.
	agent, _ := md["agent_id"].(string)
	channel, _ := md["channel"].(string)
	trigger, _ := md["trigger"].(string)
	session, _ := md["session_key"].(string)
	return codec.Event{TraceID: codec.NewTraceID(), Trace: &codec.Trace{
		CreatedAt: sumNow.Add(-at).UnixMilli(), Provider: provider, Model: model, Status: status,
		PromptTokens: &prompt, CompletionTokens: &completion, CacheReadTokens: &cacheRead, CostUSD: cost,
		LatencyMS: &latency, TTFTMS: ptr(latency / 4), Metadata: md,
		Attribution: codec.Attribution{AgentID: agent, Channel: channel, Trigger: trigger, SessionKey: session},
	}}
}

func summaryFixture(t *testing.T) *store.DB {
	t.Helper()
	db := openDB(t)
	a1 := map[string]any{"agent_id": "main", "channel": "telegram"}
	a2 := map[string]any{"agent_id": "ops", "channel": "slack"}
	writeEvents(t, db,
		llmCall(1*time.Hour, "openai", "gpt-4o", "ok", 1000, 100, 400, ptr(0.0030), 100, a1),
		llmCall(2*time.Hour, "openai", "gpt-4o", "ok", 2000, 200, 0, ptr(0.0070), 200, a1),
		llmCall(3*time.Hour, "openai", "gpt-4o", "error", 10, 0, 0, ptr(0.0), 300, a2),
		llmCall(13*time.Hour, "anthropic", "claude-sonnet-4", "ok", 500, 50, 0, ptr(0.0020), 1000, a2),
		llmCall(14*time.Hour, "ollama", "llama3", "ok", 10, 10, 0, nil, 50, nil),
		llmCall(15*time.Hour, "ollama", "llama3", "timeout", 10, 0, 0, nil, 9000, nil),
		llmCall(30*time.Hour, "openai", "gpt-4o", "ok", 1, 1, 0, ptr(1.0), 1, a1), // outside 24 h
		codec.Event{TraceID: codec.NewTraceID(), Error: &codec.Error{CreatedAt: sumNow.Add(-30 * time.Minute).UnixMilli(),
			ErrorType: "llm_error", Message: "rate limited", Code: ptr("rate_limit"), Severity: "error"}},
	)
	return db
}

func TestSummary(t *testing.T) {
	db := summaryFixture(t)
	if err := db.Advance(context.Background(), "otlp", "llm_traces", 2); err != nil {
		t.Fatal(err)
	}
	s, err := New(db.Reader()).Summary(context.Background(), SummaryOptions{Since: sumNow.Add(-24 * time.Hour), Until: sumNow})
	if err != nil {
		t.Fatal(err)
	}
	tot := s.Totals
	if tot.Calls != 6 || tot.Errors != 2 || tot.PricedCalls != 4 || tot.UnpricedCalls != 2 ||
		tot.PromptTokens != 3530 || tot.CompletionTokens != 360 || tot.CacheReadTokens != 400 {
		t.Errorf("totals %+v", tot)
	}
	if tot.CostUSD == nil || *tot.CostUSD < 0.01199 || *tot.CostUSD > 0.01201 {
		t.Errorf("total cost %v, want 0.012", tot.CostUSD)
	}
	// nearest-rank percentiles of 50, 100, 200, 300, 1000, 9000
	if *tot.LatencyP50MS != 200 || *tot.LatencyP95MS < 8964 || *tot.LatencyP95MS > 9036 || *tot.TTFTP50MS != 50 {
		t.Errorf("latency p50 %v p95 %v ttft p50 %v", *tot.LatencyP50MS, *tot.LatencyP95MS, *tot.TTFTP50MS)
	}
	byKey := func(st []Stats) map[string]Stats {
		m := map[string]Stats{}
		for _, x := range st {
			m[x.Key] = x
		}
		return m
	}
	models := byKey(s.ByModel)
	if g := models["gpt-4o"]; g.Calls != 3 || g.Errors != 1 || g.Provider != "openai" || g.ErrorRate < 0.333 || g.ErrorRate > 0.334 {
		t.Errorf("gpt-4o %+v", g)
	}
	if g := models["llama3"]; g.CostUSD != nil || g.UnpricedCalls != 2 {
		t.Errorf("llama3 (unpriced) has cost %v / %d unpriced; want null / 2", g.CostUSD, g.UnpricedCalls)
	}
	if s.ByModel[0].Key != "gpt-4o" { // most expensive first
		t.Errorf("first model %q", s.ByModel[0].Key)
	}
	if a := byKey(s.ByAgent); a["main"].Calls != 2 || a["ops"].Calls != 2 || a[""].Calls != 2 {
		t.Errorf("agents %+v", s.ByAgent)
	}
	if c := byKey(s.ByChannel); c["telegram"].Calls != 2 || c["slack"].Calls != 2 {
		t.Errorf("channels %+v", s.ByChannel)
	}
	if len(s.ByDay) != 2 || s.ByDay[0].Key != "2026-03-05" || s.ByDay[0].Calls != 3 || s.ByDay[1].Calls != 3 {
		t.Errorf("days %+v", s.ByDay)
	}
	var calls int64
	for _, p := range s.Series {
		calls += p.Calls
	}
	if len(s.Series) != DefaultSummaryBuckets || calls != 6 || s.BucketMS != int64(time.Hour/time.Millisecond) {
		t.Errorf("series: %d points, %d calls, bucket %d", len(s.Series), calls, s.BucketMS)
	}
	if s.ErrorEvents["llm_error"] != 1 {
		t.Errorf("error events %v", s.ErrorEvents)
	}
	if len(s.RecentErrors) != 3 || s.RecentErrors[0].Kind != "error" || s.RecentErrors[0].Code != "rate_limit" ||
		s.RecentErrors[1].Model != "gpt-4o" || s.RecentErrors[2].Message != "timeout" {
		t.Errorf("recent errors %+v", s.RecentErrors)
	}
	if s.Backlog.Unsynced["llm_traces"] != 7 || s.Backlog.Total != 8 || s.Backlog.LastPush != nil ||
		s.Backlog.Exports["otlp"]["llm_traces"] != 5 || len(s.Backlog.Exports["otlp"]) != 1 {
		t.Errorf("backlog %+v", s.Backlog)
	}
}

// TestSummaryParallelMatchesSerial: the window split across workers must
// add up to the same numbers as one scan.
func TestSummaryParallelMatchesSerial(t *testing.T) {
	db := summaryFixture(t)
	// Wider than the calls, so the split follows their span (callSpan).
	opts := SummaryOptions{Since: sumNow.Add(-300 * 24 * time.Hour), Until: sumNow}
	var got []string
	for _, w := range []int{1, 3} {
		v := New(db.Reader())
		v.Workers = w
		s, err := v.Summary(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, mustJSON(t, s))
	}
	if got[0] != got[1] {
		t.Errorf("1 worker:\n%s\n3 workers:\n%s", got[0], got[1])
	}
}

// TestSummaryCallSpan: workers split the span of the calls themselves, so
// a window far wider than the data (report --since 300d over a day of
// calls) still gives each worker a share; with no call in the window the
// window itself is the span.
func TestSummaryCallSpan(t *testing.T) {
	db := summaryFixture(t)
	ctx := context.Background()
	wide := sumNow.Add(-300 * 24 * time.Hour).UnixMilli()
	v := New(db.Reader())
	first, last, err := v.callSpan(ctx, wide, sumNow.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	if want := sumNow.Add(-30 * time.Hour).UnixMilli(); first != want {
		t.Errorf("first %d, want %d (the oldest call)", first, want)
	}
	if want := sumNow.Add(-1 * time.Hour).UnixMilli(); last != want {
		t.Errorf("last %d, want %d (the newest call)", last, want)
	}
	empty := sumNow.Add(-400 * 24 * time.Hour).UnixMilli()
	first, last, err = v.callSpan(ctx, empty, wide)
	if err != nil {
		t.Fatal(err)
	}
	if first != empty || last != wide-1 {
		t.Errorf("empty window: span %d..%d, want %d..%d", first, last, empty, wide-1)
	}
}

func TestSummaryToleratesBadMetadata(t *testing.T) {
	db := summaryFixture(t)
	rawExec(t, db.Path, `UPDATE llm_traces SET metadata = 'not json {' WHERE model = 'llama3'`)
	s, err := New(db.Reader()).Summary(context.Background(), SummaryOptions{Since: sumNow.Add(-24 * time.Hour), Until: sumNow})
	if err != nil {
		t.Fatal(err)
	}
	if s.Totals.Calls != 6 {
		t.Errorf("calls %d", s.Totals.Calls)
	}
}

// TestSummaryReadOnly: report summarises beside the running daemon,
// through store.OpenReadOnly's pool.
func TestSummaryReadOnly(t *testing.T) {
	db := summaryFixture(t) // still open: the daemon's writer holds it
	ro, err := store.OpenReadOnly(db.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	v := New(ro.Reader())
	s, err := v.Summary(context.Background(), SummaryOptions{Since: sumNow.Add(-24 * time.Hour), Until: sumNow})
	if err != nil || s.Totals.Calls != 6 {
		t.Fatalf("summary read-only: %v %+v", err, s)
	}
	if _, err := v.Summary(context.Background(), SummaryOptions{Since: sumNow, Until: sumNow}); err == nil {
		t.Error("empty window accepted")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSummaryOlderSchema: report opens files without migrating them, so a
// database last written by an older binary (schema 2, no sink_positions)
// must still summarise.
func TestSummaryOlderSchema(t *testing.T) {
	db := summaryFixture(t)
	rawExec(t, db.Path, `DROP TABLE sink_positions`, `PRAGMA user_version = 2`)
	var tables int
	if err := db.Reader().QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'sink_positions'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("sink_positions still there: %d %v", tables, err)
	}
	ro, err := store.OpenReadOnly(db.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	s, err := New(ro.Reader()).Summary(context.Background(), SummaryOptions{Since: sumNow.Add(-24 * time.Hour), Until: sumNow})
	if err != nil || s.Totals.Calls != 6 || len(s.Backlog.Exports) != 0 {
		t.Fatalf("%v %+v", err, s)
	}
}

// A failed call that reported no usage (cost_source no_usage) is a call
// and a failure, but neither priced nor unpriced, in the totals and in
// the series: a provider that is down must not make the spend read as a
// lower bound, nor as $0 spent on a priced call.
func TestSummaryNoUsage(t *testing.T) {
	db := openDB(t)
	down := llmCall(time.Hour, "openai", "gpt-4o", "error", 0, 0, 0, nil, 30, nil)
	down.Trace.PromptTokens, down.Trace.CompletionTokens, down.Trace.CacheReadTokens = nil, nil, nil
	down.Trace.CostSource = codec.CostNoUsage
	unpriced := llmCall(2*time.Hour, "ollama", "llama3", "ok", 10, 10, 0, nil, 30, nil)
	unpriced.Trace.CostSource = codec.CostUnpriced
	writeEvents(t, db, down, unpriced, llmCall(3*time.Hour, "openai", "gpt-4o", "ok", 10, 10, 0, ptr(0.5), 30, nil))
	s, err := New(db.Reader()).Summary(context.Background(), SummaryOptions{Since: sumNow.Add(-24 * time.Hour), Until: sumNow})
	if err != nil {
		t.Fatal(err)
	}
	if tot := s.Totals; tot.Calls != 3 || tot.Errors != 1 || tot.PricedCalls != 1 || tot.UnpricedCalls != 1 {
		t.Errorf("totals: calls %d errors %d priced %d unpriced %d; want 3 1 1 1", tot.Calls, tot.Errors, tot.PricedCalls, tot.UnpricedCalls)
	}
	var unpricedPoints int64
	for _, p := range s.Series {
		unpricedPoints += p.Unpriced
	}
	if unpricedPoints != 1 {
		t.Errorf("series count %d unpriced calls, want 1", unpricedPoints)
	}
}

package view

import (
	"context"
	"database/sql"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/store"
)

var (
	benchRows = flag.Int("summary.rows", 1_000_000, "rows BenchmarkSummary generates")
	benchKeep = flag.String("summary.keep", "", "write the benchmark database to this path and keep it (to time `openclaw-trace report` on it)")
	benchDB   = flag.String("summary.db", "", "use this database (one -summary.keep wrote) instead of generating one")
	benchDays = flag.Int("summary.days", 1, "days the generated rows spread over, and the benchmarks' window")
	// With -summary.recent the rows end now, so a daemon opening the kept
	// file expires those past OCT_RETENTION_DAYS, and the file is marked
	// for the daemon to build its rollups from them, as after an upgrade.
	benchRecent = flag.Bool("summary.recent", false, "rows end now; the daemon that opens the file builds its rollups")
)

// benchNow is the end of the generated window: rows spread over the
// -summary.days before it.
var benchNow = sync.OnceValue(func() time.Time {
	if *benchRecent {
		return time.Now().Truncate(time.Millisecond)
	}
	return time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)
})

func benchWindow() time.Duration { return time.Duration(*benchDays) * 24 * time.Hour }

// FillSummaryRows inserts n calls spread over the window before benchNow in
// one statement: 6 models of 3 providers, 5 agents, 3 channels, 3
// triggers, 1,000 sessions, 2% failed, 1 in 7 unpriced, latencies up to
// ~20 s. The attribution is in columns and, as older senders sent it, in
// metadata.
func fillSummaryRows(tb testing.TB, path string, n int) {
	tb.Helper()
	since := benchNow().Add(-benchWindow()).UnixMilli()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	_, err = raw.Exec(`WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ? - 1)
	INSERT INTO llm_traces (trace_id, created_at, provider, model, prompt_tokens, completion_tokens, total_tokens,
		cache_read_tokens, cache_write_tokens, cost_usd, cost_source, latency_ms, ttft_ms, status, error_type,
		agent_id, channel, trigger, session_key, metadata)
	SELECT printf('bench-%012d', i), ? + (i * ?) / ?,
		CASE i % 6 WHEN 0 THEN 'openai' WHEN 1 THEN 'openai' WHEN 2 THEN 'anthropic' WHEN 3 THEN 'anthropic' ELSE 'google' END,
		CASE i % 6 WHEN 0 THEN 'gpt-4o' WHEN 1 THEN 'gpt-4o-mini' WHEN 2 THEN 'claude-sonnet-4' WHEN 3 THEN 'claude-3-5-haiku'
			WHEN 4 THEN 'gemini-2.5-pro' ELSE 'gemini-2.5-flash' END,
		1000 + i % 5000, 100 + i % 900, 1100 + i % 5000 + i % 900, (i % 5000) / 2, 0,
		CASE WHEN i % 7 = 0 THEN NULL ELSE (1000 + i % 5000) * 2.5e-6 END,
		CASE WHEN i % 7 = 0 THEN 'unpriced' ELSE 'table' END,
		200 + (i * 7919) % 20000, 50 + (i * 104729) % 2000,
		CASE WHEN i % 50 = 0 THEN 'error' ELSE 'ok' END, CASE WHEN i % 50 = 0 THEN 'rate_limit' END,
		'agent-' || (i % 5), CASE i % 3 WHEN 0 THEN 'telegram' WHEN 1 THEN 'slack' ELSE 'web' END,
		CASE i % 4 WHEN 0 THEN 'heartbeat' WHEN 1 THEN 'cron' ELSE 'user' END, 'session-' || (i % 1000),
		json_object('agent_id', 'agent-' || (i % 5), 'channel', CASE i % 3 WHEN 0 THEN 'telegram' WHEN 1 THEN 'slack' ELSE 'web' END,
			'session', 'session-' || (i % 1000))
	FROM c`, n, since, benchWindow().Milliseconds()-1, n)
	if err != nil {
		tb.Fatal(err)
	}
	if *benchRecent {
		if _, err := raw.Exec("UPDATE rollup_state SET backfill = 1"); err != nil {
			tb.Fatal(err)
		}
	}
}

// benchView returns a View of a file of -summary.rows calls
// (fillSummaryRows) opened read-only, as `report` opens it.
func benchView(b *testing.B) *View {
	if *benchDB != "" {
		return openBench(b, *benchDB)
	}
	path := filepath.Join(b.TempDir(), "bench.db")
	if *benchKeep != "" {
		path = *benchKeep
		os.Remove(path)
	}
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	fillSummaryRows(b, path, *benchRows)
	b.Logf("generated %d rows in %v", *benchRows, time.Since(start).Round(time.Millisecond))
	return openBench(b, path)
}

func openBench(b *testing.B, path string) *View {
	ro, err := store.OpenReadOnly(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ro.Close() })
	return New(ro.Reader())
}

// BenchmarkSummary times the summary of the default report (24 h: what
// /v1/summary serves, with every breakdown) over -summary.rows calls, all
// inside the window:
//
//	go test -run '^$' -bench Summary -benchtime 3x ./store/view/
func BenchmarkSummary(b *testing.B) {
	v := benchView(b)
	opts := SummaryOptions{Since: benchNow().Add(-benchWindow()), Until: benchNow()}
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		s, err := v.Summary(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		if s.Totals.Calls != int64(*benchRows) {
			b.Fatalf("summary counted %d calls, want %d", s.Totals.Calls, *benchRows)
		}
	}
	// CPU time tells the work apart from the machine's load: wall time
	// rises with other processes, CPU time barely does.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e9, "cpu-s/op")
	b.ReportMetric(float64(v.Workers), "workers")
}

// BenchmarkBreakdown times `report --by agent,trigger` over the same
// calls:
//
//	go test -run '^$' -bench Breakdown -benchtime 3x ./store/view/
func BenchmarkBreakdown(b *testing.B) {
	v := benchView(b)
	opts := BreakdownOptions{Since: benchNow().Add(-benchWindow()), Until: benchNow(), By: []Dim{DimAgent, DimTrigger}}
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		bd, err := v.Breakdown(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		if bd.Totals.Calls != int64(*benchRows) || len(bd.Groups) != 15 {
			b.Fatalf("breakdown counted %d calls in %d groups, want %d in 15", bd.Totals.Calls, len(bd.Groups), *benchRows)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e9, "cpu-s/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

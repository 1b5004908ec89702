package budget

import (
	"context"
	"database/sql"
	"flag"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/store"
)

var (
	benchRows = flag.Int("budget.rows", 1_000_000, "calls BenchmarkRestore generates")
	benchDB   = flag.String("budget.db", "", "write the generated database here and keep it (to time the daemon's start on it); reused when it exists")
	// With -budget.recent the month ends now, so a daemon started on the
	// kept file restores its budgets from it.
	benchRecent = flag.Bool("budget.recent", false, "the generated calls end now instead of on a fixed date")
)

// benchNow is the end of the generated month: the benchmark's clock.
var benchNow = sync.OnceValue(func() time.Time {
	if *benchRecent {
		return time.Now()
	}
	return time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)
})

// fillCalls inserts n calls over the 30 days before benchNow in one
// statement (6 models, 5 agents, 3 channels, 4 triggers, 1,000 sessions,
// one in 7 unpriced), then has the daemon's Open build their rollups, as
// after an upgrade.
func fillCalls(tb testing.TB, path string, n int) {
	tb.Helper()
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	window := int64(30 * 24 * time.Hour / time.Millisecond)
	_, err = raw.Exec(`WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ? - 1)
	INSERT INTO llm_traces (trace_id, created_at, provider, model, prompt_tokens, completion_tokens, cost_usd, cost_source,
		status, agent_id, channel, trigger, cron_job_id, session_key)
	SELECT printf('bench-%012d', i), ? + (i * ?) / ?,
		CASE i % 6 WHEN 0 THEN 'openai' WHEN 1 THEN 'openai' WHEN 2 THEN 'anthropic' WHEN 3 THEN 'anthropic' ELSE 'google' END,
		CASE i % 6 WHEN 0 THEN 'gpt-4o' WHEN 1 THEN 'gpt-4o-mini' WHEN 2 THEN 'claude-opus-4' WHEN 3 THEN 'claude-3-5-haiku'
			WHEN 4 THEN 'gemini-2.5-pro' ELSE 'gemini-2.5-flash' END,
		1000 + i % 5000, 100 + i % 900,
		CASE WHEN i % 7 = 0 THEN NULL ELSE (1000 + i % 5000) * 2.5e-6 END,
		CASE WHEN i % 7 = 0 THEN 'unpriced' ELSE 'table' END, 'ok',
		'agent-' || (i % 5), CASE i % 3 WHEN 0 THEN 'telegram' WHEN 1 THEN 'slack' ELSE 'web' END,
		CASE i % 4 WHEN 0 THEN 'heartbeat' WHEN 1 THEN 'cron' ELSE 'user' END,
		CASE i % 4 WHEN 1 THEN 'job-' || (i % 3) END, 'session-' || (i % 1000)
	FROM c`, n, benchNow().UnixMilli()-window, window-1, n)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := raw.Exec("UPDATE rollup_state SET backfill = 1"); err != nil {
		tb.Fatal(err)
	}
	raw.Close()
	start := time.Now()
	db = store.NewDB(path)
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("generated %d calls; their rollups built in %v", db.BackfilledCalls, time.Since(start).Round(time.Millisecond))
	db.Close()
}

// BenchmarkRestore times Restore on a database of -budget.rows calls over
// a month, with budgets of every scope and window (two of them sessions,
// summed from the stored calls):
//
//	go test -run '^$' -bench Restore -benchtime 10x ./store/budget/
func BenchmarkRestore(b *testing.B) {
	path := *benchDB
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
	}
	if ro, err := store.OpenReadOnly(path); err == nil {
		ro.Close()
	} else {
		fillCalls(b, path, *benchRows)
	}
	db := store.NewDB(path)
	if err := db.Open(); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const specs = "50usd/day; 300usd/week; 900usd/month; agent=agent-1:20usd/day; agent=agent-2:100usd/month;" +
		"channel=telegram:100usd/week; trigger=heartbeat:100usd/month; model=anthropic/claude-opus-4:100usd/month;" +
		"model=openai/gpt-4o:9usd/day; cron=job-1:100usd/month; session=session-7:100usd/week; session=session-700:100usd/month"
	var rows int
	for b.Loop() {
		tr := NewTracker(mustParse(b, specs), []int{80}, nil)
		tr.Now = benchNow
		r, err := tr.Restore(context.Background(), db.Reader())
		if err != nil {
			b.Fatal(err)
		}
		rows = r.RollupRows
	}
	b.ReportMetric(float64(rows), "rollup_rows")
}

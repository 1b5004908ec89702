package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// call is a trace at t with attribution, tokens, a cost (nil: unpriced)
// and a latency.
func call(t time.Time, model, agent, trigger string, prompt int64, cost *float64, latency int64) codec.Event {
	return codec.Event{TraceID: codec.NewTraceID(), Trace: &codec.Trace{CreatedAt: t.UnixMilli(), Provider: "openai",
		Model: model, Status: "ok", PromptTokens: &prompt, CompletionTokens: ptr[int64](1), CostUSD: cost,
		LatencyMS: &latency, TTFTMS: ptr(latency / 2), Attribution: codec.Attribution{AgentID: agent, Trigger: trigger}}}
}

// rollupRows returns the rollups as "day provider model agent channel
// trigger cron: calls failures prompt cost_nanos unpriced" lines.
func rollupRows(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.Reader().Query(`SELECT day || ' ' || provider || ' ' || model || ' ' || agent_id || ' ' || channel || ' ' ||
		trigger || ' ' || cron_job_id || ': ' || calls || ' ' || failures || ' ' || prompt_tokens || ' ' || cost_nanos || ' ' ||
		unpriced_calls FROM llm_rollups ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestRollupsWrittenWithRows(t *testing.T) {
	db := MustOpenDB(t)
	day := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	failed := call(day, "gpt-4o", "main", "user", 100, ptr(0.001), 900)
	failed.Trace.Status = "timeout"
	writeEvents(t, db,
		call(day, "gpt-4o", "main", "user", 1000, ptr(0.0123456789), 1000),
		call(day.Add(time.Hour), "gpt-4o", "main", "user", 2000, ptr(0.02), 2000),
		failed,
		call(day.Add(2*time.Hour), "gpt-4o", "main", "heartbeat", 10, nil, 50),
		call(day.Add(24*time.Hour), "gpt-4o", "", "", 7, ptr(1.0), 5),
		errorEvent(), // not a call
	)
	want := []string{
		"2026-03-05 openai gpt-4o main  heartbeat : 1 0 10 0 1",
		"2026-03-05 openai gpt-4o main  user : 3 1 3100 33345679 0",
		"2026-03-06 openai gpt-4o    : 1 0 7 1000000000 0",
	}
	if got := rollupRows(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("rollups:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The digests hold every latency and ttft once, in its bucket.
	var lat1000, lat2000, ttft500, first, last int64
	err := db.Reader().QueryRow(`SELECT lat_12, lat_14, ttft_10, first_at, last_at FROM llm_rollups WHERE trigger = 'user'`).
		Scan(&lat1000, &lat2000, &ttft500, &first, &last)
	if err != nil {
		t.Fatal(err)
	}
	if LatencyBucket(1000) != 12 || LatencyBucket(2000) != 14 || LatencyBucket(500) != 10 {
		t.Fatal("bucket layout changed: fix the columns this test reads")
	}
	if lat1000 != 2 || lat2000 != 1 || ttft500 != 2 || // 900 and 1000 ms share a bucket, as do 450 and 500
		first != day.UnixMilli() || last != day.Add(time.Hour).UnixMilli() {
		t.Errorf("lat_12 %d lat_14 %d ttft_10 %d first %d last %d", lat1000, lat2000, ttft500, first, last)
	}
}

// TestRollupsCommitWithRows: a batch that fails (two rows with one
// trace_id) is rolled back, rollups included, and written again row by
// row: the rollups count exactly the rows that were stored.
func TestRollupsCommitWithRows(t *testing.T) {
	db := MustOpenDB(t)
	day := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	a, b := call(day, "m", "main", "user", 1, ptr(0.5), 10), call(day, "m", "main", "user", 1, ptr(0.5), 10)
	dup := b
	dup.Trace = &codec.Trace{}
	*dup.Trace = *b.Trace
	writeEvents(t, db, a, b, dup, call(day, "m", "main", "user", 1, ptr(0.5), 10))
	var rows, calls, nanos int64
	if err := db.Reader().QueryRow("SELECT count(*) FROM llm_traces").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := db.Reader().QueryRow("SELECT sum(calls), sum(cost_nanos) FROM llm_rollups").Scan(&calls, &nanos); err != nil {
		t.Fatal(err)
	}
	if rows != 3 || calls != 3 || nanos != 1_500_000_000 {
		t.Errorf("%d rows stored, rollups count %d calls and %d nano-dollars; want 3, 3, 1.5e9", rows, calls, nanos)
	}
}

func TestRollupsZone(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata") // +05:30
	if err != nil {
		t.Skip(err)
	}
	db := NewDB(filepath.Join(t.TempDir(), "trace.db"))
	db.Location = kolkata
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	writeEvents(t, db,
		call(time.Date(2026, 3, 5, 18, 29, 0, 0, time.UTC), "m", "", "", 1, nil, 1), // 23:59 in Kolkata
		call(time.Date(2026, 3, 5, 18, 30, 0, 0, time.UTC), "m", "", "", 1, nil, 1), // 00:00 on the 6th
	)
	want := []string{"2026-03-05 openai m    : 1 0 1 0 1", "2026-03-06 openai m    : 1 0 1 0 1"}
	if got := rollupRows(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("rollups %q, want %q", got, want)
	}
	var zone string
	if err := db.Reader().QueryRow("SELECT zone FROM rollup_state").Scan(&zone); err != nil || zone != "Asia/Kolkata" {
		t.Errorf("zone %q %v", zone, err)
	}
	db.Close()
	// Reopened in another zone: recorded, and the change is told.
	db2 := NewDB(db.Path)
	if err := db2.Open(); err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if db2.PreviousZone != "Asia/Kolkata" {
		t.Errorf("PreviousZone %q", db2.PreviousZone)
	}
}

// TestRollupsKeysPerDay: names come from the network, so a day's rollup
// rows are bounded; groups past the bound count in the overflow row, and
// the bound holds across a restart (the keys stored are loaded).
func TestRollupsKeysPerDay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.db")
	day := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	open := func() *DB {
		db := NewDB(path)
		db.RollupKeysPerDay = 2
		if err := db.Open(); err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	writeEvents(t, db, call(day, "m", "a1", "", 1, nil, 1), call(day, "m", "a2", "", 1, nil, 1),
		call(day, "m", "a3", "", 1, nil, 1), call(day.Add(24*time.Hour), "m", "a4", "", 1, nil, 1))
	db.Close()
	db = open()
	defer db.Close()
	writeEvents(t, db, call(day, "m", "a1", "", 1, nil, 1), call(day, "m", "a5", "", 1, nil, 1))
	want := []string{
		"2026-03-05 (other) (other) (other) (other) (other) (other): 2 0 2 0 2",
		"2026-03-05 openai m a1   : 2 0 2 0 2",
		"2026-03-05 openai m a2   : 1 0 1 0 1",
		"2026-03-06 openai m a4   : 1 0 1 0 1",
	}
	if got := rollupRows(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("rollups:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRawHorizon: every deleted call moves the horizon past which raw rows
// are all there, whoever deletes it; rollups keep counting it.
func TestRawHorizon(t *testing.T) {
	db := MustOpenDB(t)
	horizon := func() sql.NullInt64 {
		var h sql.NullInt64
		if err := db.Reader().QueryRow("SELECT raw_horizon FROM rollup_state").Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	old := testNow.Add(-5 * 24 * time.Hour)
	writeEvents(t, db, call(old, "m", "", "", 1, nil, 1), call(old.Add(time.Hour), "m", "", "", 1, nil, 1),
		call(testNow.Add(-time.Hour), "m", "", "", 1, nil, 1))
	if h := horizon(); h.Valid {
		t.Fatalf("horizon %v before any delete", h)
	}
	c := newTestCleaner(db)
	c.PushEnabled = false
	if _, err := c.CleanOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := horizon(); !h.Valid || h.Int64 != old.Add(time.Hour).UnixMilli() {
		t.Errorf("horizon %v, want the newest deleted call %d", h, old.Add(time.Hour).UnixMilli())
	}
	var calls int64
	if err := db.Reader().QueryRow("SELECT sum(calls) FROM llm_rollups").Scan(&calls); err != nil || calls != 3 {
		t.Errorf("rollups count %d calls, %v; want 3", calls, err)
	}
	if n := countRows(t, db, "llm_traces"); n != 1 {
		t.Errorf("%d calls left, want 1", n)
	}
}

func TestRollupRetention(t *testing.T) {
	db := MustOpenDB(t)
	writeEvents(t, db,
		call(testNow.Add(-402*24*time.Hour), "m", "", "", 1, nil, 1),
		call(testNow.Add(-401*24*time.Hour), "m", "", "", 1, nil, 1),
		call(testNow.Add(-400*24*time.Hour), "m", "", "", 1, nil, 1), // the day holding the cutoff: kept
		call(testNow.Add(-time.Hour), "m", "", "", 1, nil, 1))
	c := newTestCleaner(db)
	c.Retention = 10000 * 24 * time.Hour // raw rows stay: this is about rollups
	res, err := c.CleanOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2024-04-27 openai m    : 1 0 1 0 1", "2025-06-01 openai m    : 1 0 1 0 1"}
	if got := rollupRows(t, db); !reflect.DeepEqual(got, want) || res.Expired[codec.RollupsTable] != 2 {
		t.Errorf("rollups %q (expired %d), want %q (2)", got, res.Expired[codec.RollupsTable], want)
	}
}

// A failed call that reported no usage is neither priced nor unpriced: a
// budget must not read as a lower bound because a provider was down.
func TestRollupsNoUsageIsNotUnpriced(t *testing.T) {
	db := MustOpenDB(t)
	day := time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	down := call(day, "gpt-4o", "main", "user", 0, nil, 30)
	down.Trace.Status, down.Trace.PromptTokens, down.Trace.CompletionTokens = "error", nil, nil
	down.Trace.CostSource = codec.CostNoUsage
	unpriced := call(day, "gpt-4o", "main", "user", 5, nil, 30)
	unpriced.Trace.CostSource = codec.CostUnpriced
	writeEvents(t, db, down, unpriced)
	want := []string{"2026-03-05 openai gpt-4o main  user : 2 1 5 0 1"}
	if got := rollupRows(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("rollups:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

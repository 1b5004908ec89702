package store

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// seedRow is one row to store: its table, its age at testNow and whether
// the push loop has synced it.
type seedRow struct {
	table  string
	age    time.Duration
	synced bool
}

func eventFor(table string) codec.Event {
	switch table {
	case "llm_traces":
		return traceEvent("m")
	case "error_events":
		return errorEvent()
	case "system_metrics":
		return codec.Event{TraceID: codec.NewTraceID(), Metric: &codec.Metric{CPUPercent: ptr(1.5)}}
	default:
		return codec.Event{TraceID: codec.NewTraceID(), Log: &codec.Log{Kind: codec.KindOther, Message: "x"}}
	}
}

// seed stores rows through a Writer, then sets their age and sync state
// directly, as the push loop would; it returns their trace IDs in order.
func seed(t *testing.T, db *DB, rows []seedRow) []string {
	t.Helper()
	in := make(chan codec.Event, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		ev := eventFor(r.table)
		ids[i] = ev.TraceID
		in <- ev
	}
	close(in)
	if err := NewWriter(db, in).Run(); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		created := testNow.Add(-r.age).UnixMilli()
		synced, pushedAt := 0, any(nil)
		if r.synced {
			synced, pushedAt = 1, created+1000
		}
		if _, err := db.write.Exec("UPDATE "+r.table+" SET created_at = ?, synced = ?, pushed_at = ? WHERE trace_id = ?",
			created, synced, pushedAt, ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// remaining lists the trace IDs left in the data tables, sorted.
func remaining(t *testing.T, db *DB) []string {
	t.Helper()
	var ids []string
	for _, table := range DataTables {
		rows, err := db.Reader().Query("SELECT trace_id FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(ids)
	return ids
}

func countRows(t testing.TB, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// newTestCleaner returns a Cleaner on testNow with the loop and disk
// pressure off.
func newTestCleaner(db *DB) *Cleaner {
	c := NewCleaner(db)
	c.Interval, c.HighWatermark = 0, 0
	c.Now = func() time.Time { return testNow }
	return c
}

func pick(ids []string, keep func(i int) bool) []string {
	var out []string
	for i, id := range ids {
		if keep(i) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func TestCleanRetention(t *testing.T) {
	day := 24 * time.Hour
	var rows []seedRow
	for _, table := range DataTables {
		rows = append(rows,
			seedRow{table, 4 * day, true},  // old, synced
			seedRow{table, 4 * day, false}, // old, never pushed
			seedRow{table, 2 * day, true},  // young
			seedRow{table, time.Hour, false})
	}
	for _, tc := range []struct {
		name        string
		pushEnabled bool
		deleted     func(r seedRow) bool
	}{
		{"push enabled keeps unsynced", true, func(r seedRow) bool { return r.age > 3*day && r.synced }},
		{"push disabled deletes all old", false, func(r seedRow) bool { return r.age > 3*day }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := MustOpenDB(t)
			ids := seed(t, db, rows)
			c := newTestCleaner(db)
			c.PushEnabled = tc.pushEnabled
			res, err := c.CleanOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := pick(ids, func(i int) bool { return !tc.deleted(rows[i]) })
			if got := remaining(t, db); !slices.Equal(got, want) {
				t.Errorf("remaining = %v, want %v", got, want)
			}
			for _, table := range DataTables {
				if got, want := res.Expired[table], int64((len(ids)-len(want))/len(DataTables)); got != want {
					t.Errorf("expired %s = %d, want %d", table, got, want)
				}
			}
			// Old unsynced rows deleted for age are retention, not drops.
			if got := c.Evicted.Load(); got != 0 {
				t.Errorf("evicted = %d, want 0", got)
			}
			if got, want := c.Expired.Load(), int64(len(ids)-len(want)); got != want {
				t.Errorf("Expired counter = %d, want %d", got, want)
			}
		})
	}
}

func TestCleanRetentionPushLog(t *testing.T) {
	db := MustOpenDB(t)
	for _, age := range []time.Duration{100 * time.Hour, 73 * time.Hour, 71 * time.Hour, time.Minute} {
		if _, err := db.write.Exec("INSERT INTO push_log (created_at, status) VALUES (?, 'ok')",
			testNow.Add(-age).UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	res, err := newTestCleaner(db).CleanOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Expired["push_log"]; got != 2 {
		t.Errorf("expired push_log = %d, want 2", got)
	}
	if got := countRows(t, db, "push_log"); got != 2 {
		t.Errorf("push_log rows left = %d, want 2", got)
	}
}

// The retention delete goes in chunks; more rows than one chunk must all go.
func TestCleanRetentionChunks(t *testing.T) {
	db := MustOpenDB(t)
	rows := make([]seedRow, 23)
	for i := range rows {
		rows[i] = seedRow{"log_events", 5 * 24 * time.Hour, true}
	}
	seed(t, db, rows)
	c := newTestCleaner(db)
	c.DeleteChunk = 5
	res, err := c.CleanOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Expired["log_events"]; got != 23 {
		t.Errorf("expired = %d, want 23", got)
	}
}

// percentUsed is a volume of 1.6 TiB with p percent in use: room enough
// that the space left never sizes the Cleaner's steps.
func percentUsed(p float64) Volume {
	const unit = 1 << 34 // a hundredth of the volume: whole percents are exact
	return Volume{Total: 100 * unit, Free: int64((100 - p) * unit)}
}

// usageByRows reports disk usage as a function of the data rows left, the
// way a real volume falls as rows are deleted and vacuumed.
func usageByRows(t *testing.T, db *DB, f func(rows int) float64) func() (Volume, error) {
	return func() (Volume, error) {
		n := 0
		for _, table := range DataTables {
			n += countRows(t, db, table)
		}
		return percentUsed(f(n)), nil
	}
}

func TestCleanDiskPressure(t *testing.T) {
	// 20 synced and 20 unsynced rows, all young enough for retention, spread
	// over the tables with ages that interleave across them: row i is
	// i minutes old, so the highest index is the oldest.
	var rows []seedRow
	for i := range 40 {
		rows = append(rows, seedRow{DataTables[i%len(DataTables)], time.Duration(i) * time.Minute, i%2 == 0})
	}
	oldestOf := func(synced bool, n int) map[int]bool {
		out := map[int]bool{}
		for i := len(rows) - 1; i >= 0 && len(out) < n; i-- {
			if rows[i].synced == synced {
				out[i] = true
			}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		usage    func(rows int) float64
		hyst     float64
		relieved int
		evicted  int
	}{
		{"below watermark deletes nothing", func(int) float64 { return 80 }, 0, 0, 0},
		// 50+n% is above 80 until n <= 30: chunks of 3 take 12 synced rows.
		{"synced rows suffice", func(n int) float64 { return 50 + float64(n) }, 0, 12, 0},
		// Down to 75 (5 points below): n <= 25, 15 rows.
		{"relief goes below the watermark", func(n int) float64 { return 50 + float64(n) }, 5, 15, 0},
		// 50+2n% needs n <= 15: all 20 synced go, then 6 unsynced.
		{"unsynced only after synced", func(n int) float64 { return 50 + 2*float64(n) }, 0, 20, 6},
		{"never relieved deletes all", func(int) float64 { return 99 }, 0, 20, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := MustOpenDB(t)
			ids := seed(t, db, rows)
			c := newTestCleaner(db)
			c.HighWatermark, c.Hysteresis, c.DeleteChunk = 80, tc.hyst, 3
			c.Volume = usageByRows(t, db, tc.usage)
			res, err := c.CleanOnce(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := Sum(res.Relieved); got != int64(tc.relieved) {
				t.Errorf("relieved = %d, want %d", got, tc.relieved)
			}
			if got, want := Sum(res.Evicted), int64(tc.evicted); got != want || c.Evicted.Load() != want {
				t.Errorf("evicted = %d (counter %d), want %d", got, c.Evicted.Load(), want)
			}
			gone := oldestOf(true, tc.relieved)
			for i := range oldestOf(false, tc.evicted) {
				gone[i] = true
			}
			want := pick(ids, func(i int) bool { return !gone[i] })
			if got := remaining(t, db); !slices.Equal(got, want) {
				t.Errorf("remaining %d rows, want the %d youngest: %v, want %v", len(got), len(want), got, want)
			}
		})
	}
}

func TestCleanDiskUsageError(t *testing.T) {
	db := MustOpenDB(t)
	seed(t, db, []seedRow{{"llm_traces", time.Hour, false}})
	c := newTestCleaner(db)
	c.HighWatermark = 80
	c.Volume = func() (Volume, error) { return Volume{}, errors.New("statfs: boom") }
	if _, err := c.CleanOnce(context.Background()); err == nil {
		t.Fatal("CleanOnce hid the disk usage error")
	}
	if got := countRows(t, db, "llm_traces"); got != 1 {
		t.Errorf("rows left = %d, want 1", got)
	}
	if c.Errors.Load() != 1 {
		t.Errorf("errors = %d, want 1", c.Errors.Load())
	}
}

// bulkInsert writes n small log_events rows in one transaction, much
// faster than the Writer, for tests that need many pages.
func bulkInsert(tb testing.TB, db *DB, n int, createdAt int64, synced int) {
	tb.Helper()
	tx, err := db.write.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	st, err := tx.Prepare(`INSERT INTO log_events (trace_id, created_at, kind, message, synced) VALUES (?, ?, 'other', ?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	for range n {
		if _, err := st.Exec(codec.NewTraceID(), createdAt, "gateway said something worth keeping", synced); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

func freelistCount(t *testing.T, db *DB) int64 {
	t.Helper()
	v, err := db.Pragma(context.Background(), "freelist_count")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

func TestCleanVacuumFreesPages(t *testing.T) {
	db := MustOpenDB(t)
	bulkInsert(t, db, 20000, testNow.UnixMilli(), 1)
	ctx := context.Background()
	if _, err := db.WAL.Checkpoint(ctx, Truncate); err != nil {
		t.Fatal(err)
	}
	full, _ := db.Sizes()
	if _, err := db.write.Exec("DELETE FROM log_events"); err != nil {
		t.Fatal(err)
	}
	free := freelistCount(t, db)
	if free < 100 {
		t.Fatalf("freelist after delete = %d pages; the test needs more", free)
	}
	c := newTestCleaner(db)
	c.VacuumPages = 50
	res, err := c.CleanOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := freelistCount(t, db); got != 0 {
		t.Errorf("freelist after clean = %d, want 0", got)
	}
	if res.PagesFreed != free || c.PagesFreed.Load() != free {
		t.Errorf("pages freed = %d (counter %d), want %d", res.PagesFreed, c.PagesFreed.Load(), free)
	}
	// The file shrinks once the vacuumed pages are checkpointed.
	if _, err := db.WAL.Checkpoint(ctx, Truncate); err != nil {
		t.Fatal(err)
	}
	ps, _ := db.Pragma(ctx, "page_size")
	pageSize, _ := strconv.ParseInt(ps, 10, 64)
	if after, _ := db.Sizes(); after > full-free*pageSize {
		t.Errorf("db file %d bytes after vacuum and checkpoint, was %d with %d pages to free", after, full, free)
	}
}

func TestCleanerRun(t *testing.T) {
	db := MustOpenDB(t)
	c := newTestCleaner(db)
	c.Run(context.Background()) // Interval 0: returns at once
	if c.Passes.Load() != 0 {
		t.Fatalf("Run with Interval 0 cleaned %d times", c.Passes.Load())
	}
	c.Interval = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	poll.Until(t, "two passes", 10*time.Second, func() bool { return c.Passes.Load() >= 2 })
	cancel()
	<-done
}

var million = flag.Bool("million", false, "run TestCleanupMillion (1,000,000 rows, tens of seconds)")

// millionSQL inserts a small row into each data table, with only the
// columns that are NOT NULL.
var millionSQL = map[string]string{
	"llm_traces":     `INSERT INTO llm_traces (trace_id, created_at, provider, model, synced) VALUES (?, ?, 'openai', 'gpt-4o', 1)`,
	"error_events":   `INSERT INTO error_events (trace_id, created_at, error_type, message, synced) VALUES (?, ?, 'crash', 'boom', 1)`,
	"system_metrics": `INSERT INTO system_metrics (trace_id, created_at, cpu_pct, synced) VALUES (?, ?, 12.5, 1)`,
	"log_events":     `INSERT INTO log_events (trace_id, created_at, kind, message, synced) VALUES (?, ?, 'other', 'gateway line', 1)`,
}

// insertSyncedOld writes n rows per table, all synced and 30 days old, in
// one transaction.
func insertSyncedOld(tb testing.TB, db *DB, n int) {
	tb.Helper()
	tx, err := db.write.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	old := testNow.Add(-30 * 24 * time.Hour).UnixMilli()
	for _, table := range DataTables {
		st, err := tx.Prepare(millionSQL[table])
		if err != nil {
			tb.Fatal(err)
		}
		for i := range n {
			if _, err := st.Exec(codec.NewTraceID(), old+int64(i)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// probeWrites writes through the writer connection, as ingest would, until
// stop is closed, and returns the longest a write waited.
func probeWrites(db *DB, stop <-chan struct{}) (worst time.Duration, n int) {
	for {
		select {
		case <-stop:
			return worst, n
		default:
		}
		start := time.Now()
		db.write.Exec(`INSERT INTO log_cursors (key, file, dev, inode, offset, updated_at) VALUES ('probe', 'f', 0, 0, ?, 0)
			ON CONFLICT (key) DO UPDATE SET offset = excluded.offset`, n)
		worst = max(worst, time.Since(start))
		n++
	}
}

// TestCleanupMillion times cleanup of 1,000,000 old synced rows, by
// retention and by disk pressure, and the longest a concurrent write waited
// for the writer connection meanwhile:
//
//	go test ./store/ -run TestCleanupMillion -v -million
func TestCleanupMillion(t *testing.T) {
	if !*million {
		t.Skip("run with -million")
	}
	t.Run("retention", func(t *testing.T) {
		cleanMillion(t, func(c *Cleaner) {})
	})
	t.Run("disk pressure", func(t *testing.T) {
		cleanMillion(t, func(c *Cleaner) {
			c.Retention, c.HighWatermark = 0, 80
			c.Volume = func() (Volume, error) { return percentUsed(99), nil }
		})
	})
}

func cleanMillion(t *testing.T, configure func(c *Cleaner)) {
	db := MustOpenDB(t)
	start := time.Now()
	insertSyncedOld(t, db, 250_000)
	if _, err := db.WAL.Checkpoint(context.Background(), Truncate); err != nil {
		t.Fatal(err)
	}
	size, _ := db.Sizes()
	t.Logf("setup: 1,000,000 rows, %d MB, in %v", size>>20, time.Since(start).Round(time.Millisecond))

	c := newTestCleaner(db)
	configure(c)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var worst time.Duration
	var probes int
	wg.Go(func() { worst, probes = probeWrites(db, stop) })
	res, err := c.CleanOnce(context.Background())
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if got := Sum(res.Expired) + Sum(res.Relieved); got != 1_000_000 {
		t.Fatalf("deleted %d rows, want 1000000", got)
	}
	if _, err := db.WAL.Checkpoint(context.Background(), Truncate); err != nil {
		t.Fatal(err)
	}
	after, _ := db.Sizes()
	t.Logf("%s", fmt.Sprintf("CleanOnce: 1000000 rows in %v (%.0f rows/s), %d pages freed, file %d MB -> %d KB; "+
		"%d concurrent writes, longest wait %v",
		res.Duration.Round(time.Millisecond), 1e6/res.Duration.Seconds(),
		res.PagesFreed, size>>20, after>>10, probes, worst.Round(time.Millisecond)))
}

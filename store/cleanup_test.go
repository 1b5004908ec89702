package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
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

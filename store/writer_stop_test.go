package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// lockDB takes SQLite's write lock from a connection of its own, as
// another process would; unlock releases it.
func lockDB(t *testing.T, db *DB) (unlock func()) {
	t.Helper()
	other, err := sql.Open("sqlite", "file:"+db.Path+"?_txlock=immediate&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	return func() { tx.Rollback(); other.Close() }
}

// alter changes the schema from a connection of its own, as an operator
// (or another binary) might.
func alter(t *testing.T, db *DB, stmt string) {
	t.Helper()
	other, err := sql.Open("sqlite", "file:"+db.Path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec(stmt); err != nil {
		t.Fatal(err)
	}
}

// Close interrupts a writer that cannot get the database (another process
// holds the write lock) once its context ends: the loop returns, and every
// event the writer was given is counted as a shutdown drop, none lost.
func TestWriterCloseCountsShutdown(t *testing.T) {
	db := openDB(t, 0)
	unlock := lockDB(t, db)
	defer unlock()
	const n = 30
	in := make(chan codec.Event, n)
	w := NewWriter(db, in)
	w.BatchSize = 10
	if err := w.Open(); err != nil {
		t.Fatal(err)
	}
	for range n {
		in <- traceEvent("m")
	}
	close(in)
	poll.Until(t, "writer blocked on the lock", 10*time.Second, func() bool { return len(in) < n })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); !errors.Is(err, ErrDrainTimeout) {
		t.Fatalf("Close() = %v, want ErrDrainTimeout", err)
	}
	if got, want := w.Counters[codec.HTTP].Dropped[codec.DropShutdown].Load(), int64(n); got != want {
		t.Errorf("shutdown drops = %d, want %d (written %d, write errors %d)", got, want,
			w.Counters[codec.HTTP].Written.Load(), w.Counters[codec.HTTP].Dropped[codec.DropWriteError].Load())
	}
}

// TestWriterCloseDrains: Close returns once what the channel held is
// written, and a writer never opened closes at once.
func TestWriterCloseDrains(t *testing.T) {
	db := openDB(t, 0)
	if err := NewWriter(db, make(chan codec.Event)).Close(context.Background()); err != nil {
		t.Fatalf("Close() of a writer never opened = %v", err)
	}
	in := make(chan codec.Event, 10)
	w := NewWriter(db, in)
	if err := w.Open(); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		in <- traceEvent("m")
	}
	close(in)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := w.Counters[codec.HTTP].Written.Load(); got != 10 {
		t.Errorf("written = %d, want 10", got)
	}
}

// TestWriterAccounting: per transport, every event the writer was given
// is written or dropped with its reason, exactly once: given = written +
// Σ dropped, through a refused row and a stop.
func TestWriterAccounting(t *testing.T) {
	db := openDB(t, 0)
	if _, err := db.write.Exec(`CREATE TRIGGER poison BEFORE INSERT ON llm_traces
		WHEN NEW.model = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`); err != nil {
		t.Fatal(err)
	}
	in := make(chan codec.Event, 100)
	w := NewWriter(db, in)
	w.BatchSize = 4
	if err := w.Open(); err != nil {
		t.Fatal(err)
	}
	var given [codec.NumTransports]int64
	give := func(ev codec.Event) { given[ev.Transport]++; in <- ev }
	for i := range 9 {
		ev := traceEvent("m")
		if i%4 == 1 {
			ev.Trace.Model = "poison"
		}
		give(ev)
		give(errorEvent())
	}
	poll.Until(t, "first events handled", 10*time.Second, func() bool {
		c := w.Counters[codec.UDP].Load()
		return c.Written+c.DroppedTotal() == given[codec.UDP]
	})
	unlock := lockDB(t, db) // what comes next waits, then is stopped
	for range 5 {
		give(traceEvent("late"))
	}
	close(in)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := w.Close(ctx)
	unlock()
	if !errors.Is(err, ErrDrainTimeout) {
		t.Fatalf("Close() = %v, want ErrDrainTimeout", err)
	}
	for tr := range codec.NumTransports {
		c := w.Counters[tr].Load()
		if c.Written+c.DroppedTotal() != given[tr] || c.Received != 0 || c.Units != 0 {
			t.Errorf("%v: given %d, counts %+v: want written + Σ dropped = given", tr, given[tr], c)
		}
	}
	http := w.Counters[codec.HTTP].Load()
	if http.Dropped[codec.DropWriteError] != 2 || http.Dropped[codec.DropShutdown] != 5 || http.Written != 7 {
		t.Errorf("http: %+v, want 7 written, 2 write_error, 5 shutdown", http)
	}
}

// A schema the writer cannot write (a file another binary changed) stops
// it at Open, before any event is taken.
func TestWriterOpenFailsOnUnexpectedSchema(t *testing.T) {
	db := openDB(t, 0)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	alter(t, db, "ALTER TABLE llm_traces RENAME COLUMN ttft_ms TO ttfb_ms")
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	err := NewWriter(db, make(chan codec.Event)).Open()
	if err == nil || !strings.Contains(err.Error(), "prepare llm_traces insert") {
		t.Fatalf("Open() = %v, want a prepare error naming llm_traces", err)
	}
}

// A writer that stops being able to write counts every event it gives up
// on, reports the failure in Err, and clears it once writes succeed again.
func TestWriterErrWhileFailing(t *testing.T) {
	db := openDB(t, 0)
	in := make(chan codec.Event, 10)
	w := NewWriter(db, in)
	w.BatchSize = 1
	wait := startWriter(t, w)
	in <- traceEvent("before")
	poll.Until(t, "first row", 10*time.Second, func() bool { return w.Counters[codec.HTTP].Written.Load() == 1 })
	if err := w.Err(); err != nil {
		t.Fatalf("Err() = %v while writing", err)
	}
	alter(t, db, "ALTER TABLE llm_traces RENAME COLUMN ttft_ms TO ttfb_ms")
	in <- traceEvent("lost1")
	in <- traceEvent("lost2")
	poll.Until(t, "two write errors", 10*time.Second, func() bool { return w.Counters[codec.HTTP].Dropped[codec.DropWriteError].Load() == 2 })
	if err := w.Err(); err == nil || !strings.Contains(err.Error(), "ttft_ms") {
		t.Errorf("Err() = %v, want the insert's error", err)
	}
	alter(t, db, "ALTER TABLE llm_traces RENAME COLUMN ttfb_ms TO ttft_ms")
	in <- traceEvent("after")
	poll.Until(t, "row after repair", 10*time.Second, func() bool { return w.Counters[codec.HTTP].Written.Load() == 2 })
	if err := w.Err(); err != nil {
		t.Errorf("Err() = %v after a commit", err)
	}
	close(in)
	wait()
}

// A write interrupted by its context (here MarkSynced timing out behind
// another process's lock) makes the driver discard the write connection.
// The writer's statements died with it: the writer must prepare anew on the
// next connection without finalizing the dead ones, which crashed the
// driver (nil pointer in sqlite3_finalize).
func TestWriterSurvivesReplacedConnection(t *testing.T) {
	db := openDB(t, 0)
	in := make(chan codec.Event, 10)
	w := NewWriter(db, in)
	wait := startWriter(t, w)
	in <- traceEvent("before")
	poll.Until(t, "first row", 10*time.Second, func() bool { return w.Counters[codec.HTTP].Written.Load() == 1 })

	unlock := lockDB(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := db.MarkSynced(ctx, "llm_traces", []int64{1}, 1)
	cancel()
	unlock()
	if err == nil {
		t.Fatal("MarkSynced behind another process's lock succeeded")
	}
	in <- traceEvent("after")
	close(in)
	wait()
	if got := w.Counters[codec.HTTP].Written.Load(); got != 2 {
		t.Errorf("written = %d, want 2 (write errors %d)", got, w.Counters[codec.HTTP].Dropped[codec.DropWriteError].Load())
	}
}

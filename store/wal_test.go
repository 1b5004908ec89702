package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// A reader holding a snapshot keeps checkpoints from resetting the WAL, so
// it grows past the bound; once the reader is gone, CheckpointOnce must
// bring it back to zero.
func TestCheckpointOnceShrinksWAL(t *testing.T) {
	db := openDB(t, 0) // the test drives the monitor; its loop would race on MaxBytes
	ctx := context.Background()
	const maxBytes = 1 << 20
	rtx, err := db.Reader().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := rtx.QueryRow("SELECT count(*) FROM log_events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	for {
		if _, wal := db.Sizes(); wal > maxBytes {
			break
		}
		bulkInsert(t, db, 2000, testNow.UnixMilli(), 0)
	}
	if err := rtx.Rollback(); err != nil {
		t.Fatal(err)
	}

	m := db.WAL
	m.MaxBytes = maxBytes
	before := m.Checkpoints.Load()
	if err := m.CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, wal := db.Sizes(); wal != 0 {
		t.Errorf("wal = %d bytes after checkpoint, want 0", wal)
	}
	if got := m.Checkpoints.Load() - before; got != 2 || m.Truncations.Load() != 1 || m.Busy.Load() != 0 {
		t.Errorf("checkpoints=%d truncations=%d busy=%d, want 2 (RESTART, TRUNCATE) 1 0",
			got, m.Truncations.Load(), m.Busy.Load())
	}
	if m.LastDuration.Load() <= 0 {
		t.Error("last duration not recorded")
	}
	if got := countRows(t, db, "log_events"); got < 2000 {
		t.Errorf("rows after checkpoint = %d", got)
	}
}

// Below the bound only a PASSIVE checkpoint runs, and only when the WAL
// changed: it never waits for readers and leaves the WAL file for reuse.
func TestCheckpointOncePassive(t *testing.T) {
	db := openDB(t, 0)
	bulkInsert(t, db, 10, testNow.UnixMilli(), 0)
	m := db.WAL
	for range 2 { // the second finds the WAL unchanged
		if err := m.CheckpointOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if m.Checkpoints.Load() != 1 || m.Truncations.Load() != 0 {
		t.Errorf("checkpoints=%d truncations=%d, want 1 0", m.Checkpoints.Load(), m.Truncations.Load())
	}
	if _, wal := db.Sizes(); wal == 0 {
		t.Error("PASSIVE checkpoint truncated the WAL")
	}
}

// openDB opens a fresh database whose WAL monitor looks every interval
// (0: no loop; checkpoints only when a test asks).
func openDB(t *testing.T, interval time.Duration) *DB {
	db := NewDB(filepath.Join(t.TempDir(), "trace.db"))
	db.WAL.Interval = interval
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// With auto-checkpoint off on the writer, the monitor alone must keep the
// WAL bounded while the writer never pauses: the WAL has to start over,
// not merely be copied.
func TestWALMonitorBoundsWAL(t *testing.T) {
	db := openDB(t, 5*time.Millisecond)
	in := make(chan codec.Event, 64)
	w := NewWriter(db, in)
	done := make(chan error)
	go func() { done <- w.Run() }()
	text := strings.Repeat("x", 2000)
	var peak int64
	for i := range 20000 {
		ev := traceEvent("m")
		ev.Trace.InputText = &text
		in <- ev
		if i%500 == 0 {
			_, wal := db.Sizes()
			peak = max(peak, wal)
		}
	}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if db.WAL.Checkpoints.Load() == 0 {
		t.Error("no checkpoint ran")
	}
	// Without a restart the WAL holds every row: about 100 MB. The bound
	// is loose because a loaded machine delays the monitor's ticks.
	if peak > 48<<20 {
		t.Errorf("WAL peaked at %d bytes, want it bounded", peak)
	}
	if got := countRows(t, db, "llm_traces"); got != 20000 {
		t.Errorf("rows = %d, want 20000", got)
	}
	if n := db.WAL.Errors.Load(); n != 0 {
		t.Errorf("checkpoint errors = %d", n)
	}
}

// After a RESTART that a reader kept busy (truncate sets truncateNext; a
// real busy RESTART takes busy_timeout, 10 s, so the test sets it), the
// monitor must not try again at its next look, since each try holds the
// writer for busy_timeout: it checkpoints PASSIVE until TruncateRetry.
func TestWALMonitorSpacesBusyTruncations(t *testing.T) {
	db := openDB(t, 0)
	ctx := context.Background()
	bulkInsert(t, db, 10, testNow.UnixMilli(), 0)
	m := db.WAL
	m.MaxBytes = 1 // every WAL is over the bound
	m.TruncateRetry = time.Hour
	if err := m.CheckpointOnce(ctx); err != nil || m.Truncations.Load() != 1 {
		t.Fatalf("first truncation: %v, truncations %d", err, m.Truncations.Load())
	}
	bulkInsert(t, db, 10, testNow.UnixMilli(), 0)
	m.truncateNext = time.Now().Add(time.Hour) // as after a busy RESTART
	before := m.Checkpoints.Load()
	if err := m.CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := m.Checkpoints.Load() - before; got != 1 || m.Truncations.Load() != 1 {
		t.Errorf("within TruncateRetry: %d checkpoints, %d truncations; want 1 PASSIVE and still 1",
			got, m.Truncations.Load())
	}
}

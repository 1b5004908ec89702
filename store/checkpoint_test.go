package store

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// With auto-checkpoint off on the writer, the checkpointer alone must keep
// the WAL bounded while the writer never pauses: the WAL has to start
// over, not merely be copied.
func TestCheckpointerBoundsWAL(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "trace.db"))
	db.CheckpointInterval = 5 * time.Millisecond
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
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
	if db.Checkpoints.Passive.Load() == 0 {
		t.Error("no checkpoint ran")
	}
	// Without a restart the WAL holds every row: about 100 MB. The bound
	// is loose because a loaded machine delays the checkpointer's ticks.
	if peak > 48<<20 {
		t.Errorf("WAL peaked at %d bytes, want it bounded", peak)
	}
	if got := countRows(t, db, "llm_traces"); got != 20000 {
		t.Errorf("rows = %d, want 20000", got)
	}
	if n := db.Checkpoints.Errors.Load(); n != 0 {
		t.Errorf("checkpoint errors = %d", n)
	}
}

// A checkpoint waits for the writer's transaction to end: the two take
// turns, so a checkpoint never holds the second core while the writer
// holds the first (see checkpoint.go).
func TestCheckpointTakesTurnsWithWriter(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "trace.db"))
	db.CheckpointInterval = 0
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.writeMu.Lock() // a writer transaction in progress
	done := make(chan error)
	go func() { done <- db.CheckpointOnce(t.Context()) }()
	select {
	case err := <-done:
		t.Fatalf("checkpoint ran during a writer transaction (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	db.writeMu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := db.Checkpoints.Passive.Load(); n != 1 {
		t.Errorf("checkpoints = %d, want 1", n)
	}
}

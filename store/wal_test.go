package store

import (
	"context"
	"testing"
	"time"
)

// A reader holding a snapshot keeps auto-checkpoint from resetting the WAL,
// so it grows past the threshold; once the reader is gone, CheckpointOnce
// must bring it back to zero.
func TestCheckpointOnceShrinksWAL(t *testing.T) {
	db := MustOpenDB(t)
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

	k := NewWALKeeper(db)
	k.Interval, k.MaxBytes = 0, maxBytes
	if err := k.CheckpointOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if _, wal := db.Sizes(); wal != 0 {
		t.Errorf("wal = %d bytes after checkpoint, want 0", wal)
	}
	if k.Restart.Load() != 1 || k.Truncate.Load() != 1 || k.Passive.Load() != 0 || k.Busy.Load() != 0 {
		t.Errorf("checkpoints passive=%d restart=%d truncate=%d busy=%d, want 0 1 1 0",
			k.Passive.Load(), k.Restart.Load(), k.Truncate.Load(), k.Busy.Load())
	}
	if got := countRows(t, db, "log_events"); got < 2000 {
		t.Errorf("rows after checkpoint = %d", got)
	}
}

// Below the threshold only a PASSIVE checkpoint runs: it never waits for
// readers and leaves the WAL file in place for reuse.
func TestCheckpointOncePassive(t *testing.T) {
	db := MustOpenDB(t)
	bulkInsert(t, db, 10, testNow.UnixMilli(), 0)
	k := NewWALKeeper(db)
	if err := k.CheckpointOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if k.Passive.Load() != 1 || k.Restart.Load() != 0 || k.Truncate.Load() != 0 {
		t.Errorf("checkpoints passive=%d restart=%d truncate=%d, want 1 0 0",
			k.Passive.Load(), k.Restart.Load(), k.Truncate.Load())
	}
	if _, wal := db.Sizes(); wal == 0 {
		t.Error("PASSIVE checkpoint truncated the WAL")
	}
}

func TestWALKeeperRun(t *testing.T) {
	db := MustOpenDB(t)
	k := NewWALKeeper(db)
	k.Interval = 0
	k.Run(context.Background()) // returns at once
	k.Interval = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); k.Run(ctx) }()
	waitFor(t, "two checkpoints", func() bool { return k.Passive.Load() >= 2 })
	cancel()
	<-done
	if k.Errors.Load() != 0 {
		t.Errorf("errors = %d", k.Errors.Load())
	}
}

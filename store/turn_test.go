package store

import (
	"context"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// Every write and every checkpoint waits for the turn in progress (a
// writer transaction, a checkpoint) to end: none runs beside another on
// the write connection, nor a checkpoint beside the writer (wal.go).
func TestWritesTakeTurns(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		op   func(db *DB) error
	}{
		{"MarkSynced", func(db *DB) error { return db.MarkSynced(ctx, "llm_traces", []int64{1}, 1) }},
		{"Advance", func(db *DB) error { return db.Advance(ctx, "otlp", "llm_traces", 1) }},
		{"LogPush", func(db *DB) error { return db.LogPush(ctx, codec.PushAttempt{At: 1, Status: "ok"}) }},
		{"Cleaner.CleanOnce", func(db *DB) error {
			c := NewCleaner(db)
			c.HighWatermark = 0
			_, err := c.CleanOnce(ctx)
			return err
		}},
		{"WAL.CheckpointOnce", func(db *DB) error { return db.WAL.CheckpointOnce(ctx) }},
		{"WAL.Checkpoint PASSIVE", func(db *DB) error { _, err := db.WAL.Checkpoint(ctx, Passive); return err }},
		{"WAL.Checkpoint TRUNCATE", func(db *DB) error { _, err := db.WAL.Checkpoint(ctx, Truncate); return err }},
		{"Writer", func(db *DB) error {
			in := make(chan codec.Event, 1)
			in <- traceEvent("m")
			close(in)
			return NewWriter(db, in).Run()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, 0)
			writeEvents(t, db, traceEvent("m")) // something to mark, clean, checkpoint
			db.writeMu.Lock()                   // a turn in progress
			done := make(chan error, 1)
			go func() { done <- tt.op(db) }()
			select {
			case err := <-done:
				db.writeMu.Unlock()
				t.Fatalf("ran during another turn (err %v)", err)
			case <-time.After(50 * time.Millisecond):
			}
			db.writeMu.Unlock()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

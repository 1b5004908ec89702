package store

import (
	"context"
	"os"
	"sync/atomic"
	"time"
)

// Defaults for the background checkpointer.
const (
	// DefaultCheckpointerInterval keeps the WAL short at tens of thousands
	// of rows a second: a tick's worth of frames is a few MB at most.
	DefaultCheckpointerInterval = 100 * time.Millisecond
	// DefaultCheckpointerFrames is SQLite's own wal_autocheckpoint (1000
	// pages, 4 MB).
	DefaultCheckpointerFrames = 1000
)

// CheckpointCounters count the background checkpointer's work.
type CheckpointCounters struct {
	Passive  atomic.Int64 // concurrent with the writer
	Restarts atomic.Int64 // finished between two writer transactions
	Errors   atomic.Int64
}

// SQLite's auto-checkpoint runs inside the commit that crosses
// wal_autocheckpoint: that commit copies 4 MB into the database file and
// fsyncs it, and the writer, with it the whole intake, stops meanwhile.
// The checkpointer moves that work to its own connection. A PASSIVE
// checkpoint runs alongside the writer, but the WAL only starts over when
// a write transaction begins with every frame already copied, which never
// happens while the writer keeps appending; so once the WAL is over
// CheckpointFrames the checkpointer takes writeMu between two writer
// transactions and copies the few frames the first pass left, and the
// writer's next transaction rewinds the WAL.
func (db *DB) startCheckpointer() {
	if db.CheckpointInterval <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	db.ckptStop, db.ckptDone = cancel, make(chan struct{})
	go func() {
		defer close(db.ckptDone)
		t := time.NewTicker(db.CheckpointInterval)
		defer t.Stop()
		var last os.FileInfo
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			fi, err := os.Stat(db.Path + "-wal")
			if err != nil || (last != nil && fi.Size() == last.Size() && fi.ModTime().Equal(last.ModTime())) {
				continue // no WAL, or nothing written since the last turn
			}
			last = fi
			if err := db.CheckpointOnce(ctx); err != nil && ctx.Err() == nil {
				db.Checkpoints.Errors.Add(1)
			}
		}
	}()
}

func (db *DB) stopCheckpointer() {
	if db.ckptStop != nil {
		db.ckptStop()
		<-db.ckptDone
		db.ckptStop = nil
	}
}

// CheckpointOnce copies what it can of the WAL into the database file
// without stopping the writer, then, if the WAL is over CheckpointFrames,
// finishes between two writer transactions so the WAL can start over.
func (db *DB) CheckpointOnce(ctx context.Context) error {
	_, frames, _, err := db.checkpoint(ctx, "PASSIVE")
	if err != nil {
		return err
	}
	db.Checkpoints.Passive.Add(1)
	if frames < db.CheckpointFrames {
		return nil
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if _, _, _, err := db.checkpoint(ctx, "PASSIVE"); err != nil {
		return err
	}
	db.Checkpoints.Restarts.Add(1)
	return nil
}

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
)

// CheckpointCounters count the background checkpointer's work.
type CheckpointCounters struct {
	Passive atomic.Int64 // checkpoints run
	Errors  atomic.Int64
}

// SQLite's auto-checkpoint runs inside the commit that crosses
// wal_autocheckpoint: that commit copies 4 MB into the database file and
// fsyncs it, and the writer, with it the whole intake, stops meanwhile.
// The checkpointer moves that work out of the commit, into small turns
// taken between two writer transactions: every CheckpointInterval, if the
// WAL changed, it takes writeMu and copies what the WAL holds (about one
// interval of rows), so the writer's next transaction starts the WAL over.
//
// It takes turns rather than running alongside the writer because of the
// Go scheduler, not SQLite. A checkpoint is a run of short pread/pwrite
// calls that keeps its P busy for milliseconds; with the writer busy on
// the other P of a 2-core machine, no P is left to poll the network, and
// the datagram reader waited up to 8 ms (an execution trace at 50,000/s)
// while the kernel queue (max_dgram_qlen + 1 datagrams, 9 ms at 55,000/s)
// overflowed into the senders' EAGAIN. Taking turns costs the writer
// alone about 10% of its rate (80,000-92,000 to 67,000-80,000 rows/s), and
// took losses at 55,000/s from 73-2,733 to 0-15 in 30 s (BENCHMARKS.md).
// The writer's pause for a turn is absorbed by the ingest queue.
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

// CheckpointOnce copies the WAL into the database file between two
// writer transactions, so the next one starts the WAL from its beginning.
func (db *DB) CheckpointOnce(ctx context.Context) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if _, _, _, err := db.checkpoint(ctx, "PASSIVE"); err != nil {
		return err
	}
	db.Checkpoints.Passive.Add(1)
	return nil
}

package store

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Defaults for a WALKeeper.
const (
	DefaultCheckpointInterval = 10 * time.Minute
	DefaultWALMaxBytes        = 50 << 20
)

// WALKeeper bounds the WAL file. SQLite's auto-checkpoint cannot reset the
// WAL while any reader holds a snapshot, and never shrinks the file, so a
// long-running process with a read pool can grow it until the volume is
// full.
type WALKeeper struct {
	// Interval between checkpoints of Run; 0 turns the loop off.
	Interval time.Duration
	// Above MaxBytes the WAL gets RESTART then TRUNCATE instead of PASSIVE.
	MaxBytes int64
	Logger   *slog.Logger

	// Checkpoints run per mode; Busy counts those readers or a writer kept
	// from completing.
	Passive  atomic.Int64
	Restart  atomic.Int64
	Truncate atomic.Int64
	Busy     atomic.Int64
	Errors   atomic.Int64

	db *DB
}

// NewWALKeeper returns a WALKeeper for db with the default tunables.
func NewWALKeeper(db *DB) *WALKeeper {
	return &WALKeeper{
		Interval: DefaultCheckpointInterval,
		MaxBytes: DefaultWALMaxBytes,
		Logger:   slog.New(slog.DiscardHandler),
		db:       db,
	}
}

// Run checkpoints once at start, in case a previous run left a big WAL,
// and then every Interval until ctx is done.
func (k *WALKeeper) Run(ctx context.Context) {
	if k.Interval <= 0 {
		return
	}
	t := time.NewTicker(k.Interval)
	defer t.Stop()
	for {
		if err := k.CheckpointOnce(ctx); err != nil && ctx.Err() == nil {
			k.Logger.Error("wal checkpoint failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckpointOnce runs a PASSIVE checkpoint, which never waits for readers;
// when the WAL file is over MaxBytes it runs RESTART, which waits for
// readers (up to busy_timeout) so the next write starts the WAL from the
// beginning, and then TRUNCATE to give the file's space back to the volume.
func (k *WALKeeper) CheckpointOnce(ctx context.Context) error {
	_, before := k.db.Sizes()
	if k.MaxBytes <= 0 || before <= k.MaxBytes {
		busy, err := k.checkpoint(ctx, "PASSIVE", &k.Passive)
		k.Logger.Debug("wal checkpoint", "mode", "PASSIVE", "wal_bytes", before, "busy", busy)
		return err
	}
	busy, err := k.checkpoint(ctx, "RESTART", &k.Restart)
	// A busy RESTART means a reader outlived busy_timeout; TRUNCATE would
	// wait as long again and fail the same way, holding the writer.
	if err == nil && !busy {
		busy, err = k.checkpoint(ctx, "TRUNCATE", &k.Truncate)
	}
	_, after := k.db.Sizes()
	k.Logger.Info("wal over threshold: checkpointed", "wal_bytes_before", before, "wal_bytes_after", after,
		"max_bytes", k.MaxBytes, "busy", busy)
	return err
}

func (k *WALKeeper) checkpoint(ctx context.Context, mode string, runs *atomic.Int64) (bool, error) {
	busy, err := k.db.Checkpoint(ctx, mode)
	if err != nil {
		if ctx.Err() == nil { // shutting down is not a failure
			k.Errors.Add(1)
		}
		return false, err
	}
	runs.Add(1)
	if busy {
		k.Busy.Add(1)
	}
	return busy, nil
}

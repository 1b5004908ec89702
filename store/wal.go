package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the WAL monitor.
const (
	// DefaultWALInterval keeps the WAL short at tens of thousands of rows
	// a second: a tick's worth of frames is a few MB at most.
	DefaultWALInterval = 100 * time.Millisecond
	// DefaultWALMaxBytes bounds the WAL file on disk.
	DefaultWALMaxBytes = 50 << 20
	// DefaultWALTruncateRetry spaces truncations that readers kept from
	// finishing: each may hold the writer for busy_timeout.
	DefaultWALTruncateRetry = 10 * time.Minute
)

// Checkpoint modes of PRAGMA wal_checkpoint.
const (
	Passive  = "PASSIVE"
	Restart  = "RESTART"
	Truncate = "TRUNCATE"
)

// WALMonitor is the one place the WAL is checkpointed: its loop, the
// Cleaner and DB.Close all checkpoint through it, each checkpoint taking
// its turn with the writer.
//
// Why a loop at all: SQLite's auto-checkpoint runs inside the commit that
// crosses wal_autocheckpoint: that commit copies 4 MB into the database
// file and fsyncs it, and the writer, with it the whole intake, stops
// meanwhile. The monitor moves that work out of the commit, into small
// turns taken between two writer transactions: every Interval, if the WAL
// changed, it copies what the WAL holds (about one interval of rows), so
// the writer's next transaction starts the WAL over.
//
// Why turns: because of the Go scheduler, not SQLite. A checkpoint is a
// run of short pread/pwrite calls that keeps its P busy for milliseconds;
// with the writer busy on the other P of a 2-core machine, no P is left to
// poll the network, and the datagram reader waited up to 8 ms (an
// execution trace at 50,000/s) while the kernel queue (max_dgram_qlen + 1
// datagrams, 9 ms at 55,000/s) overflowed into the senders' EAGAIN. Taking
// turns costs the writer alone about 10% of its rate (80,000-92,000 to
// 67,000-80,000 rows/s), and took losses at 55,000/s from 73-2,733 to
// 0-15 in 30 s (BENCHMARKS.md). The ingest queue absorbs the writer's
// pause for a turn.
//
// Why a bound: a PASSIVE checkpoint cannot reset the WAL while a reader
// holds a snapshot, and nothing but TRUNCATE shrinks the file, so a
// long-running process with a read pool could grow it until the volume is
// full. Above MaxBytes the monitor runs RESTART, which waits for readers
// (up to busy_timeout), then TRUNCATE.
type WALMonitor struct {
	// Interval between looks at the WAL; 0 turns the loop off and leaves
	// checkpoints to SQLite's auto-checkpoint inside the writer's commits.
	// Set before DB.Open.
	Interval time.Duration
	// MaxBytes bounds the WAL file; 0 turns the bound off.
	MaxBytes int64
	// TruncateRetry is how long the monitor waits before it tries again
	// to truncate a WAL that readers kept it from truncating.
	TruncateRetry time.Duration
	Logger        *slog.Logger

	// Checkpoints counts checkpoints run (any mode), Busy those that
	// readers or a writer kept from completing, Truncations the WAL files
	// truncated to zero, Errors the checkpoints that failed (shutting down
	// aside) and the looks at the WAL file that could not stat it.
	// LastDuration is the last checkpoint's duration in nanoseconds, its
	// wait for the writer's turn included.
	Checkpoints  atomic.Int64
	Busy         atomic.Int64
	Truncations  atomic.Int64
	Errors       atomic.Int64
	LastDuration atomic.Int64

	db *DB

	mu           sync.Mutex // one CheckpointOnce at a time; guards below
	last         os.FileInfo
	truncateNext time.Time
	failing      bool

	stop context.CancelFunc
	done chan struct{}
}

func newWALMonitor(db *DB) *WALMonitor {
	return &WALMonitor{
		Interval:      DefaultWALInterval,
		MaxBytes:      DefaultWALMaxBytes,
		TruncateRetry: DefaultWALTruncateRetry,
		Logger:        slog.New(slog.DiscardHandler),
		db:            db,
	}
}

// start runs the loop until stopped; DB.Open calls it.
func (m *WALMonitor) start() {
	if m.Interval <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.stop, m.done = cancel, make(chan struct{})
	go func() {
		defer close(m.done)
		t := time.NewTicker(m.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			m.CheckpointOnce(ctx)
		}
	}()
}

func (m *WALMonitor) halt() {
	if m.stop != nil {
		m.stop()
		<-m.done
		m.stop = nil
	}
}

// CheckpointOnce checkpoints PASSIVE if the WAL changed since the last
// look; if the file is over MaxBytes it runs RESTART and then TRUNCATE
// instead. Errors are counted, and logged when checkpoints start failing.
func (m *WALMonitor) CheckpointOnce(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	fi, err := os.Stat(m.db.Path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		m.Errors.Add(1)
		return m.failed(ctx, fmt.Errorf("wal checkpoint: %w", err))
	}
	if m.MaxBytes > 0 && fi.Size() > m.MaxBytes && !time.Now().Before(m.truncateNext) {
		m.last = nil
		return m.truncate(ctx, fi.Size())
	}
	if m.last != nil && fi.Size() == m.last.Size() && fi.ModTime().Equal(m.last.ModTime()) {
		return nil // nothing written since the last look
	}
	if _, err := m.Checkpoint(ctx, Passive); err != nil {
		return m.failed(ctx, err) // m.last stays: the next look tries again
	}
	m.last, m.failing = fi, false
	return nil
}

// truncate runs RESTART, so the next write starts the WAL from its
// beginning, then TRUNCATE to give the file's space back to the volume.
// A busy RESTART means a reader outlived busy_timeout; TRUNCATE would
// wait as long again and fail the same way, holding the writer.
func (m *WALMonitor) truncate(ctx context.Context, before int64) error {
	busy, err := m.Checkpoint(ctx, Restart)
	if err == nil && !busy {
		busy, err = m.Checkpoint(ctx, Truncate)
	}
	if err != nil || busy {
		m.truncateNext = time.Now().Add(m.TruncateRetry)
	}
	_, after := m.db.Sizes()
	m.Logger.Info("wal over its bound: checkpointed", "wal_bytes_before", before, "wal_bytes_after", after,
		"max_bytes", m.MaxBytes, "busy", busy)
	if err != nil {
		return m.failed(ctx, err)
	}
	m.failing = false
	return nil
}

// failed logs the first of a run of failures; each is already counted.
func (m *WALMonitor) failed(ctx context.Context, err error) error {
	if !m.failing && ctx.Err() == nil {
		m.Logger.Error("wal checkpoint failed", "err", err)
	}
	m.failing = true
	return err
}

// Checkpoint runs one PRAGMA wal_checkpoint(mode) on the checkpoint
// connection, in its turn with the writer, and reports whether readers or
// a writer kept it from completing.
func (m *WALMonitor) Checkpoint(ctx context.Context, mode string) (busy bool, err error) {
	start := time.Now()
	err = m.db.checkpointTurn(ctx, func(ctx context.Context) error {
		busy, err = m.checkpointHeld(ctx, mode)
		return err
	})
	m.LastDuration.Store(int64(time.Since(start))) // the wait for the turn included
	return busy, err
}

// checkpointHeld is Checkpoint for a caller that already holds the turn:
// the Cleaner freeing a full volume (pressure_full.go), which must not let
// the writer in between its steps.
func (m *WALMonitor) checkpointHeld(ctx context.Context, mode string) (busy bool, err error) {
	busy, _, err = m.checkpointLeft(ctx, mode)
	return busy, err
}

// ErrPinned: the WAL could not be copied back in full, since a reader
// still uses frames of it.
var ErrPinned = errors.New("wal pinned by a reader")

// truncateHeld, for a caller that holds the turn, copies the WAL back
// (PASSIVE: it does not wait for readers) and, when that copied all of it,
// truncates it, which then waits for no reader of the old frames. While a
// reader still uses frames it returns ErrPinned at once: a TRUNCATE would
// hold the turn waiting for that reader (busy_timeout, and longer), and
// whatever is written meanwhile (the writer's rows, the Cleaner's deletes)
// only makes the pinned WAL longer.
func (m *WALMonitor) truncateHeld(ctx context.Context) error {
	_, left, err := m.checkpointLeft(ctx, Passive)
	if err != nil {
		return err
	}
	if left > 0 {
		return ErrPinned
	}
	busy, err := m.checkpointHeld(ctx, Truncate)
	if err == nil && busy {
		err = ErrPinned
	}
	return err
}

// checkpointLeft is checkpointHeld that also reports the frames of the
// WAL it could not copy back (readers still use them).
func (m *WALMonitor) checkpointLeft(ctx context.Context, mode string) (busy bool, left int, err error) {
	start := time.Now()
	var b, logFrames, done int
	err = m.db.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&b, &logFrames, &done)
	m.LastDuration.Store(int64(time.Since(start)))
	if err != nil {
		if ctx.Err() == nil { // shutting down is not a failure
			m.Errors.Add(1)
		}
		return false, 0, fmt.Errorf("wal checkpoint %s: %w", mode, err)
	}
	busy, left = b != 0, logFrames-done
	m.Checkpoints.Add(1)
	if busy {
		m.Busy.Add(1)
	} else if mode == Truncate {
		m.Truncations.Add(1)
	}
	return busy, left, nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// The writer's gate. At full intake on tmpfs the writer appends 100 MB/s
// and more to the WAL, so between two of the WAL monitor's checkpoints
// (100 ms) the WAL can take the last free bytes of a small volume. Such a
// WAL can never be checkpointed: copying it back grows the database file
// by the pages it holds past the file's end, megabytes against the
// reserve's 512 KiB, and nothing can be deleted without first appending to
// it; a restart has to checkpoint it too. An 8 MiB volume stayed full for
// good so (the WAL 7.8 MB, the database file 4 KB), about one run in five
// of the full-intake test. A reader that keeps a snapshot (a report, the
// sqlite3 shell) pins the WAL the same way: no checkpoint can copy it back
// or start it over until the reader is done, so every transaction makes it
// longer.
//
// So before each of its transactions, in its turn, the writer passes the
// gate: one statfs and one stat of the WAL. A transaction takes its frames
// from the volume, and a checkpoint of them as much again for the pages
// past the database file's end; so the gate wants the free space, less
// the WAL already there, to cover the room plus twice the largest recent
// transaction. Short of that it copies the WAL back and truncates it, and
// if the volume is still short, the writer waits and tries again while the
// Cleaner, woken, frees room: its queue fills and intake answers 429
// (queue_full), which a sender can retry, instead of taking batches it
// would lose as write_error. While space is short the gate also caps the
// pages the transaction may add (PRAGMA max_page_count) at half of what
// is left beyond the checkpoint's share, so that one far larger than the
// last ones fails alone (write_error) instead of filling the volume.

// errNoRoom is the gate's answer when the writer must wait.
var errNoRoom = errors.New("no room on the volume for the next transaction")

const (
	// roomRetry spaces the writer's tries at a gate that keeps it waiting.
	roomRetry = 20 * time.Millisecond
	// Below shortOfSpace times the room free, the gate caps the pages a
	// transaction may add; above, it leaves them unbounded.
	shortOfSpace = 16
	// maxPageCount is SQLite's own bound on a database's pages.
	maxPageCount = 0xfffffffe
)

// admit is the gate, run by the writer in its turn, on its connection,
// before each transaction (DB.admit). walAfter is touched only there,
// under the turn; txBytes is read by the Cleaner's looks too.
func (c *Cleaner) admit(ctx context.Context, conn *sql.Conn) error {
	v, wal, err := c.measure()
	if err != nil {
		return nil // cannot measure: let the write try
	}
	c.noteTx(wal)
	if wal > 0 && c.noRoom(v, wal) {
		if err := c.db.WAL.truncateHeld(ctx); err == nil {
			c.GateTruncations.Add(1)
		} else if !errors.Is(err, ErrPinned) {
			c.Logger.Debug("gate: wal not truncated", "err", err)
		}
		if v, wal, err = c.measure(); err != nil {
			return nil
		}
	}
	c.walAfter = wal
	if c.noRoom(v, wal) {
		c.hold(v, wal)
		return errNoRoom
	}
	c.release()
	if err := c.capPages(ctx, conn, v, wal); err != nil {
		c.Logger.Warn("gate: database growth not capped", "err", err) // a bound only: write
	}
	return nil
}

// noRoom reports whether the volume, v with wal bytes of WAL, lacks room
// for the writer's next transaction: the room plus twice the largest
// recent transaction (pressure.go relieves it then too).
func (c *Cleaner) noRoom(v Volume, wal int64) bool {
	return v.Free-wal < c.room(v)+2*c.txBytes.Load()
}

// measure is one statfs of the volume and one stat of the WAL.
func (c *Cleaner) measure() (Volume, int64, error) {
	v, err := c.volume()
	if err != nil {
		return v, 0, err
	}
	wal, err := c.db.walBytes()
	return v, wal, err
}

// capPages bounds the pages the transaction may add while space is short:
// half of what the free space leaves beyond the WAL and a quarter of the
// room (a page added is written to the WAL, then to the database file).
func (c *Cleaner) capPages(ctx context.Context, conn *sql.Conn, v Volume, wal int64) error {
	limit := int64(maxPageCount)
	if v.Free < shortOfSpace*c.room(v) {
		var pages int64
		if err := conn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
			return fmt.Errorf("page count: %w", err)
		}
		limit = pages + max(v.Free-wal-c.room(v)/stepShare, 0)/2/c.pageSize()
	} else if c.MaxPages.Load() == 0 {
		return nil // not capped: nothing to undo
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", limit)); err != nil {
		return fmt.Errorf("cap database growth: %w", err)
	}
	if limit == maxPageCount {
		limit = 0
	}
	c.MaxPages.Store(limit)
	return nil
}

// noteTx measures the WAL growth since the gate last let the writer in,
// about one transaction, and keeps a decaying maximum of it.
func (c *Cleaner) noteTx(wal int64) {
	tx := c.txBytes.Load()
	tx -= tx / 16
	if grew := wal - c.walAfter; grew > tx && c.walAfter >= 0 {
		tx = grew
	}
	c.txBytes.Store(tx)
}

// hold marks the writer waiting and wakes Run to free room.
func (c *Cleaner) hold(v Volume, wal int64) {
	if !c.Held.Swap(true) {
		c.Holds.Add(1)
		c.heldSince.Store(time.Now().UnixNano())
		c.Logger.Warn("volume short of space: the writer waits for room (intake answers 429)",
			"free", v.Free, "wal_bytes", wal, "tx_bytes", c.txBytes.Load(), "room", c.room(v))
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// release marks the writer no longer waiting.
func (c *Cleaner) release() {
	if c.Held.CompareAndSwap(true, false) {
		waited := time.Duration(time.Now().UnixNano() - c.heldSince.Load())
		c.Logger.Info("room on the volume again: the writer goes on", "waited", waited.String())
	}
}

// writeTurnWithRoom runs f in the writer's turn once the gate lets it in:
// while the volume has no room, it waits outside the turn, so the Cleaner
// can take it, and tries again until Stop.
func (w *Writer) writeTurnWithRoom(f func(ctx context.Context, conn *sql.Conn) error) error {
	var wait *time.Timer
	for {
		err := w.db.writeTurn(w.ctx, func(ctx context.Context, conn *sql.Conn) error {
			if err := w.db.admit(ctx, conn); err != nil {
				return err
			}
			return f(ctx, conn)
		})
		if !errors.Is(err, errNoRoom) {
			return err
		}
		if wait == nil {
			wait = time.NewTimer(roomRetry)
			defer wait.Stop()
		} else {
			wait.Reset(roomRetry)
		}
		select {
		case <-w.ctx.Done():
			return err
		case <-wait.C:
		}
	}
}

// guard puts the gate on the writer's path, unless it is there already
// (Open puts it before Run starts, since the writer may be writing).
func (c *Cleaner) guard() {
	if c.db.gate.Load() != nil {
		return
	}
	c.walAfter = -1 // no measure yet; published by Store
	c.txBytes.Store(0)
	admit := c.admit
	c.db.gate.Store(&admit)
}

// guarded reports whether the writer passes this Cleaner's gate.
func (c *Cleaner) guarded() bool { return c.db.gate.Load() != nil }

// unguard takes the gate off. Not in a turn: at shutdown the writer may
// hold it for as long as another process holds the write lock, and the
// Cleaner must not keep the final push waiting for that.
func (c *Cleaner) unguard() {
	c.db.gate.Store(nil)
	c.release()
}

// admit passes the writer's gate, if a Cleaner set one; the caller holds
// the turn.
func (db *DB) admit(ctx context.Context, conn *sql.Conn) error {
	if gate := db.gate.Load(); gate != nil {
		return (*gate)(ctx, conn)
	}
	return nil
}

// walBytes is the size of the WAL file, 0 when there is none.
func (db *DB) walBytes() (int64, error) {
	fi, err := os.Stat(db.Path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("stat wal: %w", err)
	}
	return fi.Size(), nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"syscall"
	"time"
)

// A full volume. SQLite cannot delete a row without first writing the
// changed pages to the WAL, nor checkpoint a WAL that holds pages past the
// end of the database file without growing it: on a volume with no byte
// left, nothing can be freed, after a restart either. So the Cleaner keeps
// a reserve, a file beside the database, that it can always delete. When a
// write fails for lack of space it deletes the reserve and, in one turn
// (the writer would otherwise take the space back between two steps),
// checkpoints, deletes and vacuums in small steps until the room it wants
// is free, then makes the reserve again.

// Reserve defaults.
const (
	ReserveSuffix       = "-reserve"
	DefaultReserveBytes = 4 << 20
	// reserveShare caps the reserve at a sixteenth of the volume (512 KiB
	// of an 8 MiB one: enough for the steps below, measured).
	reserveShare = 16
	// minRoom is the room wanted back when the reserve is off.
	minRoom = 1 << 20
)

// CheckPressure is Run's frequent look at the volume: one statfs, and
// when the volume is over the high watermark or full it relieves it; then
// it puts the reserve back if it is missing and there is room for it.
// What the writer may take between two looks is the gate's to bound
// (pressure_gate.go).
func (c *Cleaner) CheckPressure(ctx context.Context) error {
	start := time.Now()
	res := newResult()
	c.logVolume("pressure look", nil)
	err := c.relieve(ctx, &res)
	res.Duration = time.Since(start)
	c.keepReserve()
	c.logVolume("pressure look done", err)
	if err != nil && ctx.Err() == nil {
		c.Errors.Add(1)
		c.Logger.Error("disk pressure relief failed", "err", err)
	}
	if Sum(res.Relieved)+Sum(res.Evicted) > 0 {
		c.logResult(res)
	}
	return err
}

// reserveSize is the reserve wanted on a volume of total bytes.
func (c *Cleaner) reserveSize(total int64) int64 {
	if c.ReserveBytes <= 0 || c.ReservePath == "" {
		return 0
	}
	return min(c.ReserveBytes, total/reserveShare)
}

// room is the free space the database leaves on the volume (the gate's):
// the reserve's size, or when the reserve is off minRoom (at most a
// sixteenth of the volume).
func (c *Cleaner) room(v Volume) int64 {
	if r := c.reserveSize(v.Total); r > 0 {
		return r
	}
	return min(minRoom, v.Total/reserveShare)
}

// short reports whether freeFull goes on: until the volume, with the
// reserve back in place, still has the room free and, when the writer
// passes the gate, the room the gate wants for its next transaction.
func (c *Cleaner) short() (bool, error) {
	v, wal, err := c.measure()
	if err != nil {
		return false, err
	}
	v.Free -= max(c.reserveSize(v.Total)-c.ReserveHeld.Load(), 0)
	return v.Free < c.room(v) || c.guarded() && c.noRoom(v, wal), nil
}

// freeFull frees a full volume, in one turn: it deletes the reserve,
// and relieveWith checkpoints the WAL (growing the database file by what
// the WAL holds past its end), then deletes the oldest rows and vacuums, a small step at
// a time with the WAL truncated after each, until room is free; then it
// makes the reserve again. The writer waits meanwhile: its queue fills and
// intake counts queue_full, as it would count write_error otherwise.
func (c *Cleaner) freeFull(ctx context.Context, res *Result) error {
	c.DiskFull.Store(true)
	err := c.db.writeTurn(ctx, func(ctx context.Context, conn *sql.Conn) error {
		s := held{c.db, conn}
		if c.releaseReserve() {
			c.Logger.Warn("volume full: reserve released to free space", "reserve", c.ReservePath)
		}
		return c.relieveWith(ctx, s, res, c.short)
	})
	if err != nil {
		return fmt.Errorf("free full volume: %w", err)
	}
	c.keepReserve()
	return nil
}

// keepReserve makes the reserve if it is missing and the volume has room
// for it, and clears DiskFull once the volume is no longer full.
func (c *Cleaner) keepReserve() {
	v, err := c.volume()
	if err != nil {
		return
	}
	if size := c.reserveSize(v.Total); size > 0 && c.ReserveHeld.Load() < size && !c.adoptReserve(size) {
		if v.Free < 2*c.room(v) {
			return // the relief is not done
		}
		if err := fillReserve(c.ReservePath, size); err != nil {
			if !c.reserveWarned {
				c.Logger.Warn("cannot make the disk reserve", "reserve", c.ReservePath, "bytes", size, "err", err)
				c.reserveWarned = true
			}
			return
		}
		c.ReserveHeld.Store(size)
		c.reserveWarned = false
		if v, err = c.volume(); err != nil {
			return
		}
	}
	if !c.full(v) {
		c.DiskFull.Store(false)
	}
}

// adoptReserve reports whether a reserve of at least size bytes is
// already on disk (left by an earlier run), and adopts it.
func (c *Cleaner) adoptReserve(size int64) bool {
	fi, err := os.Stat(c.ReservePath)
	if err != nil || fi.Size() < size {
		return false
	}
	c.ReserveHeld.Store(fi.Size())
	return true
}

// releaseReserve deletes the reserve and reports whether there was one.
func (c *Cleaner) releaseReserve() bool {
	if c.ReservePath == "" {
		return false
	}
	err := os.Remove(c.ReservePath)
	c.ReserveHeld.Store(0)
	if err != nil {
		return false
	}
	c.ReserveReleases.Add(1)
	return true
}

// fillReserve makes a file of size bytes at path that owns its blocks:
// fallocate where the file system has it, written zeros elsewhere. A file
// it could not complete is removed.
func fillReserve(path string, size int64) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, FileMode)
	if err != nil {
		return fmt.Errorf("create reserve: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	err = fallocate(f, size)
	if !errors.Is(err, syscall.EOPNOTSUPP) && !errors.Is(err, syscall.ENOSYS) {
		return err
	}
	zeros := make([]byte, 64<<10)
	for left := size; left > 0; left -= int64(len(zeros)) {
		if _, err := f.Write(zeros[:min(left, int64(len(zeros)))]); err != nil {
			return fmt.Errorf("write reserve: %w", err)
		}
	}
	return f.Sync()
}

// ReleaseReserve deletes the reserve beside the database at dbPath, for a
// start-up that finds the volume too full to open the database.
func ReleaseReserve(dbPath string) (bool, error) {
	err := os.Remove(dbPath + ReserveSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Full reports whether nothing can be written for lack of space: a write
// of the Cleaner failed so (DiskFull), the writer waits at the gate for
// room (Held), or writeErr, the writer's last, did
// and the volume has not had room since, as last measured. (The writer's
// error stays until its next commit, which may be long after the room is
// back when no event comes.)
func (c *Cleaner) Full(writeErr error) bool {
	if c.DiskFull.Load() || c.Held.Load() {
		return true
	}
	v := Volume{Total: c.totalBytes.Load(), Free: c.freeBytes.Load()}
	return IsFull(writeErr) && v.Free < 2*c.room(v)
}

// logVolume logs, at debug level, what the Cleaner sees of the volume:
// what to read first when the volume ends up full.
func (c *Cleaner) logVolume(msg string, err error) {
	if !c.Logger.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	v, verr := c.volume()
	dbBytes, walBytes := c.db.Sizes()
	c.Logger.Debug(msg, "free", v.Free, "total", v.Total, "db_bytes", dbBytes, "wal_bytes", walBytes,
		"reserve", c.ReserveHeld.Load(), "max_pages", c.MaxPages.Load(), "held", c.Held.Load(), "disk_full", c.DiskFull.Load(),
		"err", errors.Join(err, verr))
}

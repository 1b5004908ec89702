package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"syscall"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

// Disk pressure: above the high watermark the Cleaner deletes the oldest
// delivered rows, then the oldest undelivered ones (evicted). It deletes
// in steps sized to the free space, and after each step vacuums the freed
// pages and truncates the WAL, so the volume gets the space back at once:
// a delete first writes the pages it changes to the WAL, and one of 5,000
// rows wrote ~6 MB, enough to fill a small volume it was meant to relieve.
// A volume already full is the job of pressure_full.go.

// Volume is the size of the volume holding the database, as df(1) sees
// it: Total is what is in use plus what is available to unprivileged
// writers, Free the latter.
type Volume struct {
	Total, Free int64
}

// UsedPercent is the percent of the volume in use.
func (v Volume) UsedPercent() float64 {
	if v.Total <= 0 {
		return 0
	}
	return float64(v.Total-v.Free) / float64(v.Total) * 100
}

// StatVolume measures the volume holding dir with one statfs(2).
func StatVolume(dir string) (Volume, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return Volume{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	bs := int64(st.Bsize)
	used := int64(st.Blocks-st.Bfree) * bs
	free := int64(st.Bavail) * bs
	return Volume{Total: used + free, Free: free}, nil
}

// Step sizes under pressure. A deleted row costs at most about a page of
// WAL (the pages that held it are rewritten, freed overflow pages are not),
// and a vacuumed page one page; a step may use a quarter of the free space.
const (
	pressureRowBytes = 4 << 10
	minPressureChunk = 16
	minVacuumStep    = 8
	stepShare        = 4
)

// IsFull reports whether err is SQLite's "database or disk is full".
func IsFull(err error) bool {
	var se interface{ Code() int }
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL
}

// volume measures the volume and remembers what it saw for the gauges.
func (c *Cleaner) volume() (Volume, error) {
	v, err := c.Volume()
	if err != nil {
		return v, fmt.Errorf("disk usage: %w", err)
	}
	c.freeBytes.Store(v.Free)
	c.totalBytes.Store(v.Total)
	return v, nil
}

// pokeEvery spaces poke's looks at the volume.
const pokeEvery = 10 * time.Millisecond

// poke runs after every write turn (DB.afterWrite): at most every
// pokeEvery it looks at the volume, one statfs, and wakes Run when it is
// over the high watermark. Run's own looks, every PressureInterval, are
// too far apart for a fast writer: 12 MB posted in 0.7 s went through an
// 8 MiB volume between two of them, and the writes that found no room
// were lost after their 202.
func (c *Cleaner) poke() {
	now := time.Now().UnixNano()
	last := c.lastPoke.Load()
	if now-last < int64(pokeEvery) || !c.lastPoke.CompareAndSwap(last, now) {
		return
	}
	if over, err := c.over(); err == nil && over && c.HighWatermark > 0 {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// over reports whether the volume is above the high watermark, too full
// for SQLite to write at all, or short of the room the writer's gate wants.
func (c *Cleaner) over() (bool, error) { return c.above(c.HighWatermark) }

// aboveLow reports whether relief, once started, goes on: until the volume
// is Hysteresis points below the high watermark, so that intake has room
// before the next relief instead of meeting the watermark at once.
func (c *Cleaner) aboveLow() (bool, error) { return c.above(c.HighWatermark - c.Hysteresis) }

func (c *Cleaner) above(percent float64) (bool, error) {
	v, wal, err := c.measure()
	if err != nil {
		return false, err
	}
	return v.UsedPercent() > percent || c.full(v) || c.guarded() && c.noRoom(v, wal), nil
}

// full reports whether v is too full to write: less free than a quarter
// of the room the Cleaner wants back when it frees a full volume.
func (c *Cleaner) full(v Volume) bool { return v.Free < c.room(v)/stepShare }

// pressureChunk is the rows of one delete step with free bytes free: at
// most DeleteChunk, at least minPressureChunk.
func (c *Cleaner) pressureChunk(free int64) int {
	return int(min(max(free/stepShare/pressureRowBytes, minPressureChunk), int64(c.chunk())))
}

// vacuumStep is the pages of one incremental_vacuum step with free bytes
// free: at most VacuumPages, at least minVacuumStep.
func (c *Cleaner) vacuumStep(free int64) int {
	return int(min(max(free/stepShare/c.pageSize(), minVacuumStep), int64(max(c.VacuumPages, 1))))
}

// pageSize is the database's page size, read once; 4096 (SQLite's
// default) until it could be read.
func (c *Cleaner) pageSize() int64 {
	if n := c.pageBytes.Load(); n > 0 {
		return n
	}
	var n int64
	if err := c.db.read.QueryRow("PRAGMA page_size").Scan(&n); err != nil || n <= 0 {
		return 4096
	}
	c.pageBytes.Store(n)
	return n
}

// relieve deletes the oldest delivered rows, a step at a time, while the
// volume is above HighWatermark (then down to Hysteresis below it); then,
// only if still above, the oldest undelivered rows, which are lost to the
// sinks and counted as evicted. A step that finds the volume full hands
// over to freeFull.
func (c *Cleaner) relieve(ctx context.Context, res *Result) error {
	if c.HighWatermark <= 0 {
		return nil
	}
	over, err := c.over()
	if err != nil || !over {
		return err
	}
	start := Sum(res.Evicted)
	defer func() {
		if n := Sum(res.Evicted) - start; n > 0 {
			c.Logger.Warn("disk above high watermark: evicted unsynced rows", "evicted", n,
				"high_watermark", c.HighWatermark)
		}
	}()
	err = c.relieveInSlices(ctx, res)
	if IsFull(err) {
		if err = c.freeFull(ctx, res); err == nil {
			err = c.relieveInSlices(ctx, res)
		}
	}
	if pinned := errors.Is(err, ErrPinned); pinned || err == nil {
		if pinned && !c.pinnedWarned {
			c.Logger.Warn("disk above high watermark: relief waits for a reader that pins the WAL")
		}
		c.pinnedWarned = pinned
		if pinned {
			return nil
		}
	}
	if err != nil {
		return err
	}
	if over, err = c.over(); err == nil && over {
		c.Logger.Warn("disk above high watermark with no rows left to delete", "high_watermark", c.HighWatermark)
	}
	return err
}

// relieveInSlices runs the relief in the writer's turn, ReliefSlice at a
// time: taking turns step by step with a writer at full speed, it lost
// (each step freed about what one writer batch took), and the writes that
// found no room were lost after their 202 (write_error). Held, the writer
// waits, the queue fills and intake answers 429 Retry-After (queue_full):
// a sender can retry that.
func (c *Cleaner) relieveInSlices(ctx context.Context, res *Result) error {
	for {
		yielded := false
		err := c.db.writeTurn(ctx, func(ctx context.Context, conn *sql.Conn) error {
			end := time.Now().Add(c.ReliefSlice)
			return c.relieveWith(ctx, held{c.db, conn}, res, func() (bool, error) {
				if time.Now().After(end) {
					yielded = true
					return false, nil
				}
				return c.aboveLow()
			})
		})
		if err != nil || !yielded {
			return err
		}
	}
}

// relieveWith truncates the WAL, then deletes, oldest first, delivered
// rows and then undelivered ones while still says so, squeezing the space
// out after every step. While a reader pins the WAL it deletes nothing
// (ErrPinned): the rows would be lost and the space not won.
func (c *Cleaner) relieveWith(ctx context.Context, s steps, res *Result, still func() (bool, error)) error {
	if err := s.truncate(ctx); err != nil { // space back first; and no delete into a pinned WAL
		return err
	}
	for _, delivered := range []bool{true, false} {
		for {
			more, err := still()
			if err != nil || !more {
				return err
			}
			n, err := c.deleteOldest(ctx, s, delivered, c.pressureChunk(c.freeBytes.Load()), res)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			if err := c.squeeze(ctx, s, res); err != nil {
				return err
			}
		}
	}
	return nil
}

// state is the condition of a row of table delivered (or not) to every
// enabled sink.
func (c *Cleaner) state(table string, delivered bool) string {
	if delivered {
		return c.delivered(table)
	}
	return "NOT " + c.delivered(table)
}

// oldestSQL finds the created_at of the n-th oldest row, delivered or not,
// across the data tables: the compound ORDER BY merges the tables'
// created_at indexes instead of sorting them.
func (c *Cleaner) oldestSQL(delivered bool) string {
	q := "SELECT max(created_at) FROM ("
	for i, t := range DataTables {
		if i > 0 {
			q += " UNION ALL "
		}
		q += "SELECT created_at FROM " + t + " WHERE " + c.state(t, delivered)
	}
	return q + " ORDER BY 1 LIMIT ?1)"
}

// deleteOldest deletes about chunk rows, delivered or not, the oldest
// across the data tables, and reports how many went.
func (c *Cleaner) deleteOldest(ctx context.Context, s steps, delivered bool, chunk int, res *Result) (int64, error) {
	var cutoff *int64
	if err := c.db.read.QueryRowContext(ctx, c.oldestSQL(delivered), chunk).Scan(&cutoff); err != nil {
		return 0, fmt.Errorf("find oldest rows: %w", err)
	}
	if cutoff == nil {
		return 0, nil
	}
	var total int64
	for _, t := range DataTables {
		left := chunk - int(total)
		if left <= 0 {
			break
		}
		n, err := c.deleteChunk(ctx, s, t, c.state(t, delivered)+" AND created_at <= ?", left, *cutoff)
		total += n
		c.countPressure(t, delivered, n, res)
		if err != nil {
			return total, fmt.Errorf("delete oldest %s: %w", t, err)
		}
	}
	return total, nil
}

// countPressure counts n rows deleted under disk pressure where it
// happens, so an error later in the pass cannot lose an eviction.
func (c *Cleaner) countPressure(table string, delivered bool, n int64, res *Result) {
	if delivered {
		res.Relieved[table] += n
		c.Relieved.Add(n)
		return
	}
	res.Evicted[table] += n
	c.Evicted.Add(n)
}

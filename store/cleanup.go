package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// Defaults for a Cleaner.
const (
	DefaultRetention     = 3 * 24 * time.Hour // OCT_RETENTION_DAYS=3
	DefaultHighWatermark = 80.0               // percent of the DB volume
	DefaultCleanInterval = 10 * time.Minute
	DefaultDeleteChunk   = 5000 // rows per delete transaction
	DefaultVacuumPages   = 500  // pages per incremental_vacuum step
)

// Cleaner keeps the database inside its retention period and the volume
// below its high watermark. It never runs a full VACUUM: that needs up to
// twice the database in free space, exactly what a full volume lacks, so
// space is handed back with incremental_vacuum steps instead.
type Cleaner struct {
	// Rows older than Retention are deleted once every enabled sink has
	// them: synced when PushEnabled, and at or before the position of each
	// stream in Streams (table → stream names: the OTLP exporter's). With
	// no sink every old row goes, since nothing will ever deliver it.
	Retention   time.Duration
	PushEnabled bool
	Streams     map[string][]string
	// Above HighWatermark percent used (DiskUsage) the oldest delivered rows
	// are deleted, then the oldest undelivered ones. 0 turns this off.
	HighWatermark float64
	DiskUsage     func() (usedPercent float64, err error)
	// Interval between passes of Run; 0 turns the loop off.
	Interval time.Duration
	// DeleteChunk bounds the rows of one delete transaction and VacuumPages
	// the pages of one incremental_vacuum step, so the writer connection,
	// which ingest shares, is never held long.
	DeleteChunk int
	VacuumPages int
	Now         func() time.Time
	Logger      *slog.Logger

	// Evicted counts undelivered rows deleted under disk pressure: the
	// `evicted` drop reason. Expired counts rows deleted for age (push_log
	// included), Relieved delivered rows deleted under disk pressure.
	Evicted    atomic.Int64
	Expired    atomic.Int64
	Relieved   atomic.Int64
	PagesFreed atomic.Int64
	Passes     atomic.Int64
	Errors     atomic.Int64

	db *DB
}

// NewCleaner returns a Cleaner for db with the default tunables; push is
// assumed enabled, and disk usage is measured on the volume holding db.
func NewCleaner(db *DB) *Cleaner {
	c := &Cleaner{
		Retention:     DefaultRetention,
		PushEnabled:   true,
		HighWatermark: DefaultHighWatermark,
		Interval:      DefaultCleanInterval,
		DeleteChunk:   DefaultDeleteChunk,
		VacuumPages:   DefaultVacuumPages,
		Now:           time.Now,
		Logger:        slog.New(slog.DiscardHandler),
		db:            db,
	}
	c.DiskUsage = func() (float64, error) { return VolumeUsage(filepath.Dir(db.Path)) }
	return c
}

// VolumeUsage is the percent of the volume holding dir that is in use, as
// df(1) computes it: used / (used + available to unprivileged writers).
func VolumeUsage(dir string) (float64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	used := float64(st.Blocks - st.Bfree)
	if used+float64(st.Bavail) <= 0 {
		return 0, nil
	}
	return used / (used + float64(st.Bavail)) * 100, nil
}

// Result says what one CleanOnce did. The maps are keyed by table.
type Result struct {
	Expired    map[string]int64 // deleted for age
	Relieved   map[string]int64 // synced, deleted under disk pressure
	Evicted    map[string]int64 // unsynced, deleted under disk pressure
	PagesFreed int64            // returned by incremental_vacuum
	Duration   time.Duration
}

// Sum adds up the counts of one of Result's maps.
func Sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// Run cleans once at start and then every Interval until ctx is done.
func (c *Cleaner) Run(ctx context.Context) {
	if c.Interval <= 0 {
		return
	}
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	for {
		if _, err := c.CleanOnce(ctx); err != nil && ctx.Err() == nil {
			c.Logger.Error("cleanup failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CleanOnce deletes expired rows, relieves disk pressure, then hands free
// pages back to the file system and checkpoints, so the file shrinks now.
// A failed step does not skip the next: disk pressure matters most when
// something else is already wrong.
func (c *Cleaner) CleanOnce(ctx context.Context) (Result, error) {
	start := time.Now()
	res := Result{Expired: map[string]int64{}, Relieved: map[string]int64{}, Evicted: map[string]int64{}}
	errExpire := c.expire(ctx, &res)
	errRelieve := c.relieve(ctx, &res)
	errVacuum := c.reclaim(ctx, &res)
	res.Duration = time.Since(start)
	c.Passes.Add(1)
	err := errors.Join(errExpire, errRelieve, errVacuum)
	if err != nil && ctx.Err() == nil { // shutting down is not a failure
		c.Errors.Add(1)
	}
	c.logResult(res)
	return res, err
}

func (c *Cleaner) logResult(res Result) {
	level := slog.LevelDebug
	if Sum(res.Expired)+Sum(res.Relieved)+Sum(res.Evicted) > 0 {
		level = slog.LevelInfo
	}
	c.Logger.Log(context.Background(), level, "cleanup",
		"expired", Sum(res.Expired), "relieved", Sum(res.Relieved), "evicted", Sum(res.Evicted),
		"pages_freed", res.PagesFreed, "duration", res.Duration.String())
}

// expire deletes data rows older than Retention (synced ones unless push
// is off) and push_log rows older than Retention.
func (c *Cleaner) expire(ctx context.Context, res *Result) error {
	if c.Retention <= 0 {
		return nil
	}
	cutoff := c.Now().Add(-c.Retention).UnixMilli()
	for _, t := range DataTables {
		where := "created_at < ? AND " + c.delivered(t)
		if err := c.expireTable(ctx, t, where, cutoff, res); err != nil {
			return err
		}
	}
	return c.expireTable(ctx, "push_log", "created_at < ?", cutoff, res)
}

// expireTable deletes DeleteChunk rows at a time, each chunk its own
// transaction, so ingest gets the writer between chunks.
func (c *Cleaner) expireTable(ctx context.Context, table, where string, cutoff int64, res *Result) error {
	for {
		n, err := c.deleteChunk(ctx, table, where, c.chunk(), cutoff)
		res.Expired[table] += n
		c.Expired.Add(n)
		if err != nil {
			return fmt.Errorf("expire %s: %w", table, err)
		}
		if n < int64(c.chunk()) {
			return nil
		}
	}
}

// chunk is DeleteChunk, at least 1 so a zero cannot stop progress.
func (c *Cleaner) chunk() int { return max(c.DeleteChunk, 1) }

// deleteChunk deletes at most limit rows of table matching where, oldest
// first, in one transaction. SQLite's DELETE … LIMIT is a compile-time
// option, hence the subquery.
func (c *Cleaner) deleteChunk(ctx context.Context, table, where string, limit int, args ...any) (int64, error) {
	q := fmt.Sprintf("DELETE FROM %[1]s WHERE id IN (SELECT id FROM %[1]s WHERE %[2]s ORDER BY created_at LIMIT %[3]d)",
		table, where, limit)
	r, err := c.db.writeExec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// relieve deletes the oldest synced rows, a chunk at a time, while the
// volume is above HighWatermark; then, only if still above, the oldest
// unsynced rows, which are lost to the remote and counted as evicted.
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
	for _, delivered := range []bool{true, false} {
		for over {
			n, err := c.deleteOldest(ctx, delivered, res)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			// Deleted rows only free pages inside the file; the volume sees
			// the space once they are vacuumed and checkpointed.
			if err := c.reclaim(ctx, res); err != nil {
				return err
			}
			if over, err = c.over(); err != nil {
				return err
			}
		}
	}
	if over {
		c.Logger.Warn("disk above high watermark with no rows left to delete", "high_watermark", c.HighWatermark)
	}
	return nil
}

func (c *Cleaner) over() (bool, error) {
	used, err := c.DiskUsage()
	if err != nil {
		return false, fmt.Errorf("disk usage: %w", err)
	}
	return used > c.HighWatermark, nil
}

// delivered is the condition of a row of table that every enabled sink has.
func (c *Cleaner) delivered(table string) string {
	return deliveredWhere(table, c.PushEnabled, c.Streams)
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

// deleteOldest deletes about DeleteChunk rows, delivered or not, the oldest
// across the data tables, and reports how many went.
func (c *Cleaner) deleteOldest(ctx context.Context, delivered bool, res *Result) (int64, error) {
	var cutoff *int64
	if err := c.db.read.QueryRowContext(ctx, c.oldestSQL(delivered), c.chunk()).Scan(&cutoff); err != nil {
		return 0, fmt.Errorf("find oldest rows: %w", err)
	}
	if cutoff == nil {
		return 0, nil
	}
	var total int64
	for _, t := range DataTables {
		left := c.chunk() - int(total)
		if left <= 0 {
			break
		}
		n, err := c.deleteChunk(ctx, t, c.state(t, delivered)+" AND created_at <= ?", left, *cutoff)
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

// reclaim vacuums the free pages and has the WAL monitor checkpoint, which
// truncates the database file once the WAL is fully copied back (PASSIVE
// does not wait for readers).
func (c *Cleaner) reclaim(ctx context.Context, res *Result) error {
	pages, err := c.vacuum(ctx)
	res.PagesFreed += pages
	if err != nil {
		return err
	}
	return c.db.WAL.CheckpointOnce(ctx)
}

// vacuum hands free pages back VacuumPages at a time, each step its own
// short write, and reports how many it freed.
func (c *Cleaner) vacuum(ctx context.Context) (freed int64, err error) {
	before, err := c.freelist(ctx)
	if err != nil {
		return 0, err
	}
	free := before
	defer func() {
		freed = before - free
		c.PagesFreed.Add(freed)
	}()
	q := fmt.Sprintf("PRAGMA incremental_vacuum(%d)", max(c.VacuumPages, 1))
	for free > 0 {
		if _, err := c.db.writeExec(ctx, q); err != nil {
			return 0, fmt.Errorf("incremental vacuum: %w", err)
		}
		next, err := c.freelist(ctx)
		if err != nil {
			return 0, err
		}
		if next >= free { // no progress: auto_vacuum is off on this file
			return 0, nil
		}
		free = next
	}
	return 0, nil
}

func (c *Cleaner) freelist(ctx context.Context) (int64, error) {
	var n int64
	err := c.db.writeTurn(ctx, func(ctx context.Context, conn *sql.Conn) error {
		return conn.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("freelist count: %w", err)
	}
	return n, nil
}

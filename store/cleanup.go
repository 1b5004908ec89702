package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
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
	// Daily rollups of days that ended more than RollupRetention ago are
	// deleted (cleanup_rollup.go); 0 is DefaultRollupRetention.
	RollupRetention time.Duration
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

	db     *DB
	cancel context.CancelFunc // stops the loop Open started
	wg     sync.WaitGroup
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

// Result says what one CleanOnce did. The maps are keyed by table.
type Result struct {
	Expired    map[string]int64 // deleted for age
	Relieved   map[string]int64 // delivered, deleted under disk pressure
	Evicted    map[string]int64 // undelivered, deleted under disk pressure
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

// Open runs Run in the background until Close; Interval 0 starts nothing.
func (c *Cleaner) Open() {
	if c.Interval <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wg.Go(func() { c.Run(ctx) })
}

// Close stops the loop Open started, interrupting a pass in progress, and
// waits for it.
func (c *Cleaner) Close() {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
}

// CleanOnce deletes expired rows, relieves disk pressure, then hands free
// pages back to the file system and checkpoints, so the file shrinks now.
// A failed step does not skip the next: disk pressure matters most when
// something else is already wrong.
func (c *Cleaner) CleanOnce(ctx context.Context) (Result, error) {
	start := time.Now()
	res := Result{Expired: map[string]int64{}, Relieved: map[string]int64{}, Evicted: map[string]int64{}}
	errExpire := c.expire(ctx, &res)
	errRollups := c.expireRollups(ctx, &res)
	errRelieve := c.relieve(ctx, &res)
	errVacuum := c.reclaim(ctx, &res)
	res.Duration = time.Since(start)
	c.Passes.Add(1)
	err := errors.Join(errExpire, errRollups, errRelieve, errVacuum)
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

// expire deletes data rows older than Retention once delivered (see
// Retention) and push_log rows older than Retention.
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

// delivered is the condition of a row of table that every enabled sink has.
func (c *Cleaner) delivered(table string) string {
	return deliveredWhere(table, c.PushEnabled, c.Streams)
}

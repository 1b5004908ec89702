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
	DefaultHysteresis    = 5.0                // points below it that relief goes down to
	DefaultReliefSlice   = 100 * time.Millisecond
	DefaultCleanInterval = 10 * time.Minute
	DefaultDeleteChunk   = 5000 // rows per delete transaction
	DefaultVacuumPages   = 500  // pages per incremental_vacuum step
	// DefaultPressureInterval spaces the looks at the volume (one statfs
	// each): an 8 MiB volume filled from 25% in ~20 s at full intake.
	DefaultPressureInterval = 250 * time.Millisecond
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
	// Above HighWatermark percent used (of Volume) the oldest delivered
	// rows are deleted, then the oldest undelivered ones, until the volume
	// is Hysteresis points below it. 0 turns this off. Relief holds the
	// writer's turn for ReliefSlice at a time (pressure.go).
	HighWatermark float64
	Hysteresis    float64
	ReliefSlice   time.Duration
	Volume        func() (Volume, error)
	// Interval between passes of Run; 0 turns the loop off.
	// PressureInterval between Run's looks at the volume (CheckPressure).
	Interval         time.Duration
	PressureInterval time.Duration
	// ReservePath is a file of ReserveBytes (at most a sixteenth of the
	// volume) kept beside the database, deleted to free a full volume and
	// made again once there is room (pressure_full.go). 0 bytes turns it off.
	ReservePath  string
	ReserveBytes int64
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
	// DiskFull is set when a write of the Cleaner failed for lack of space,
	// and cleared once it has room again (the reserve back in place).
	// ReserveReleases counts the reserve given up to free a full volume,
	// ReserveHeld is its size on disk now.
	// MaxPages is the bound on the database's pages the gate set for the
	// writer's last transaction, 0 when none (pressure_gate.go).
	DiskFull        atomic.Bool
	ReserveReleases atomic.Int64
	ReserveHeld     atomic.Int64
	MaxPages        atomic.Int64
	// Held is set while the writer waits at the gate for room
	// (pressure_gate.go); Holds counts the waits, GateTruncations the WAL
	// truncations the gate ran before a transaction.
	Held            atomic.Bool
	Holds           atomic.Int64
	GateTruncations atomic.Int64

	db                    *DB
	cancel                context.CancelFunc // stops the loop Open started
	wg                    sync.WaitGroup
	wake                  chan struct{} // poke asks Run for a look now
	lastPoke              atomic.Int64  // unix ns
	freeBytes, totalBytes atomic.Int64  // as last measured
	pageBytes             atomic.Int64  // the database's page size, read once
	reserveWarned         bool
	pinnedWarned          bool // a reader pins the WAL: said once
	// The gate's (pressure_gate.go): the WAL's size when it last let the
	// writer in (-1: not measured; under the turn), a decaying maximum of
	// what one transaction added to it, and when the writer began to wait.
	walAfter  int64
	txBytes   atomic.Int64
	heldSince atomic.Int64 // unix ns
}

// NewCleaner returns a Cleaner for db with the default tunables; push is
// assumed enabled, and disk usage is measured on the volume holding db.
func NewCleaner(db *DB) *Cleaner {
	c := &Cleaner{
		Retention:        DefaultRetention,
		PushEnabled:      true,
		HighWatermark:    DefaultHighWatermark,
		Hysteresis:       DefaultHysteresis,
		ReliefSlice:      DefaultReliefSlice,
		Interval:         DefaultCleanInterval,
		PressureInterval: DefaultPressureInterval,
		ReservePath:      db.Path + ReserveSuffix,
		ReserveBytes:     DefaultReserveBytes,
		DeleteChunk:      DefaultDeleteChunk,
		VacuumPages:      DefaultVacuumPages,
		Now:              time.Now,
		Logger:           slog.New(slog.DiscardHandler),
		db:               db,
		wake:             make(chan struct{}, 1),
	}
	c.Volume = func() (Volume, error) { return StatVolume(filepath.Dir(db.Path)) }
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

func newResult() Result {
	return Result{Expired: map[string]int64{}, Relieved: map[string]int64{}, Evicted: map[string]int64{}}
}

// Sum adds up the counts of one of Result's maps.
func Sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// Run puts the reserve in place, cleans once at start and then every
// Interval, and looks at the volume every PressureInterval and whenever a
// write finds it over the high watermark (poke), until ctx is done.
func (c *Cleaner) Run(ctx context.Context) {
	if c.Interval <= 0 {
		return
	}
	c.guard()
	defer c.unguard()
	c.CheckPressure(ctx)
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	var pressure <-chan time.Time
	if c.PressureInterval > 0 {
		pt := time.NewTicker(c.PressureInterval)
		defer pt.Stop()
		pressure = pt.C
		poke := c.poke
		c.db.afterWrite.Store(&poke)
		defer c.db.afterWrite.Store(nil)
	}
	for {
		if _, err := c.CleanOnce(ctx); err != nil && ctx.Err() == nil {
			c.Logger.Error("cleanup failed", "err", err)
		}
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				waiting = false
			case <-pressure:
				c.CheckPressure(ctx)
			case <-c.wake:
				c.CheckPressure(ctx)
			}
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
	c.guard() // now: the writer may already be writing
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
	res := newResult()
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

// expireTable deletes DeleteChunk rows at a time (fewer when the volume
// is short of space), each chunk its own transaction, so ingest gets the
// writer between chunks. It stops early when the volume goes over the high
// watermark: relieving it comes first, and the next pass goes on.
func (c *Cleaner) expireTable(ctx context.Context, table, where string, cutoff int64, res *Result) error {
	for {
		chunk := c.chunk()
		if c.HighWatermark > 0 {
			if over, err := c.over(); err != nil || over {
				return err
			}
			chunk = c.pressureChunk(c.freeBytes.Load())
		}
		n, err := c.deleteChunk(ctx, turns{c.db}, table, where, chunk, cutoff)
		res.Expired[table] += n
		c.Expired.Add(n)
		if err != nil {
			return fmt.Errorf("expire %s: %w", table, err)
		}
		if n < int64(chunk) {
			return nil
		}
		if chunk < c.chunk() { // short of space: bound the WAL to one chunk
			if err := c.db.WAL.CheckpointOnce(ctx); err != nil {
				return err
			}
		}
	}
}

// chunk is DeleteChunk, at least 1 so a zero cannot stop progress.
func (c *Cleaner) chunk() int { return max(c.DeleteChunk, 1) }

// deleteChunk deletes at most limit rows of table matching where, oldest
// first, in one transaction. SQLite's DELETE … LIMIT is a compile-time
// option, hence the subquery.
func (c *Cleaner) deleteChunk(ctx context.Context, s steps, table, where string, limit int, args ...any) (int64, error) {
	q := fmt.Sprintf("DELETE FROM %[1]s WHERE id IN (SELECT id FROM %[1]s WHERE %[2]s ORDER BY created_at LIMIT %[3]d)",
		table, where, limit)
	n, err := s.exec(ctx, q, args...)
	if IsFull(err) {
		c.DiskFull.Store(true)
	}
	return n, err
}

// delivered is the condition of a row of table that every enabled sink has.
func (c *Cleaner) delivered(table string) string {
	return deliveredWhere(table, c.PushEnabled, c.Streams)
}

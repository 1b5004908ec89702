package store

import (
	"context"
	"database/sql"
	"fmt"
)

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
// short write, and reports how many it freed, a failed step included.
func (c *Cleaner) vacuum(ctx context.Context) (int64, error) {
	before, err := c.freelist(ctx)
	if err != nil {
		return 0, err
	}
	left, err := c.vacuumFrom(ctx, before)
	c.PagesFreed.Add(before - left)
	return before - left, err
}

// vacuumFrom steps until the free list, free pages long, is empty or stops
// shrinking, and returns the pages left on it.
func (c *Cleaner) vacuumFrom(ctx context.Context, free int64) (int64, error) {
	q := fmt.Sprintf("PRAGMA incremental_vacuum(%d)", max(c.VacuumPages, 1))
	for free > 0 {
		if _, err := c.db.writeExec(ctx, q); err != nil {
			return free, fmt.Errorf("incremental vacuum: %w", err)
		}
		next, err := c.freelist(ctx)
		if err != nil {
			return free, err
		}
		if next >= free { // no progress: auto_vacuum is off on this file
			return free, nil
		}
		free = next
	}
	return free, nil
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

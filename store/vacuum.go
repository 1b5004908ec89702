package store

import (
	"context"
	"database/sql"
	"fmt"
)

// steps are the Cleaner's writes. Each normally takes its own turn with
// the writer (turns), so ingest gets the write connection between them;
// freeing a full volume runs them all inside one turn (held), so the
// writer cannot take the space back between two of them.
type steps interface {
	exec(ctx context.Context, q string, args ...any) (int64, error) // rows affected
	freelist(ctx context.Context) (int64, error)
	truncate(ctx context.Context) error // the WAL, or ErrPinned
}

type turns struct{ db *DB }

func (t turns) exec(ctx context.Context, q string, args ...any) (int64, error) {
	r, err := t.db.writeExec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func (t turns) freelist(ctx context.Context) (int64, error) {
	var n int64
	err := t.db.writeTurn(ctx, func(ctx context.Context, conn *sql.Conn) error {
		return conn.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&n)
	})
	return n, err
}

func (t turns) truncate(ctx context.Context) error {
	return t.db.checkpointTurn(ctx, t.db.WAL.truncateHeld)
}

// held runs steps on the write connection of a turn its caller holds.
type held struct {
	db   *DB
	conn *sql.Conn
}

func (h held) exec(ctx context.Context, q string, args ...any) (int64, error) {
	r, err := h.conn.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func (h held) freelist(ctx context.Context) (int64, error) {
	var n int64
	err := h.conn.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&n)
	return n, err
}

func (h held) truncate(ctx context.Context) error { return h.db.WAL.truncateHeld(ctx) }

// reclaim, after retention, vacuums the free pages VacuumPages at a time
// and has the WAL monitor checkpoint, which truncates the database file
// once the WAL is fully copied back (PASSIVE does not wait for readers).
func (c *Cleaner) reclaim(ctx context.Context, res *Result) error {
	pages, err := c.vacuum(ctx, turns{c.db}, max(c.VacuumPages, 1), nil)
	res.PagesFreed += pages
	if err != nil {
		return err
	}
	return c.db.WAL.CheckpointOnce(ctx)
}

// squeeze, under disk pressure, gives the volume back the space a delete
// step freed: it vacuums in steps sized to the free space, truncating the
// WAL after each, since the vacuumed pages go through the WAL first. A WAL
// pinned by a reader stops it (ErrPinned): no step gives space back then.
func (c *Cleaner) squeeze(ctx context.Context, s steps, res *Result) error {
	truncate := func() error {
		if err := s.truncate(ctx); err != nil {
			return err
		}
		_, err := c.volume()
		return err
	}
	if err := truncate(); err != nil { // the delete's own frames
		return err
	}
	pages, err := c.vacuum(ctx, s, c.vacuumStep(c.freeBytes.Load()), truncate)
	res.PagesFreed += pages
	return err
}

// vacuum hands free pages back step at a time, each step its own short
// write followed by between (when set), and reports how many it freed, a
// failed step included.
func (c *Cleaner) vacuum(ctx context.Context, s steps, step int, between func() error) (int64, error) {
	before, err := s.freelist(ctx)
	if err != nil {
		return 0, fmt.Errorf("freelist count: %w", err)
	}
	left, err := c.vacuumFrom(ctx, s, step, before, between)
	c.PagesFreed.Add(before - left)
	return before - left, err
}

// vacuumFrom steps until the free list, free pages long, is empty or stops
// shrinking, and returns the pages left on it.
func (c *Cleaner) vacuumFrom(ctx context.Context, s steps, step int, free int64, between func() error) (int64, error) {
	q := fmt.Sprintf("PRAGMA incremental_vacuum(%d)", step)
	for free > 0 {
		if _, err := s.exec(ctx, q); err != nil {
			return free, fmt.Errorf("incremental vacuum: %w", err)
		}
		next, err := s.freelist(ctx)
		if err != nil {
			return free, fmt.Errorf("freelist count: %w", err)
		}
		if next >= free { // no progress: auto_vacuum is off on this file
			return free, nil
		}
		free = next
		if between != nil {
			if err := between(); err != nil {
				return free, err
			}
		}
	}
	return free, nil
}

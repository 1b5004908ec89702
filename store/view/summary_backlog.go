package view

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/openclaw/openclaw-trace/store"
)

// backlog fills b from the database: unsynced rows per table, the last
// push attempt and each export stream's rows past its position.
func (v *View) backlog(ctx context.Context, b *Backlog) error {
	b.Unsynced = map[string]int64{}
	for _, t := range store.DataTables {
		var n int64
		if err := v.db.QueryRowContext(ctx, "SELECT count(*) FROM "+t+" WHERE synced = 0").Scan(&n); err != nil {
			return fmt.Errorf("count unsynced %s: %w", t, err)
		}
		b.Unsynced[t] = n
		b.Total += n
	}
	if err := v.exportBacklog(ctx, b); err != nil {
		return err
	}
	var p PushInfo
	var msg sql.NullString
	err := v.db.QueryRowContext(ctx, `SELECT created_at, status, http_status, events_pushed, error_message
		FROM push_log ORDER BY id DESC LIMIT 1`).Scan(&p.At, &p.Status, &p.HTTPStatus, &p.Rows, &msg)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read push_log: %w", err)
	}
	p.Error = msg.String
	b.LastPush = &p
	return nil
}

func (v *View) exportBacklog(ctx context.Context, b *Backlog) error {
	b.Exports = map[string]map[string]int64{}
	// A read-only open does not migrate: a file from before migration 3
	// has no positions table, and no export stream.
	var n int
	if err := v.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sink_positions'`).Scan(&n); err != nil {
		return fmt.Errorf("read sink positions: %w", err)
	}
	if n == 0 {
		return nil
	}
	rows, err := v.db.QueryContext(ctx, `SELECT stream, table_name, last_id FROM sink_positions`)
	if err != nil {
		return fmt.Errorf("read sink positions: %w", err)
	}
	type pos struct {
		stream, table string
		last          int64
	}
	var ps []pos
	for rows.Next() {
		var p pos
		if err := rows.Scan(&p.stream, &p.table, &p.last); err != nil {
			rows.Close()
			return fmt.Errorf("read sink positions: %w", err)
		}
		ps = append(ps, p)
	}
	rows.Close()
	for _, p := range ps {
		if !slices.Contains(store.DataTables, p.table) {
			continue
		}
		var n int64
		if err := v.db.QueryRowContext(ctx, "SELECT count(*) FROM "+p.table+" WHERE id > ?", p.last).Scan(&n); err != nil {
			return fmt.Errorf("count export backlog: %w", err)
		}
		if b.Exports[p.stream] == nil {
			b.Exports[p.stream] = map[string]int64{}
		}
		b.Exports[p.stream][p.table] = n
	}
	return nil
}

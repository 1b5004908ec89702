package view

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/openclaw/openclaw-trace/store"
)

// Backlog is what the sinks have not delivered yet, from the database.
type Backlog struct {
	Unsynced map[string]int64 `json:"unsynced"` // rows with synced = 0, by table
	Total    int64            `json:"total"`
	LastPush *PushInfo        `json:"last_push"` // newest push_log row; null before the first
	// Exports are the rows past each export stream's position (the OTLP
	// exporter's, in sink_positions), by stream and table. A stream that
	// has delivered nothing yet has no position and is not listed.
	Exports map[string]map[string]int64 `json:"exports"`
}

// PushInfo is one push attempt, from push_log.
type PushInfo struct {
	At         int64  `json:"at"`
	Status     string `json:"status"`
	HTTPStatus *int64 `json:"http_status"`
	Rows       int64  `json:"rows"`
	Error      string `json:"error,omitempty"`
}

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

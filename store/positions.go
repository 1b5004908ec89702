package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/openclaw/openclaw-trace/codec"
)

// Sinks other than the push (the OTLP exporter) keep a position per table
// and stream: the last id delivered. Rows are read past it in id order,
// synced or not, so every sink gets every row. Ids only grow and a reader
// sees whole committed batches, so no row can appear behind a position.

// pageAfterSQL is the push's page query of each table without its synced
// condition.
var pageAfterSQL = func() map[string]string {
	m := make(map[string]string, len(pageSQLs))
	const synced, all = "WHERE synced = 0 AND id > ?", "WHERE id > ?"
	for t, q := range pageSQLs {
		if !strings.Contains(q, synced) {
			// Unchanged, the query would hide from the sinks every row the push has sent.
			panic("store: page query of " + t + " lost its synced condition")
		}
		m[t] = strings.Replace(q, synced, all, 1)
	}
	return m
}()

// PageAfter returns up to limit rows of table with id > afterID, oldest
// first, as JSON objects like UnsyncedPage's.
func (db *DB) PageAfter(ctx context.Context, table string, afterID int64, limit int) ([]codec.Row, error) {
	q, ok := pageAfterSQL[table]
	if !ok {
		return nil, fmt.Errorf("read page: unknown table %q", table)
	}
	return db.page(ctx, q, table, afterID, limit)
}

// Position returns the last id stream delivered of table, 0 if none.
func (db *DB) Position(ctx context.Context, stream, table string) (int64, error) {
	var id int64
	err := db.read.QueryRowContext(ctx,
		`SELECT last_id FROM sink_positions WHERE stream = ? AND table_name = ?`, stream, table).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read position %s/%s: %w", stream, table, err)
	}
	return id, nil
}

// Advance saves id as stream's position in table; a position never moves
// back.
func (db *DB) Advance(ctx context.Context, stream, table string, id int64) error {
	if codec.TableNamed(table) == nil {
		return fmt.Errorf("advance position: unknown table %q", table)
	}
	_, err := db.writeExec(ctx, `INSERT INTO sink_positions (stream, table_name, last_id, updated_at)
		VALUES (?, ?, ?, CAST(unixepoch('subsec') * 1000 AS INTEGER))
		ON CONFLICT (stream, table_name) DO UPDATE SET last_id = max(last_id, excluded.last_id),
			updated_at = excluded.updated_at`, stream, table, id)
	if err != nil {
		return fmt.Errorf("advance position %s/%s: %w", stream, table, err)
	}
	return nil
}

// CountAfter counts the rows of table with id > afterID.
func (db *DB) CountAfter(ctx context.Context, table string, afterID int64) (int64, error) {
	if codec.TableNamed(table) == nil {
		return 0, fmt.Errorf("count rows: unknown table %q", table)
	}
	var n int64
	if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE id > ?", afterID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows %s: %w", table, err)
	}
	return n, nil
}

// deliveredWhere is the SQL condition of a row of table that every
// enabled sink is done with: synced or set aside (refused by the receiver:
// no push will ever send it) when the push is on, and at or before the
// position of each stream that reads table. With no sink at all it is
// true: nothing will ever deliver the rows.
func deliveredWhere(table string, push bool, streams map[string][]string) string {
	var parts []string
	if push {
		parts = append(parts, "synced <> 0")
	}
	for _, s := range streams[table] {
		parts = append(parts, fmt.Sprintf(
			"id <= coalesce((SELECT last_id FROM sink_positions WHERE stream = '%s' AND table_name = '%s'), 0)",
			strings.ReplaceAll(s, "'", "''"), table))
	}
	if len(parts) == 0 {
		return "1"
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

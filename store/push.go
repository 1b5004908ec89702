package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/openclaw/openclaw-trace/codec"
)

// markChunk bounds the ids of one UPDATE, well under SQLite's limit on
// bound variables (32766 since 3.32, 999 before).
const markChunk = 500

// UnsyncedPage returns up to limit unsynced rows of table with id > afterID,
// oldest first. Pass the last id of a page to read the next one.
func (db *DB) UnsyncedPage(ctx context.Context, table string, afterID int64, limit int) ([]codec.Row, error) {
	q, ok := pageSQLs[table]
	if !ok {
		return nil, fmt.Errorf("read unsynced: unknown table %q", table)
	}
	return db.page(ctx, q, table, afterID, limit)
}

// page runs a page query (id > ?, LIMIT ?) of table.
func (db *DB) page(ctx context.Context, q, table string, afterID int64, limit int) ([]codec.Row, error) {
	rows, err := db.read.QueryContext(ctx, q, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("read page %s: %w", table, err)
	}
	defer rows.Close()
	page := make([]codec.Row, 0, limit)
	for rows.Next() {
		var r codec.Row
		var b []byte
		if err := rows.Scan(&r.ID, &b); err != nil {
			return nil, fmt.Errorf("read page %s: %w", table, err)
		}
		r.JSON = b
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read page %s: %w", table, err)
	}
	return page, nil
}

// MarkSynced sets synced and pushed_at on the rows of table with the given
// ids, in one short transaction in its write turn (it waits behind the
// ingest writer's batch, and the writer behind it). Rows already synced
// keep their first pushed_at.
func (db *DB) MarkSynced(ctx context.Context, table string, ids []int64, pushedAt int64) error {
	if codec.TableNamed(table) == nil {
		return fmt.Errorf("mark synced: unknown table %q", table)
	}
	if len(ids) == 0 {
		return nil
	}
	err := db.writeTurn(ctx, func(ctx context.Context, conn *sql.Conn) error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for start := 0; start < len(ids); start += markChunk {
			chunk := ids[start:min(start+markChunk, len(ids))]
			if err := markChunkTx(ctx, tx, table, chunk, pushedAt); err != nil {
				return err
			}
		}
		return tx.Commit()
	})
	if err != nil {
		return fmt.Errorf("mark synced %s: %w", table, err)
	}
	return nil
}

func markChunkTx(ctx context.Context, tx *sql.Tx, table string, ids []int64, pushedAt int64) error {
	args := make([]any, 0, len(ids)+1)
	args = append(args, pushedAt)
	for _, id := range ids {
		args = append(args, id)
	}
	q := "UPDATE " + table + " SET synced = 1, pushed_at = ? WHERE synced = 0 AND id IN (?" +
		strings.Repeat(", ?", len(ids)-1) + ")"
	_, err := tx.ExecContext(ctx, q, args...)
	return err
}

// SetAside marks a row of table the push receiver refuses on its own: it
// stays in the database (synced = 2, pushed_at = at, push_error = the
// answer), no page of UnsyncedPage holds it again, and retention deletes
// it like a delivered row. A row already synced or set aside is left as
// it is.
func (db *DB) SetAside(ctx context.Context, table string, id int64, answer string, at int64) error {
	if codec.TableNamed(table) == nil {
		return fmt.Errorf("set aside: unknown table %q", table)
	}
	_, err := db.writeExec(ctx, "UPDATE "+table+" SET synced = 2, pushed_at = ?, push_error = ? WHERE id = ? AND synced = 0",
		at, answer, id)
	if err != nil {
		return fmt.Errorf("set aside %s row %d: %w", table, id, err)
	}
	return nil
}

// SetAsideCount counts the rows set aside (SetAside) in every data table.
func (db *DB) SetAsideCount(ctx context.Context) (int64, error) {
	var total int64
	for _, t := range DataTables {
		var n int64
		if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM "+t+" WHERE synced = 2").Scan(&n); err != nil {
			return 0, fmt.Errorf("count set aside %s: %w", t, err)
		}
		total += n
	}
	return total, nil
}

// LogPush records one push attempt in push_log.
func (db *DB) LogPush(ctx context.Context, a codec.PushAttempt) error {
	_, err := db.writeExec(ctx, `INSERT INTO push_log
		(created_at, batch_id, status, http_status, events_pushed, bytes, error_message, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.At, a.BatchID, a.Status, nullIfZero(a.HTTPStatus), a.Rows, a.Bytes, nullIfEmpty(a.Error), a.DurationMS)
	if err != nil {
		return fmt.Errorf("log push: %w", err)
	}
	return nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

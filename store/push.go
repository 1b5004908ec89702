package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
)

// PushRow is one unsynced row ready to send: its local id (to mark it
// later) and its columns as one JSON object. It is an alias of an unnamed
// struct so that push can declare the identical type without importing
// store (packages do not import each other; cmd wires them).
type PushRow = struct {
	ID   int64
	JSON json.RawMessage
}

// PushAttempt is one push_log row: one HTTP attempt of one push body.
// An alias for the same reason as PushRow.
type PushAttempt = struct {
	At         int64  // unix ms when the attempt started
	BatchID    string // the body's batch_id; the same for its retries
	Status     string // "ok" or "error"
	HTTPStatus int    // 0 when no answer came (stored as NULL)
	Rows       int    // rows acknowledged by this attempt
	Bytes      int64  // uncompressed body size
	DurationMS int64
	Error      string // "" when none (stored as NULL); never holds the token
}

// markChunk bounds the ids of one UPDATE, well under SQLite's limit on
// bound variables (32766 since 3.32, 999 before).
const markChunk = 500

// pushColumns lists, per data table, the columns sent for a row: all but
// id, synced and pushed_at (local bookkeeping the receiver has no use for).
// metadata is last and embedded as a JSON object, not a string.
var pushColumns = map[string][]string{
	"llm_traces": {"trace_id", "created_at", "provider", "model", "input_text", "output_text",
		"prompt_tokens", "completion_tokens", "total_tokens", "cache_read_tokens", "cache_write_tokens",
		"reasoning_tokens", "cost_usd", "latency_ms", "ttft_ms", "status", "error_type"},
	"error_events": {"trace_id", "created_at", "error_type", "message", "code", "stack_trace", "severity"},
	"system_metrics": {"trace_id", "created_at", "cpu_pct", "mem_current_bytes", "mem_limit_bytes",
		"mem_rss_bytes", "disk_total_bytes", "disk_used_bytes", "disk_free_bytes", "disk_pct",
		"io_read_bytes", "io_write_bytes"},
	"log_events": {"trace_id", "created_at", "kind", "subsystem", "channel", "level", "message"},
}

// pageSQL holds the page query of each data table, built once.
var pageSQL = func() map[string]string {
	m := make(map[string]string, len(pushColumns))
	for table, cols := range pushColumns {
		args := make([]string, 0, len(cols)+1)
		for _, c := range cols {
			args = append(args, fmt.Sprintf("'%s', %s", c, c))
		}
		// SQLite builds the JSON, so Go never decodes and re-encodes a row.
		// A metadata value that is not valid JSON is sent as a string rather
		// than failing the query: one bad row must not block every push.
		args = append(args, `'metadata', CASE WHEN json_valid(metadata) THEN json(metadata) ELSE metadata END`)
		m[table] = "SELECT id, json_object(" + strings.Join(args, ", ") + ") FROM " + table +
			" WHERE synced = 0 AND id > ? ORDER BY id LIMIT ?"
	}
	return m
}()

// UnsyncedPage returns up to limit unsynced rows of table with id > afterID,
// oldest first. Pass the last id of a page to read the next one.
func (db *DB) UnsyncedPage(ctx context.Context, table string, afterID int64, limit int) ([]PushRow, error) {
	q, ok := pageSQL[table]
	if !ok {
		return nil, fmt.Errorf("read unsynced: unknown table %q", table)
	}
	rows, err := db.read.QueryContext(ctx, q, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("read unsynced %s: %w", table, err)
	}
	defer rows.Close()
	page := make([]PushRow, 0, limit)
	for rows.Next() {
		var r PushRow
		var b []byte
		if err := rows.Scan(&r.ID, &b); err != nil {
			return nil, fmt.Errorf("read unsynced %s: %w", table, err)
		}
		r.JSON = b
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read unsynced %s: %w", table, err)
	}
	return page, nil
}

// MarkSynced sets synced and pushed_at on the rows of table with the given
// ids, in one short transaction on the writer connection (it waits behind
// the ingest writer's batch, and the writer behind it). Rows already synced
// keep their first pushed_at.
func (db *DB) MarkSynced(ctx context.Context, table string, ids []int64, pushedAt int64) error {
	if _, ok := pushColumns[table]; !ok {
		return fmt.Errorf("mark synced: unknown table %q", table)
	}
	if len(ids) == 0 {
		return nil
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("mark synced %s: %w", table, err)
	}
	defer tx.Rollback()
	for start := 0; start < len(ids); start += markChunk {
		chunk := ids[start:min(start+markChunk, len(ids))]
		if err := markChunkTx(ctx, tx, table, chunk, pushedAt); err != nil {
			return fmt.Errorf("mark synced %s: %w", table, err)
		}
	}
	if err := tx.Commit(); err != nil {
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

// LogPush records one push attempt in push_log.
func (db *DB) LogPush(ctx context.Context, a PushAttempt) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO push_log
		(created_at, batch_id, status, http_status, events_pushed, bytes, error_message, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.At, a.BatchID, a.Status, nullIfZero(a.HTTPStatus), a.Rows, a.Bytes, nullIfEmpty(a.Error), a.DurationMS)
	if err != nil {
		return fmt.Errorf("log push: %w", err)
	}
	return nil
}

func nullIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

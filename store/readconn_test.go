package store

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// TestNewReaderDuringWriteTx: a reader connection opened while the writer
// holds its transaction (every pooled reader busy, say with /v1/summary)
// reads at once. Its pragmas once asked for the write lock, so it waited
// out busy_timeout (10 s) and failed; the writer reading its day's rollup
// keys that way lost the batch's calls as write_error.
func TestNewReaderDuringWriteTx(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	// Every pooled reader is taken and stays taken: the next read needs a
	// new connection.
	for range DefaultReadConns - 1 {
		c, err := db.read.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	db.read.SetMaxIdleConns(0) // no idle one to reuse
	err := db.writeTurn(ctx, func(ctx context.Context, conn *sql.Conn) error {
		tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "UPDATE rollup_state SET backfill = backfill"); err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		var n int
		start := time.Now()
		if err := db.read.QueryRowContext(rctx, "SELECT count(*) FROM llm_traces").Scan(&n); err != nil {
			t.Errorf("a new reader during the write transaction: %v after %v", err, time.Since(start).Round(time.Millisecond))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

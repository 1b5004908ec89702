package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Every write to the database, and every checkpoint, takes a turn: it
// holds writeMu for its duration, so writes never interleave on the one
// write connection and a checkpoint never runs beside the writer (the
// reason is in wal.go). writeTurn and checkpointTurn are the only paths to
// the write and checkpoint connections once Open has returned.

// writeTurn runs f on the write connection in its turn: after the
// writer's transaction or the checkpoint in progress, before the next.
func (db *DB) writeTurn(ctx context.Context, f func(ctx context.Context, conn *sql.Conn) error) error {
	if after := db.afterWrite.Load(); after != nil {
		defer (*after)()
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("write connection: %w", err)
	}
	defer conn.Close()
	return f(ctx, conn)
}

// writeExec runs one statement in its turn.
func (db *DB) writeExec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	var r sql.Result
	err := db.writeTurn(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var err error
		r, err = conn.ExecContext(ctx, q, args...)
		return err
	})
	return r, err
}

// checkpointTurn runs f, which uses the checkpoint connection, in its turn.
func (db *DB) checkpointTurn(ctx context.Context, f func(ctx context.Context) error) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	return f(ctx)
}

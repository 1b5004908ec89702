package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/openclaw/openclaw-trace/codec"
)

// Cursor returns the log follower's position saved for key by the writer,
// or nil when none was saved.
func (db *DB) Cursor(ctx context.Context, key string) (*codec.Cursor, error) {
	c := codec.Cursor{Key: key}
	var dev, inode int64
	err := db.read.QueryRowContext(ctx, `SELECT file, dev, inode, offset FROM log_cursors WHERE key = ?`, key).
		Scan(&c.File, &dev, &inode, &c.Offset)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read log cursor: %w", err)
	}
	c.Dev, c.Inode = uint64(dev), uint64(inode)
	return &c, nil
}

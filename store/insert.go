package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"

	"github.com/openclaw/openclaw-trace/codec"
)

// cursorSQL saves the log follower's position; log_cursors is store's own
// table, not a data table.
const cursorSQL = `INSERT INTO log_cursors (key, file, dev, inode, offset, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET file = excluded.file, dev = excluded.dev, inode = excluded.inode,
		offset = excluded.offset, updated_at = excluded.updated_at`

// rawConn is what the writer needs of the driver's connection.
type rawConn interface {
	driver.ConnPrepareContext
	driver.ConnBeginTx
}

// writerStmts are the writer's statements, prepared on one connection.
type writerStmts struct {
	insert map[*codec.Table]driver.StmtExecContext
	cursor driver.StmtExecContext
	rollup driver.StmtExecContext // upsertRollupSQL
}

// prepare makes sure the statements are prepared on dc, the writer's
// connection as database/sql hands it out; a new connection (the pool
// replaced a broken one) gets them prepared again.
func (w *Writer) prepare(ctx context.Context, dc any) (rawConn, error) {
	c, ok := dc.(rawConn)
	if !ok {
		return nil, fmt.Errorf("sqlite driver connection %T lacks PrepareContext or BeginTx", dc)
	}
	if w.stmtConn == dc {
		return c, nil
	}
	w.closeStmts(dc)
	w.stmts.insert = make(map[*codec.Table]driver.StmtExecContext, codec.NumDataTables)
	for _, t := range codec.DataTables {
		s, err := prepareExec(ctx, c, insertSQL(t))
		if err != nil {
			w.closeStmts(dc)
			return nil, fmt.Errorf("prepare %s insert: %w", t.Name, err)
		}
		w.stmts.insert[t] = s
	}
	s, err := prepareExec(ctx, c, cursorSQL)
	if err != nil {
		w.closeStmts(dc)
		return nil, fmt.Errorf("prepare log cursor insert: %w", err)
	}
	w.stmts.cursor = s
	if w.stmts.rollup, err = prepareExec(ctx, c, upsertRollupSQL); err != nil {
		w.closeStmts(dc)
		return nil, fmt.Errorf("prepare rollup upsert: %w", err)
	}
	w.stmtConn = dc
	return c, nil
}

func prepareExec(ctx context.Context, c rawConn, q string) (driver.StmtExecContext, error) {
	s, err := c.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	es, ok := s.(driver.StmtExecContext)
	if !ok {
		s.Close()
		return nil, fmt.Errorf("sqlite driver statement %T lacks ExecContext", s)
	}
	return es, nil
}

// closeStmts closes the statements if they belong to dc, the connection
// in hand, and forgets them either way: statements of a connection the
// pool has replaced died with it (finalizing one then crashes the driver).
// prepare fills stmts.insert before stmtConn, so a half-prepared set is
// closed on the connection it was prepared on.
func (w *Writer) closeStmts(dc any) {
	if w.stmtConn == dc || w.stmtConn == nil {
		for _, s := range w.stmts.insert {
			s.(driver.Stmt).Close()
		}
		if w.stmts.cursor != nil {
			w.stmts.cursor.(driver.Stmt).Close()
		}
		if w.stmts.rollup != nil {
			w.stmts.rollup.(driver.Stmt).Close()
		}
	}
	w.stmts, w.stmtConn = writerStmts{}, nil
}

// rowArgs turns the column values of ev, a row of t, into the driver's
// arguments in w.args, reused from row to row: database/sql would allocate
// and convert them anew for every row.
func (w *Writer) rowArgs(t *codec.Table, ev *codec.Event) ([]driver.NamedValue, error) {
	w.args = w.args[:0]
	for i, c := range t.Columns {
		v, err := driverValue(c.Value(ev))
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		w.args = append(w.args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	return w.args, nil
}

// cursorArgs are the arguments of cursorSQL for c, saved at unix ms now.
func (w *Writer) cursorArgs(c *codec.Cursor, now int64) []driver.NamedValue {
	w.args = w.args[:0]
	for i, v := range []any{c.Key, c.File, int64(c.Dev), int64(c.Inode), c.Offset, now} {
		w.args = append(w.args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	return w.args
}

// driverValue converts a column value as codec.Column describes it into
// one the driver takes: pointers are dereferenced, a nil one is NULL, as
// database/sql does it; a metadata map is stored as JSON text, an empty
// one as NULL.
func driverValue(a any) (any, error) {
	switch v := a.(type) {
	case *string:
		if v != nil {
			return *v, nil
		}
		return nil, nil
	case *int64:
		if v != nil {
			return *v, nil
		}
		return nil, nil
	case *float64:
		if v != nil {
			return *v, nil
		}
		return nil, nil
	case map[string]any:
		if len(v) == 0 {
			return nil, nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode metadata: %w", err)
		}
		return string(b), nil
	case nil, string, int64, float64:
		return v, nil
	}
	return nil, fmt.Errorf("unsupported value type %T", a)
}

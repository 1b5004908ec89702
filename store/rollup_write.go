package store

import (
	"context"
	"database/sql/driver"

	"github.com/openclaw/openclaw-trace/codec"
)

// addRollups adds the calls of batch to the daily rollups, in the
// writer's transaction: they commit with the rows or not at all.
func (w *Writer) addRollups(ctx context.Context, batch []codec.Event) error {
	if w.rollups == nil {
		w.rollups = newRollups(w.db.Location, w.db.rollupKeysPerDay(), func(day string) (map[rollupKey]bool, error) {
			return w.db.rollupKeys(context.Background(), day)
		})
	}
	clear(w.rollups.rows) // left over from a transaction that failed
	for i := range batch {
		if t := batch[i].Trace; t != nil {
			if err := w.rollups.add(t); err != nil {
				return err
			}
		}
	}
	return w.rollups.flush(func(args []driver.NamedValue) error {
		_, err := w.stmts.rollup.ExecContext(ctx, args)
		return err
	})
}

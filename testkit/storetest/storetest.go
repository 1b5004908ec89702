// Package storetest opens databases and writes events for the tests of
// the packages that read the store (push, push/otlp, store/view): one copy
// instead of one per package.
package storetest

import (
	"path/filepath"
	"testing"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
)

// OpenDB opens a fresh database in a temp dir, as the daemon does, and
// closes it when the test ends.
func OpenDB(tb testing.TB) *store.DB {
	tb.Helper()
	db := store.NewDB(filepath.Join(tb.TempDir(), "trace.db"))
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

// WriteEvents stores evs through the store's Writer, as ingest does, and
// fails the test unless every one was written.
func WriteEvents(tb testing.TB, db *store.DB, evs ...codec.Event) {
	tb.Helper()
	in := make(chan codec.Event, len(evs))
	for _, ev := range evs {
		in <- ev
	}
	close(in)
	w := store.NewWriter(db, in)
	w.BatchSize = 500
	if err := w.Run(); err != nil {
		tb.Fatal(err)
	}
	var written int64
	for i := range w.Counters {
		written += w.Counters[i].Written.Load()
	}
	if written != int64(len(evs)) {
		tb.Fatalf("wrote %d of %d events (the writer's log says why)", written, len(evs))
	}
}

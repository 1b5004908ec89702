package view

import (
	"database/sql"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/testkit/reap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(reap.Watch(m)) }

func ptr[T any](v T) *T { return &v }

// openDB opens a fresh database in a temp dir, as the daemon does, and
// closes it at the end.
func openDB(tb testing.TB) *store.DB {
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

// writeEvents stores evs through the store's Writer, as ingest does.
func writeEvents(tb testing.TB, db *store.DB, evs ...codec.Event) {
	tb.Helper()
	in := make(chan codec.Event, len(evs))
	for _, ev := range evs {
		in <- ev
	}
	close(in)
	if err := store.NewWriter(db, in).Run(); err != nil {
		tb.Fatal(err)
	}
}

// rawExec runs statements on the file through a connection of its own:
// the tests' way to plant what the writer would never write.
func rawExec(tb testing.TB, path string, stmts ...string) {
	tb.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	for _, q := range stmts {
		if _, err := raw.Exec(q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
}

package view

import (
	"database/sql"
	"testing"

	"go.uber.org/goleak"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/store"
	"github.com/openclaw/openclaw-trace/testkit/reap"
	"github.com/openclaw/openclaw-trace/testkit/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(reap.Watch(m)) }

func ptr[T any](v T) *T { return &v }

func openDB(tb testing.TB) *store.DB { return storetest.OpenDB(tb) }

func writeEvents(tb testing.TB, db *store.DB, evs ...codec.Event) {
	tb.Helper()
	storetest.WriteEvents(tb, db, evs...)
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

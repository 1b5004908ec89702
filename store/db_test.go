package store

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/reap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(reap.Watch(m)) }

// MustOpenDB opens a fresh database in a temp dir and closes it at the end.
func MustOpenDB(tb testing.TB) *DB {
	tb.Helper()
	db := NewDB(filepath.Join(tb.TempDir(), "trace.db"))
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

func TestPragmas(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	for name, want := range map[string]string{
		"journal_mode": "wal",
		"busy_timeout": "10000",
		"auto_vacuum":  "2",
		"synchronous":  "1",
		"foreign_keys": "1",
		"user_version": strconv.Itoa(len(migrations)),
	} {
		got, err := db.Pragma(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", name, got, want)
		}
	}
	// The read pool must carry the same pragmas.
	var bt string
	if err := db.Reader().QueryRow("PRAGMA busy_timeout").Scan(&bt); err != nil || bt != "10000" {
		t.Errorf("reader busy_timeout = %q, %v", bt, err)
	}
	if _, err := db.Reader().Exec("DELETE FROM llm_traces"); err == nil {
		t.Error("read pool accepted a write")
	}
}

func TestReopenKeepsSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.db")
	for i := 0; i < 2; i++ {
		db := NewDB(path)
		if err := db.Open(); err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		v, _ := db.Pragma(context.Background(), "user_version")
		if want := strconv.Itoa(len(migrations)); v != want {
			t.Errorf("open #%d: user_version %s, want %s", i+1, v, want)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, wal := NewDB(path).Sizes(); wal != 0 {
		t.Errorf("WAL left after close: %d bytes", wal)
	}
}

func TestOpenMissingDir(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "nope", "trace.db"))
	if err := db.Open(); err == nil {
		db.Close()
		t.Fatal("open in a missing directory succeeded")
	}
}

func TestUnsyncedCount(t *testing.T) {
	db := MustOpenDB(t)
	in := make(chan codec.Event, 10)
	w := NewWriter(db, in)
	in <- traceEvent("a")
	in <- errorEvent()
	close(in)
	if err := w.Run(); err != nil {
		t.Fatal(err)
	}
	n, err := db.UnsyncedCount(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("unsynced = %d, %v; want 2", n, err)
	}
}

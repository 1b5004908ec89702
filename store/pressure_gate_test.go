package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// openPressured opens a database on an 8 MiB tmpfs, with a writer fed by
// the returned channel and a running Cleaner (one pass at start, then the
// pressure looks), all closed when the test ends.
func openPressured(t *testing.T) (db *DB, c *Cleaner, w *Writer, in chan codec.Event, dir string) {
	dir = mountTmpfs(t, "8m")
	db = NewDB(filepath.Join(dir, "trace.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	in = make(chan codec.Event, 4096)
	w = NewWriter(db, in)
	wait := startWriter(t, w)
	t.Cleanup(func() { close(in); wait() })
	c = NewCleaner(db)
	c.Interval = time.Hour
	c.Logger = failureLog(t)
	w.Logger = c.Logger
	c.Open()
	t.Cleanup(c.Close)
	return db, c, w, in, dir
}

// writable waits until the volume is relieved (below the high watermark,
// the reserve in place, nothing reported full), then has the writer write
// 100 more events, every one of them.
func writable(t *testing.T, c *Cleaner, w *Writer, in chan<- codec.Event, from int) {
	t.Helper()
	poll.Until(t, "the volume relieved", 10*time.Second, func() bool {
		over, err := c.over()
		return err == nil && !over && !c.DiskFull.Load() && c.ReserveHeld.Load() > 0
	})
	before, errsBefore := written(w), writeErrs(w)
	const after = 100
	for i := range after {
		in <- bigTrace(from + i)
	}
	poll.Until(t, "the events after the load", 10*time.Second, func() bool { return written(w)+writeErrs(w) == before+errsBefore+after })
	if got := written(w) - before; got != after {
		t.Errorf("after the load %d of %d events written (%d write errors)", got, after, writeErrs(w)-errsBefore)
	}
}

// A reader that keeps its snapshot while the writer fills the volume pins
// the WAL: no checkpoint can copy it back or start it over, so every
// transaction makes it longer. Before the gate it grew into the last free
// bytes of the volume, and once the reader was done nothing could
// checkpoint it (the pages past the database file's end needed megabytes
// the volume no longer had, the reserve released or not): the volume
// stayed full for good, the same as when the writer outran the WAL
// monitor's checkpoints. Now the writer waits at the gate while the WAL is
// pinned, and nothing is lost.
func TestWALPinnedAtFullIntake(t *testing.T) {
	db, c, w, in, dir := openPressured(t)
	poll.Until(t, "the first pressure look", 10*time.Second, func() bool { return c.ReserveHeld.Load() > 0 })
	tx, err := db.Reader().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := tx.QueryRow("SELECT count(*) FROM llm_traces").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	const n = 2000 // ~8 MB of text, the size of the volume
	for i := range n {
		in <- bigTrace(i)
	}
	poll.Until(t, "the writer waiting, done or out of space", time.Minute, func() bool {
		return c.Held.Load() || written(w)+writeErrs(w) == n || freeBytes(t, dir) < 64<<10
	})
	_, wal := db.Sizes()
	t.Logf("WAL pinned: %d KiB, %d KiB free, writer waiting %v", wal>>10, freeBytes(t, dir)>>10, c.Held.Load())
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, fmt.Sprintf("%d events written or refused", n), time.Minute, func() bool { return written(w)+writeErrs(w) == n })
	if got := writeErrs(w); got != 0 {
		t.Errorf("%d events lost to write_error; want the writer to wait instead", got)
	}
	writable(t, c, w, in, n)
	t.Logf("written %d, write_error %d, evicted %d, writer held %d times, %d KiB free",
		written(w), writeErrs(w), c.Evicted.Load(), c.Holds.Load(), freeBytes(t, dir)>>10)
	integrityOK(t, db)
}

// The writer's rate with and without a Cleaner's gate on its path, on a
// volume with room to spare: the gate's cost is then one statfs and one
// stat per transaction.
func BenchmarkWriterGate(b *testing.B) {
	for _, gated := range []bool{false, true} {
		b.Run(fmt.Sprintf("gated=%v", gated), func(b *testing.B) {
			db := MustOpenDB(b)
			if gated {
				NewCleaner(db).guard()
			}
			benchWriter1KB(b, db)
		})
	}
}

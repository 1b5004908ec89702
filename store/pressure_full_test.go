package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// mountTmpfs mounts a tmpfs of size (mount's size= syntax, e.g. "8m") on a
// new temporary directory, unmounted when the test ends. Without the
// privilege to mount, the test is skipped, saying why, unless CI=true.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a %s tmpfs: %v (CI=true: this test must run; run it as root)", size, err)
		}
		t.Skipf("cannot mount a %s tmpfs (%v): needs root or CAP_SYS_ADMIN; it must run under CI=true", size, err)
	}
	t.Cleanup(func() {
		// Lazily: a test that failed may have left the database open.
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// failureLog is a debug logger whose lines are printed if t fails.
func failureLog(t *testing.T) *slog.Logger {
	var mu sync.Mutex
	var buf bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			t.Logf("log:\n%s", buf.String())
			mu.Unlock()
		}
	})
	return slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// bigTrace is a trace of about 4 KB.
func bigTrace(i int) codec.Event {
	ev := traceEvent("m")
	text := strings.Repeat("x", 4000)
	ev.Trace.InputText = &text
	ev.Trace.CreatedAt = testNow.UnixMilli() + int64(i)
	return ev
}

func written(w *Writer) int64 { return w.Counters[codec.HTTP].Written.Load() }
func writeErrs(w *Writer) int64 {
	return w.Counters[codec.HTTP].Dropped[codec.DropWriteError].Load()
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	v, err := StatVolume(dir)
	if err != nil {
		t.Fatal(err)
	}
	return v.Free
}

func integrityOK(t *testing.T, db *DB) {
	t.Helper()
	var res string
	if err := db.Reader().QueryRow("PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Errorf("integrity_check = %q, %v", res, err)
	}
}

// An 8 MiB volume fed twice its size as fast as the writer takes it:
// the Cleaner keeps it writable (evicting the oldest rows, counted), the
// writer waits at the gate when it must rather than lose events, and
// after the load every new event is written. Before the pressure loop and
// the reserve, the volume filled within seconds and stayed full: every
// later write and every cleanup pass failed with "database or disk is
// full". Before the gate, about one run in five still ended so: the WAL
// had taken the last free bytes (pressure_gate.go).
func TestDiskPressureAtFullIntake(t *testing.T) {
	db, c, w, in, dir := openPressured(t)
	const n = 4000 // ~16 MB of text, twice the volume
	for i := range n {
		in <- bigTrace(i)
	}
	// Slow under the race detector: a minute.
	poll.Until(t, fmt.Sprintf("%d events written or refused", n), time.Minute, func() bool { return written(w)+writeErrs(w) == n })
	before, errsBefore := written(w), writeErrs(w)
	if errsBefore != 0 {
		t.Errorf("%d events lost to write_error; want the writer to wait for room instead", errsBefore)
	}
	writable(t, c, w, in, n)
	if c.Evicted.Load() == 0 {
		t.Error("nothing evicted: the load did not reach the high watermark")
	}
	t.Logf("load of %d: written %d, write_error %d, evicted %d, reserve released %d times, writer held %d times, gate truncations %d, %d KiB free",
		n, before, errsBefore, c.Evicted.Load(), c.ReserveReleases.Load(), c.Holds.Load(), c.GateTruncations.Load(), freeBytes(t, dir)>>10)
	integrityOK(t, db)
}

// fillUp writes events until the writer waits at c's gate for room (or
// fails for lack of space), empties the WAL, then fills what is left of
// the volume with a file (as another process would), so not a byte is
// free.
func fillUp(t *testing.T, c *Cleaner, db *DB, dir string) {
	t.Helper()
	in := make(chan codec.Event, 64)
	w := NewWriter(db, in)
	wait := startWriter(t, w)
	stop := make(chan struct{})
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for i := 0; ; i++ {
			select {
			case in <- bigTrace(i):
			case <-stop:
				return
			}
		}
	}()
	poll.Until(t, "the writer stopped for lack of space", time.Minute, func() bool { return writeErrs(w) > 0 || c.Held.Load() })
	close(stop)
	<-fed
	w.Stop()
	wait()
	// An empty WAL: a delete can only append to it, so it needs new space.
	if _, err := db.WAL.Checkpoint(context.Background(), Truncate); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	if free := freeBytes(t, dir); free != 0 {
		t.Fatalf("%d bytes still free", free)
	}
}

// A volume with not a byte free, the database included: a pressure pass
// releases the reserve, evicts the oldest rows, makes the reserve again
// and leaves room to write. Before, every pass failed ("delete oldest
// llm_traces: database or disk is full") and evicted nothing.
func TestFreeFullVolume(t *testing.T) {
	dir := mountTmpfs(t, "8m")
	db := NewDB(filepath.Join(dir, "trace.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	c := NewCleaner(db)
	c.Interval = 0
	c.HighWatermark = 0 // nothing evicted while filling
	c.guard()
	if err := c.CheckPressure(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.ReserveHeld.Load() != 512<<10 {
		t.Fatalf("reserve = %d bytes, want 512 KiB (a sixteenth of 8 MiB)", c.ReserveHeld.Load())
	}
	fillUp(t, c, db, dir)

	c.HighWatermark = 80
	if err := c.CheckPressure(context.Background()); err != nil {
		t.Fatalf("pressure pass on a full volume: %v", err)
	}
	if c.Evicted.Load() == 0 || c.ReserveReleases.Load() != 1 {
		t.Errorf("evicted %d, reserve released %d times; want rows evicted and 1 release", c.Evicted.Load(), c.ReserveReleases.Load())
	}
	if c.DiskFull.Load() || c.ReserveHeld.Load() == 0 {
		t.Errorf("disk full %v, reserve %d bytes: want false and the reserve back", c.DiskFull.Load(), c.ReserveHeld.Load())
	}
	writeEvents(t, db, bigTrace(1), bigTrace(2))
	integrityOK(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

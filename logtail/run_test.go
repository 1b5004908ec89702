package logtail

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
	"github.com/openclaw/openclaw-trace/testkit/poll"
)

// TestRunNoticesAppend runs the real loop and waits, with a deadline, for
// lines appended after it started.
func TestRunNoticesAppend(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	ch := make(chan codec.Event)
	f := NewFollower(path, chanSink(ch))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	appendFile(t, path, lines("run1", "run2"))
	// About 1 s by design; the deadline only stops a hang (poll.MinTimeout).
	deadline := time.After(poll.MinTimeout)
	for _, want := range []string{"run1", "run2"} {
		select {
		case ev := <-ch:
			if ev.Log.Message != want {
				t.Fatalf("got %q, want %q", ev.Log.Message, want)
			}
		case <-deadline:
			t.Fatalf("%s not seen within %v", want, poll.MinTimeout)
		}
	}
}

// TestRunBlocksThenStops: nobody reads the channel, so the follower waits
// on it; cancelling must still end Run, and the unsent line is not lost:
// the position stays before it.
func TestRunBlocksThenStops(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, lines("b1", "b2"))
	ch := make(chan codec.Event, 1)
	f := NewFollower(path, chanSink(ch))
	f.PollInterval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	poll.Until(t, "2 lines read", 2*time.Second, func() bool { return statsOf(f).LinesRead == 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if st := statsOf(f); st.Emitted != 1 {
		t.Errorf("emitted %d, want 1", st.Emitted)
	}
	first := <-ch
	again := newTester(t, path)
	again.f.Positions = positions{first.Log.Cursor}
	equal(t, "after restart", again.poll(), []string{"b2"})
}

// TestOpenClose: Open follows in the background; Close stops the loop
// even while it waits on a full channel, waits for it, and releases the
// file. PollInterval 0 starts no loop.
func TestOpenClose(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, lines("o1", "o2"))
	off := NewFollower(path, chanSink(make(chan codec.Event, 1)))
	off.PollInterval = 0
	off.Open()
	if err := off.Close(); err != nil || statsOf(off).LinesRead != 0 {
		t.Errorf("interval 0: Close() = %v, %d lines read; want nil, none", err, statsOf(off).LinesRead)
	}

	ch := make(chan codec.Event, 1)
	f := NewFollower(path, chanSink(ch))
	f.PollInterval = 10 * time.Millisecond
	f.Open()
	poll.Until(t, "2 lines read", 2*time.Second, func() bool { return statsOf(f).LinesRead == 2 }) // o2 waits for room
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if st := statsOf(f); st.Emitted != 1 || f.cur == nil || f.cur.fh != nil {
		t.Errorf("emitted %d, file open %v; want 1, released", st.Emitted, f.cur != nil && f.cur.fh != nil)
	}
	if ev := <-ch; ev.Log.Message != "o1" {
		t.Errorf("sent %q, want o1", ev.Log.Message)
	}
}

func TestRunRejectsZeroInterval(t *testing.T) {
	f := NewFollower("x", nil)
	f.PollInterval = 0
	if err := f.Run(context.Background()); err == nil {
		t.Error("no error for a zero interval")
	}
}

// TestPollPositionError: without the saved position nothing is read, since
// reading from the start would store lines twice.
func TestPollPositionError(t *testing.T) {
	path := join(t.TempDir(), "openclaw.log")
	appendFile(t, path, lines("e1"))
	ts := newTester(t, path)
	ts.f.Positions = failing{}
	if err := ts.f.Poll(context.Background()); err == nil {
		t.Fatal("no error")
	}
	if len(ts.ch) != 0 || statsOf(ts.f).ReadErrors != 1 {
		t.Errorf("read %d lines, %d errors; want none, 1", len(ts.ch), statsOf(ts.f).ReadErrors)
	}
}

type failing struct{}

func (failing) Cursor(context.Context, string) (*codec.Cursor, error) {
	return nil, errors.New("db closed")
}

// TestFinalPartialLine: a rotated file ending without a newline is done,
// so its last line is sent when the follower moves on, once, also across
// a restart from the cursor after it.
func TestFinalPartialLine(t *testing.T) {
	dir := t.TempDir()
	live := join(dir, "openclaw.log")
	appendFile(t, live, line("f1")+"f2 no newline")
	ts := newTester(t, live)
	equal(t, "partial held", ts.poll(), []string{"f1"})
	rename(t, live, join(dir, "openclaw.1.log"))
	appendFile(t, live, lines("f3"))
	equal(t, "partial sent at switch", ts.poll(), []string{"f2 no newline", "f3"})

	// Restart from the cursor after the partial line, before f3 was stored.
	fi, err := os.Stat(join(dir, "openclaw.1.log"))
	if err != nil {
		t.Fatal(err)
	}
	c := stat2cursor(t, live, join(dir, "openclaw.1.log"), fi.Size())
	again := newTester(t, live)
	again.f.Positions = positions{c}
	equal(t, "resumed after partial", again.poll(), []string{"f3"})
}

func stat2cursor(t *testing.T, key, path string, offset int64) *codec.Cursor {
	t.Helper()
	c, ok := stat(path)
	if !ok {
		t.Fatalf("stat %s", path)
	}
	return &codec.Cursor{Key: key, File: path, Dev: c.id.dev, Inode: c.id.ino, Offset: offset}
}

// TestRunRotatingWriter: a writer appends line by line (open, append,
// close, as Node's appendFileSync) and rotates the way OpenClaw does
// (.1.log to .2.log, the live file to .1.log) while Run follows; every line
// must arrive once, in order. The writer lets the follower get into the
// live file before each rotation: a follower more rotations behind than
// files are kept would lose lines to the deletions, which is not what this
// tests.
func TestRunRotatingWriter(t *testing.T) {
	dir := t.TempDir()
	live := join(dir, "openclaw.log")
	ch := make(chan codec.Event, 100)
	f := NewFollower(live, chanSink(ch))
	f.PollInterval = 2 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	defer func() { cancel(); <-done }()

	const n = 1000
	want := msgs("w", 0, n-1)
	writerErr := make(chan error, 1)
	go func() { writerErr <- writeRotating(ctx, live, want, f) }()
	var got []string
	deadline := time.After(poll.MinTimeout)
	for len(got) < n {
		select {
		case ev := <-ch:
			got = append(got, ev.Log.Message)
		case <-deadline:
			t.Fatalf("got %d of %d lines", len(got), n)
		}
	}
	if err := <-writerErr; err != nil {
		t.Fatal(err)
	}
	equal(t, "all lines once", got, want)
}

func writeRotating(ctx context.Context, live string, msgs []string, f *Follower) error {
	dir := filepath.Dir(live)
	for i, m := range msgs {
		if i > 0 && i%100 == 0 {
			for statsOf(f).LinesRead < int64(i-50) {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				time.Sleep(time.Millisecond)
			}
			os.Rename(filepath.Join(dir, "openclaw.1.log"), filepath.Join(dir, "openclaw.2.log"))
			if err := os.Rename(live, filepath.Join(dir, "openclaw.1.log")); err != nil {
				return err
			}
		}
		fh, err := os.OpenFile(live, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		_, err = fh.WriteString(line(m))
		fh.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

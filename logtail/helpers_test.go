package logtail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openclaw/openclaw-trace/codec"
)

// tester drives one Follower by calling Poll directly.
type tester struct {
	t    *testing.T
	f    *Follower
	ch   chan codec.Event
	last *codec.Cursor // of the latest event of the latest poll
	sent int64         // events taken from ch
}

// lineStats is the follower's counters at one moment, comparable with ==.
type lineStats struct {
	LinesRead, Emitted, Folded, Skipped, NotJSON, Truncated, Switches, ReadErrors int64
}

func statsOf(f *Follower) lineStats {
	s := &f.Stats
	return lineStats{LinesRead: f.Counters.Units.Load(), Emitted: f.Counters.Received.Load(),
		Folded: s.Folded.Load(), Skipped: s.Skipped.Load(), NotJSON: s.NotJSON.Load(), Truncated: s.Truncated.Load(),
		Switches: s.Switches.Load(), ReadErrors: s.ReadErrors.Load()}
}

// checkAccounting: every line read was sent, folded or skipped, every
// event received was sent (the follower drops nothing: received = sent +
// Σ dropped with no drops), and nothing else was counted.
func (ts *tester) checkAccounting() {
	ts.t.Helper()
	c, st := ts.f.Counters.Load(), statsOf(ts.f)
	if c.Received != ts.sent || c.DroppedTotal() != 0 || c.Units != c.Received+st.Folded+st.Skipped ||
		c.Written != 0 {
		ts.t.Fatalf("counts %+v, stats %+v; %d events sent", c, st, ts.sent)
	}
}

func newTester(t *testing.T, path string) *tester {
	t.Helper()
	ch := make(chan codec.Event, 10000)
	f := NewFollower(path, chanSink(ch))
	f.Now = func() time.Time { return testNow }
	f.PollInterval = 0 // tests call Poll
	t.Cleanup(func() { f.Close() })
	return &tester{t: t, f: f, ch: ch}
}

// poll runs one Poll and returns the messages of the events it sent.
func (ts *tester) poll() []string {
	ts.t.Helper()
	if err := ts.f.Poll(context.Background()); err != nil {
		ts.t.Fatalf("poll: %v", err)
	}
	var got []string
	ts.last = nil // the cursor may go back across polls (truncation), not within one
	for {
		select {
		case ev := <-ts.ch:
			got = append(got, ev.Log.Message)
			ts.checkEvent(ev)
			ts.sent++
		default:
			ts.checkAccounting()
			return got
		}
	}
}

func (ts *tester) checkEvent(ev codec.Event) {
	ts.t.Helper()
	if ev.Transport != codec.Logtail || ev.TraceID == "" || ev.Log == nil || ev.Log.Cursor == nil {
		ts.t.Fatalf("bad event %+v", ev)
	}
	if ev.Log.Cursor.Key != ts.f.Path {
		ts.t.Fatalf("cursor key %q, want %q", ev.Log.Cursor.Key, ts.f.Path)
	}
	if ts.last != nil && ts.last.File == ev.Log.Cursor.File && ev.Log.Cursor.Offset <= ts.last.Offset {
		ts.t.Fatalf("cursor went back from %+v to %+v", ts.last, ev.Log.Cursor)
	}
	ts.last = ev.Log.Cursor
}

// line is a tslog line whose message is msg.
func line(msg string) string {
	return fmt.Sprintf(`{"0":"{\"subsystem\":\"gateway\"}","1":%q,"_meta":{"logLevelId":3,"logLevelName":"INFO"},"time":"2026-03-06T19:17:15.210+01:00"}`+"\n", msg)
}

func lines(msgs ...string) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(line(m))
	}
	return b.String()
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, err := fh.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func msgs(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func join(dir string, name string) string { return filepath.Join(dir, name) }

// chanSink is a Sink over a plain channel, so tests read events from it.
type chanSink chan codec.Event

func (c chanSink) Put(ctx context.Context, ev codec.Event) error {
	select {
	case c <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
